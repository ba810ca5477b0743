"""Result builders and checks shared by the rules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from service.criteria.inputs import ConditionFact, Measurement
from service.criteria.model import Criterion, CriterionResult, EvaluationContext
from service.criteria.sources import cite_own
from service.criteria.status import Status
from service.criteria.values import DateSpan, Evidence, Interval, days_ago

__all__ = [
    "fresh_lab_problem",
    "met",
    "not_met",
    "present_only",
    "unknown",
    "usable_measurement",
]


def _with_remark(criterion: Criterion, status: Status, reason: str) -> str:
    remark = criterion.remarks.get(status.value)
    return f"{reason}; {cite_own(remark)}" if remark else reason


def met(criterion: Criterion, reason: str, evidence: Iterable[Evidence]) -> CriterionResult:
    """Return a ``met`` result; ``evidence`` must not be empty."""
    items = tuple(evidence)
    if not items:
        raise ValueError(f"{criterion.id}: a met result needs evidence")
    return CriterionResult(
        criterion.id, Status.MET, _with_remark(criterion, Status.MET, reason), items
    )


def not_met(criterion: Criterion, reason: str, evidence: Iterable[Evidence]) -> CriterionResult:
    """Return a ``not_met`` result; ``evidence`` must not be empty."""
    items = tuple(evidence)
    if not items:
        raise ValueError(f"{criterion.id}: a not_met result needs evidence")
    return CriterionResult(
        criterion.id, Status.NOT_MET, _with_remark(criterion, Status.NOT_MET, reason), items
    )


def unknown(
    criterion: Criterion,
    reason: str,
    needs: Iterable[str],
    evidence: Iterable[Evidence] = (),
) -> CriterionResult:
    """Return an ``unknown`` result naming what data would decide it.

    ``needs`` are the rules' own words: a source review cited there by seed id is shown
    by its short name (:func:`~service.criteria.sources.cite`).
    """
    wanted = tuple(dict.fromkeys(cite_own(need) for need in needs))
    if not wanted:
        raise ValueError(f"{criterion.id}: an unknown result must say what it needs")
    return CriterionResult(
        criterion.id,
        Status.UNKNOWN,
        _with_remark(criterion, Status.UNKNOWN, reason),
        tuple(evidence),
        wanted,
    )


def present_only(facts: Iterable[ConditionFact]) -> tuple[ConditionFact, ...]:
    """Return the Conditions present now; inactive or resolved ones are history.

    criteria.md §3 and §7: only an active Condition (extrahepatic metastasis,
    portal-hypertension sign, cirrhosis, carcinoid heart disease) counts against or
    selects a threshold; a resolved one must not.
    """
    return tuple(fact for fact in facts if fact.present)


def usable_measurement(
    criterion: Criterion,
    measurement: Measurement | None,
    name: str,
    needs: str,
    evidence: Iterable[Evidence] = (),
) -> tuple[Measurement, Interval] | CriterionResult:
    """Return the measurement with its value, or ``unknown`` when it is missing or cannot
    be interpreted; ``evidence`` is added to that unknown result (e.g. the Condition
    that chose a threshold)."""
    extra = list(evidence)
    if measurement is None:
        return unknown(criterion, f"no {name} recorded", [needs], extra)
    if measurement.value is None:
        return unknown(
            criterion,
            f"{name} {measurement.reference} cannot be interpreted: {measurement.problem}",
            [needs],
            [measurement.evidence(), *extra],
        )
    return measurement, measurement.value


def is_fresh(span: DateSpan, max_age_days: int, at: date) -> bool | None:
    """Say whether every day of ``span`` is at most ``max_age_days`` before ``at``.

    ``None`` when some days of a partial date are fresh and some are not.
    """
    cutoff = days_ago(max_age_days, at)
    if span.earliest >= cutoff:
        return True
    if span.latest < cutoff:
        return False
    return None


def fresh_lab_problem(lab: Measurement, name: str, context: EvaluationContext) -> str | None:
    """Return why a lab cannot be used (undated, stale, uninterpretable), or ``None``."""
    window = context.config.lab_freshness_days
    if lab.date is None:
        return f"latest {name} ({lab.reference}) has no date, so it cannot be shown to be fresh"
    fresh = is_fresh(lab.date, window, context.evaluation_date)
    if fresh is False:
        return f"latest {name} {lab.date.label} is older than {window} days"
    if fresh is None:
        return f"latest {name} dated {lab.date.text} may be older than {window} days"
    if lab.value is None:
        return f"latest {name} ({lab.reference}) cannot be interpreted: {lab.problem}"
    return None
