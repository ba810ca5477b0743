"""Rules on the tumour: grade and differentiation, Ki-67, primary site."""

from __future__ import annotations

from service.criteria.inputs import ConditionFact, Measurement, PrimarySite
from service.criteria.model import Criterion, CriterionResult, EvaluationContext
from service.criteria.rules.common import met, not_met, unknown
from service.criteria.status import Status
from service.criteria.values import DateSpan, Evidence

NEEDS_KI67 = "Ki-67 proliferation index (%) of the tumour"
NEEDS_GRADE = "histological grade (G1/G2/G3)"
NEEDS_SITE = "primary tumour site (Condition coded with the NET primary site)"


def when(span: DateSpan | None) -> str:
    """Return ``2026-01-10`` or ``undated`` for use in a reason."""
    return "undated" if span is None else span.label


def _carcinoma_result(
    criterion: Criterion, carcinomas: tuple[ConditionFact, ...]
) -> CriterionResult:
    latest = carcinomas[-1]
    return not_met(
        criterion,
        f"neuroendocrine carcinoma (poorly differentiated) recorded: {latest.display} "
        f"({latest.code}, {when(latest.date)})",
        [c.evidence() for c in carcinomas],
    )


def _ki67_decision(
    criterion: Criterion, ki67: Measurement, context: EvaluationContext
) -> tuple[Status, str]:
    """Decide Ki-67 ≤ limit; return the status and a reason fragment."""
    limit = criterion.thresholds["ki67_limit"].value
    if ki67.value is None:
        return (
            Status.UNKNOWN,
            f"latest Ki-67 ({ki67.reference}) cannot be interpreted: {ki67.problem}",
        )
    status = ki67.value.decide("<=", limit)
    shown = f"Ki-67 {ki67.display} ({when(ki67.date)})"
    if status is Status.MET:
        return status, f"{shown} is at most {limit} %"
    if status is Status.NOT_MET:
        grade = " (G3)" if limit == 20 else ""
        return status, f"{shown} exceeds {limit} %{grade}"
    return status, f"{shown} straddles {limit} %"


def low_grade(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide G1/G2 (low grade, well differentiated): NEC, then Ki-67, then grade."""
    inputs = context.inputs
    if inputs.neuroendocrine_carcinoma:
        return _carcinoma_result(criterion, inputs.neuroendocrine_carcinoma)
    evidence: list[Evidence] = []
    ki67_reason = ""
    if inputs.ki67 is not None:
        status, ki67_reason = _ki67_decision(criterion, inputs.ki67, context)
        if status is Status.MET:
            return met(criterion, ki67_reason, [inputs.ki67.evidence()])
        if status is Status.NOT_MET:
            return not_met(criterion, ki67_reason, [inputs.ki67.evidence()])
        evidence.append(inputs.ki67.evidence())
    grade = inputs.grade
    prefix = f"{ki67_reason}; " if ki67_reason else ""
    if grade is not None and grade.value is not None:
        shown = f"{prefix}histological grade {grade.value} ({when(grade.date)})"
        if grade.value in ("G1", "G2"):
            return met(criterion, shown, [*evidence, grade.evidence()])
        return not_met(criterion, f"{shown} is high grade", [*evidence, grade.evidence()])
    if grade is not None:
        evidence.append(grade.evidence())
        reason = f"{prefix}latest grade ({grade.reference}) cannot be interpreted: {grade.problem}"
    elif ki67_reason:
        reason = f"{ki67_reason}, and no histological grade is recorded"
    else:
        reason = "no Ki-67 index or histological grade recorded"
    return unknown(criterion, reason, [NEEDS_KI67, NEEDS_GRADE], evidence)


def ki67_at_most(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide Ki-67 ≤ limit, using Ki-67 and neuroendocrine carcinoma only."""
    inputs = context.inputs
    if inputs.neuroendocrine_carcinoma:
        return _carcinoma_result(criterion, inputs.neuroendocrine_carcinoma)
    if inputs.ki67 is None:
        return unknown(criterion, "no Ki-67 index recorded", [NEEDS_KI67])
    status, reason = _ki67_decision(criterion, inputs.ki67, context)
    evidence = [inputs.ki67.evidence()]
    if status is Status.MET:
        return met(criterion, reason, evidence)
    if status is Status.NOT_MET:
        return not_met(criterion, reason, evidence)
    return unknown(criterion, reason, [NEEDS_KI67], evidence)


def deciding_primary_site(sites: tuple[PrimarySite, ...]) -> PrimarySite | None:
    """Return the site that decides: one that says where beats one that does not,
    then the most recent (``sites`` is ordered oldest first)."""
    located = [site for site in sites if site.drainage != "undetermined"]
    if located:
        return located[-1]
    return sites[-1] if sites else None


def portal_drained_primary(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide whether the primary tumour drains to the portal system."""
    site = deciding_primary_site(context.inputs.primary_sites)
    if site is None:
        return unknown(criterion, "no NET primary-site Condition recorded", [NEEDS_SITE])
    shown = f"primary in {site.site} ({site.code}, {site.reference})"
    if site.drainage == "portal":
        remark = "; proximal gastric primaries need review" if site.site == "stomach" else ""
        return met(criterion, f"{shown} drains to the portal system{remark}", [site.evidence()])
    if site.drainage == "not_portal":
        return not_met(criterion, f"{shown} is not drained by the portal system", [site.evidence()])
    return unknown(
        criterion,
        f"primary-site code {site.code} ({site.display}) does not say where the primary is",
        [NEEDS_SITE],
        [site.evidence()],
    )
