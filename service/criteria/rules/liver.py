"""Rules on the liver: function (bilirubin), portal hypertension, future liver remnant."""

from __future__ import annotations

from service.criteria.model import Criterion, CriterionResult, EvaluationContext
from service.criteria.rules.common import (
    fresh_lab_problem,
    met,
    not_met,
    present_only,
    unknown,
    usable_measurement,
)
from service.criteria.rules.tumour import when
from service.criteria.status import Status
from service.criteria.values import Evidence, format_decimal

NEEDS_FLR = "future liver remnant (% of total liver volume) from volumetry"


def _needs_fresh(name: str, context: EvaluationContext) -> str:
    return f"{name} from the last {context.config.lab_freshness_days} days"


def bilirubin_within_normal(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide fresh total bilirubin ≤ upper limit of normal.

    The limit is the Observation's ``referenceRange.high`` when given, else the
    configured default (1.2 mg/dL).
    """
    lab = context.inputs.bilirubin
    needs = [_needs_fresh("total bilirubin", context)]
    if lab is None:
        return unknown(criterion, "no total bilirubin result recorded", needs)
    evidence = [lab.evidence()]
    problem = fresh_lab_problem(lab, "total bilirubin", context)
    if problem is not None or lab.value is None:
        return unknown(criterion, problem or "bilirubin cannot be interpreted", needs, evidence)
    if lab.upper_limit_problem is not None:
        return unknown(
            criterion,
            f"the reference range of {lab.reference} cannot be used: {lab.upper_limit_problem}",
            ["bilirubin reference range in a recognised unit"],
            evidence,
        )
    if lab.upper_limit is not None:
        limit, origin = lab.upper_limit, "reference range"
    else:
        limit, origin = context.config.bilirubin_upper_limit_mg_dl, "default"
    shown = f"total bilirubin {lab.display} ({when(lab.date)})"
    bound = f"the upper limit of normal {format_decimal(limit)} mg/dL ({origin})"
    status = lab.value.decide("<=", limit)
    if status is Status.MET:
        return met(criterion, f"{shown} is within {bound}", evidence)
    if status is Status.NOT_MET:
        return not_met(criterion, f"{shown} exceeds {bound}", evidence)
    return unknown(criterion, f"{shown} straddles {bound}", needs, evidence)


def no_portal_hypertension(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide absence of portal hypertension: a sign Condition or a fresh platelet count
    below the minimum rules it out; only a fresh count at or above it proves it."""
    minimum = criterion.thresholds["platelet_minimum"].value
    inputs = context.inputs
    signs = present_only(inputs.portal_hypertension_signs)
    against: list[Evidence] = [sign.evidence() for sign in signs]
    reasons = [f"{sign.display} recorded ({sign.code}, {when(sign.date)})" for sign in signs]
    lab = inputs.platelets
    needs = [_needs_fresh("platelet count", context)]
    lab_status = Status.UNKNOWN
    lab_reason = "no platelet count recorded"
    if lab is not None:
        problem = fresh_lab_problem(lab, "platelet count", context)
        if problem is not None:
            lab_reason = problem
        elif lab.value is not None:
            lab_status = lab.value.decide(">=", minimum)
            shown = f"platelets {lab.display} ({when(lab.date)})"
            lab_reason = {
                Status.MET: f"{shown} at least {minimum} 10*9/L",
                Status.NOT_MET: f"{shown} below {minimum} 10*9/L",
                Status.UNKNOWN: f"{shown} straddles {minimum} 10*9/L",
            }[lab_status]
        if lab_status is Status.NOT_MET:
            against.append(lab.evidence())
            reasons.append(lab_reason)
    if against:
        return not_met(criterion, "; ".join(reasons), against)
    if lab_status is Status.MET and lab is not None:
        return met(
            criterion,
            f"{lab_reason}, and no portal-hypertension sign recorded",
            [lab.evidence()],
        )
    evidence = [lab.evidence()] if lab is not None else []
    return unknown(criterion, lab_reason, needs, evidence)


def future_liver_remnant(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide FLR ≥ the threshold for this liver: cirrhosis, else significant
    underlying disease (steatosis, toxic injury), else normal liver.

    A recorded FLR decides. Without one, the latest ``major-hepatectomy-planned``
    assessment = false is ``met`` (000: volumetry when extensive resection is planned);
    true or absent leaves it ``unknown``, needing the FLR (criteria.md §7, v1.1).
    """
    inputs = context.inputs
    liver_evidence: list[Evidence] = []
    cirrhosis = present_only(inputs.cirrhosis)
    significant = present_only(inputs.significant_liver_disease)
    if cirrhosis:
        threshold = criterion.thresholds["cirrhosis"].value
        liver = f"cirrhotic liver ({cirrhosis[-1].code})"
        liver_evidence = [cirrhosis[-1].evidence()]
    elif significant:
        threshold = criterion.thresholds["significant_liver_disease"].value
        fact = significant[-1]
        liver = f"significant underlying liver disease ({fact.code})"
        liver_evidence = [fact.evidence()]
    else:
        threshold = criterion.thresholds["normal_liver"].value
        liver = "normal liver (no cirrhosis, steatosis or toxic injury recorded)"
    if inputs.future_liver_remnant is None:
        return _without_volumetry(criterion, context, liver_evidence)
    checked = usable_measurement(
        criterion, inputs.future_liver_remnant, "future liver remnant", NEEDS_FLR, liver_evidence
    )
    if isinstance(checked, CriterionResult):
        return checked
    remnant, value = checked
    evidence = [remnant.evidence(), *liver_evidence]
    shown = f"future liver remnant {remnant.display} ({when(remnant.date)})"
    status = value.decide(">=", threshold)
    if status is Status.MET:
        return met(criterion, f"{shown} is at least {threshold} % for a {liver}", evidence)
    if status is Status.NOT_MET:
        return not_met(criterion, f"{shown} is below {threshold} % for a {liver}", evidence)
    return unknown(
        criterion, f"{shown} straddles {threshold} % for a {liver}", [NEEDS_FLR], evidence
    )


def _without_volumetry(
    criterion: Criterion, context: EvaluationContext, liver_evidence: list[Evidence]
) -> CriterionResult:
    """Decide the remnant when no FLR is recorded, from ``major-hepatectomy-planned``."""
    planned = context.inputs.major_hepatectomy_planned
    if planned is None:
        return unknown(criterion, "no future liver remnant recorded", [NEEDS_FLR], liver_evidence)
    evidence = [planned.evidence(), *liver_evidence]
    if planned.value is None:
        return unknown(
            criterion,
            f"no future liver remnant recorded, and assessment {planned.reference} "
            f"cannot be interpreted: {planned.problem}",
            [NEEDS_FLR],
            evidence,
        )
    if planned.value:
        return unknown(
            criterion,
            f"major hepatectomy planned ({when(planned.date)}), but no future liver remnant "
            "recorded",
            [NEEDS_FLR],
            evidence,
        )
    return met(
        criterion,
        f"minor resection planned: volumetry not required (MDT assessment, {when(planned.date)})",
        [planned.evidence()],
    )
