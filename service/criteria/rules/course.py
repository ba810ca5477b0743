"""Rules on the course of disease and the patient's fitness."""

from __future__ import annotations

from service.criteria.model import Criterion, CriterionResult, EvaluationContext
from service.criteria.rules.common import met, not_met, present_only, unknown
from service.criteria.rules.tumour import when
from service.criteria.values import Evidence, days_ago

NEEDS_COURSE = "disease status (stable / responding / progressing) over the last 6 months"
NEEDS_ECOG = "ECOG performance status"
GOOD_COURSE = ("stable", "responding")


def stable_disease(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide stable or responding disease for at least ``minimum_duration`` days.

    ``not_met``: a progression dated within the window. ``met``: the latest result is
    stable/responding and a stable/responding result at least the window old has no
    progression after it. Anything else is ``unknown``.
    """
    days = int(criterion.thresholds["minimum_duration"].value)
    cutoff = days_ago(days, context.evaluation_date)
    series = context.inputs.disease_course
    recent_progression = [
        r for r in series if r.value == "progressing" and r.date and r.date.earliest > cutoff
    ]
    if recent_progression:
        latest = recent_progression[-1]
        return not_met(
            criterion,
            f"disease progression recorded {when(latest.date)}, within {days} days",
            [r.evidence() for r in recent_progression],
        )
    if not series:
        return unknown(criterion, "no disease-status result recorded", [NEEDS_COURSE])
    latest = series[-1]
    if latest.value is None:
        return unknown(
            criterion,
            f"latest disease status {latest.reference} cannot be interpreted: {latest.problem}",
            [NEEDS_COURSE],
            [latest.evidence()],
        )
    if latest.value not in GOOD_COURSE:
        return unknown(
            criterion,
            f"latest disease status is {latest.value} ({when(latest.date)}), more than "
            f"{days} days ago, with no stable result since",
            [NEEDS_COURSE],
            [latest.evidence()],
        )
    for index, result in enumerate(series):
        old_enough = result.date is not None and result.date.latest <= cutoff
        if result.value in GOOD_COURSE and old_enough:
            later = series[index + 1 :]
            if all(r.value != "progressing" for r in later):
                evidence: list[Evidence] = [result.evidence()]
                if latest is not result:
                    evidence.append(latest.evidence())
                return met(
                    criterion,
                    f"{result.value} disease since {when(result.date)} (at least {days} days), "
                    f"latest {latest.value} ({when(latest.date)})",
                    evidence,
                )
    return unknown(
        criterion,
        f"latest disease status is {latest.value} ({when(latest.date)}), but no stable "
        f"result at least {days} days old without later progression is recorded",
        [NEEDS_COURSE],
        [latest.evidence()],
    )


def fit_for_surgery(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide fitness for major surgery: ECOG ≤ the configured limit and no active
    (untreated) carcinoid heart disease."""
    limit = context.config.max_ecog_for_surgery
    inputs = context.inputs
    active = present_only(inputs.carcinoid_heart_disease)
    against = [fact.evidence() for fact in active]
    reasons = [
        f"active carcinoid heart disease recorded ({fact.code}, {when(fact.date)})"
        for fact in active
    ]
    ecog = inputs.ecog
    if ecog is not None and ecog.value is not None and ecog.value > limit:
        against.append(ecog.evidence())
        reasons.append(f"ECOG {ecog.value} ({when(ecog.date)}) is above {limit}")
    if against:
        return not_met(criterion, "; ".join(reasons), against)
    if ecog is None:
        return unknown(criterion, "no ECOG performance status recorded", [NEEDS_ECOG])
    if ecog.value is None:
        return unknown(
            criterion,
            f"latest ECOG {ecog.reference} cannot be interpreted: {ecog.problem}",
            [NEEDS_ECOG],
            [ecog.evidence()],
        )
    return met(
        criterion,
        f"ECOG {ecog.value} ({when(ecog.date)}) is at most {limit}, and no active carcinoid "
        "heart disease recorded",
        [ecog.evidence()],
    )
