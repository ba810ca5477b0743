"""Rules on the primary tumour: resected, resected long enough ago, resectable."""

from __future__ import annotations

from service.criteria.inputs import ProcedureFact
from service.criteria.model import Criterion, CriterionResult, EvaluationContext
from service.criteria.rules.common import met, not_met, unknown
from service.criteria.rules.tumour import when
from service.criteria.values import days_ago

NEEDS_RESECTION = (
    "resection of the primary tumour (completed Procedure) or the MDT assessment 'primary resected'"
)
NEEDS_RESECTION_DATE = "date of the primary tumour resection"
NEEDS_RESECTABLE = "MDT assessment whether the primary tumour is resectable"


def _resection_recorded(
    criterion: Criterion, resections: tuple[ProcedureFact, ...]
) -> CriterionResult:
    latest = resections[-1]
    return met(
        criterion,
        f"resection of the primary recorded: {latest.display} ({when(latest.date)})",
        [latest.evidence()],
    )


def primary_resected(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide that the primary was resected: a completed Procedure (dated or not) wins,
    else the latest ``primary-resected`` assessment decides."""
    inputs = context.inputs
    if inputs.primary_resections:
        return _resection_recorded(criterion, inputs.primary_resections)
    assessment = inputs.primary_resected
    if assessment is None:
        return unknown(criterion, "no resection of the primary recorded", [NEEDS_RESECTION])
    if assessment.value is None:
        return unknown(
            criterion,
            f"assessment {assessment.reference} cannot be interpreted: {assessment.problem}",
            [NEEDS_RESECTION],
            [assessment.evidence()],
        )
    if assessment.value:
        return met(
            criterion,
            f"MDT assessment ({when(assessment.date)}): primary resected",
            [assessment.evidence()],
        )
    return not_met(
        criterion,
        f"MDT assessment ({when(assessment.date)}): primary not resected",
        [assessment.evidence()],
    )


def primary_resected_since(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide that the primary was resected at least ``minimum_interval`` days ago."""
    inputs = context.inputs
    days = int(criterion.thresholds["minimum_interval"].value)
    cutoff = days_ago(days, context.evaluation_date)
    if inputs.primary_resections:
        latest = inputs.primary_resections[-1]
        evidence = [latest.evidence()]
        if latest.date is None:
            return unknown(
                criterion,
                f"resection of the primary ({latest.reference}) has no date",
                [NEEDS_RESECTION_DATE],
                evidence,
            )
        shown = f"primary resected {latest.date.label} ({latest.display})"
        if latest.date.latest <= cutoff:
            return met(criterion, f"{shown}, at least {days} days ago", evidence)
        if latest.date.earliest > cutoff:
            return not_met(criterion, f"{shown}, less than {days} days ago", evidence)
        return unknown(
            criterion,
            f"{shown}: the partial date may be less than {days} days ago",
            [NEEDS_RESECTION_DATE],
            evidence,
        )
    assessment = inputs.primary_resected
    if assessment is None:
        return unknown(criterion, "no resection of the primary recorded", [NEEDS_RESECTION])
    evidence = [assessment.evidence()]
    if assessment.value is None:
        return unknown(
            criterion,
            f"assessment {assessment.reference} cannot be interpreted: {assessment.problem}",
            [NEEDS_RESECTION],
            evidence,
        )
    if not assessment.value:
        return not_met(
            criterion, f"MDT assessment ({when(assessment.date)}): primary not resected", evidence
        )
    if assessment.date is not None and assessment.date.latest <= cutoff:
        return met(
            criterion,
            f"MDT assessment 'primary resected' dated {assessment.date.label}, "
            f"at least {days} days ago",
            evidence,
        )
    return unknown(
        criterion,
        f"MDT assessment 'primary resected' ({when(assessment.date)}) does not show the "
        f"resection was at least {days} days ago",
        [NEEDS_RESECTION_DATE],
        evidence,
    )


def primary_resected_or_resectable(
    criterion: Criterion, context: EvaluationContext
) -> CriterionResult:
    """Decide that the primary is resected or resectable.

    ``primary-resected = false`` does not decide by itself: resectability then does.
    """
    inputs = context.inputs
    if inputs.primary_resections:
        return _resection_recorded(criterion, inputs.primary_resections)
    resected = inputs.primary_resected
    if resected is not None and resected.value is True:
        return met(
            criterion,
            f"MDT assessment ({when(resected.date)}): primary resected",
            [resected.evidence()],
        )
    resectable = inputs.primary_resectable
    evidence = [resected.evidence()] if resected is not None else []
    if resectable is None:
        return unknown(
            criterion,
            "no resection of the primary and no resectability assessment recorded",
            [NEEDS_RESECTION, NEEDS_RESECTABLE],
            evidence,
        )
    evidence.append(resectable.evidence())
    if resectable.value is None:
        return unknown(
            criterion,
            f"assessment {resectable.reference} cannot be interpreted: {resectable.problem}",
            [NEEDS_RESECTABLE],
            evidence,
        )
    if resectable.value:
        return met(
            criterion, f"MDT assessment ({when(resectable.date)}): primary resectable", evidence
        )
    return not_met(
        criterion, f"MDT assessment ({when(resectable.date)}): primary not resectable", evidence
    )
