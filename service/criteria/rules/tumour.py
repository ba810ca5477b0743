"""Rules on the tumour: grade and differentiation, Ki-67, primary site."""

from __future__ import annotations

from service.criteria.inputs import ConditionFact, Measurement, PrimarySite
from service.criteria.model import Criterion, CriterionResult, EvaluationContext
from service.criteria.rules.common import met, not_met, unknown
from service.criteria.status import Status
from service.criteria.values import DateSpan, Evidence
from service.records import Struct

NEEDS_KI67 = "Ki-67 proliferation index (%) of the tumour"
NEEDS_GRADE = "histological grade (G1/G2/G3)"
NEEDS_SITE = "primary tumour site (Condition coded with the NET primary site)"
NEEDS_G3_DECISION = "MDT decision on resecting G3 disease (003)"
NEEDS_WHICH_PRIMARY = "MDT decision on which primary tumour the liver metastases arise from"


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
            f"latest Ki-67 ({ki67.origin}) cannot be interpreted: {ki67.problem}",
        )
    status = ki67.value.decide("<=", limit)
    part = f", component of {ki67.reference}" if ki67.component else ""
    shown = f"Ki-67 {ki67.display} ({when(ki67.date)}{part})"
    if status is Status.MET:
        return status, f"{shown} is at most {limit} %"
    if status is Status.NOT_MET:
        grade = " (G3)" if limit == 20 else ""
        return status, f"{shown} exceeds {limit} %{grade}"
    return status, f"{shown} straddles {limit} %"


class _GradeVerdict(Struct, frozen=True):
    """What the grade evidence says: ``low`` (G1/G2), ``high`` (G3, no NEC), or
    ``None`` when nothing decides; ``carcinoma`` when a NEC is recorded."""

    grade: str | None
    reason: str
    evidence: tuple[Evidence, ...]


def _grade_verdict(criterion: Criterion, context: EvaluationContext) -> _GradeVerdict:
    """Apply criteria.md §7 "Grade": NEC first, then the latest Ki-67 when it decides,
    then the latest grade Observation (Ki-67 wins over a disagreeing grade)."""
    inputs = context.inputs
    if inputs.neuroendocrine_carcinoma:
        latest = inputs.neuroendocrine_carcinoma[-1]
        return _GradeVerdict(
            "carcinoma",
            f"neuroendocrine carcinoma (poorly differentiated) recorded: {latest.display} "
            f"({latest.code}, {when(latest.date)})",
            tuple(c.evidence() for c in inputs.neuroendocrine_carcinoma),
        )
    evidence: list[Evidence] = []
    ki67_reason = ""
    if inputs.ki67 is not None:
        status, ki67_reason = _ki67_decision(criterion, inputs.ki67, context)
        if status is Status.MET:
            return _GradeVerdict("low", ki67_reason, (inputs.ki67.evidence(),))
        if status is Status.NOT_MET:
            return _GradeVerdict("high", ki67_reason, (inputs.ki67.evidence(),))
        evidence.append(inputs.ki67.evidence())
    grade = inputs.grade
    prefix = f"{ki67_reason}; " if ki67_reason else ""
    if grade is not None and grade.value is not None:
        shown = f"{prefix}histological grade {grade.value} ({when(grade.date)})"
        decided = "low" if grade.value in ("G1", "G2") else "high"
        suffix = "" if decided == "low" else " is high grade"
        return _GradeVerdict(decided, shown + suffix, (*evidence, grade.evidence()))
    if grade is not None:
        evidence.append(grade.evidence())
        reason = f"{prefix}latest grade ({grade.reference}) cannot be interpreted: {grade.problem}"
    elif ki67_reason:
        reason = f"{ki67_reason}, and no histological grade is recorded"
    else:
        reason = "no Ki-67 index or histological grade recorded"
    return _GradeVerdict(None, reason, tuple(evidence))


def low_grade(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide G1/G2 (transplantation): NEC, Ki-67 > limit or G3 are ``not_met``."""
    verdict = _grade_verdict(criterion, context)
    if verdict.grade == "low":
        return met(criterion, verdict.reason, verdict.evidence)
    if verdict.grade in ("high", "carcinoma"):
        return not_met(criterion, verdict.reason, verdict.evidence)
    return unknown(criterion, verdict.reason, [NEEDS_KI67, NEEDS_GRADE], verdict.evidence)


def well_differentiated(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide well-differentiated disease for resection (criteria.md §7, v1.1).

    A NEC is ``not_met`` (001: curative resection is not indicated for poorly
    differentiated tumours); Ki-67 ≤ limit or G1/G2 is ``met``; Ki-67 > limit or G3
    without a NEC is ``unknown``: a G3 NET is still well differentiated (001) and
    selected resections are reported (003), so the MDT decides.
    """
    verdict = _grade_verdict(criterion, context)
    if verdict.grade == "low":
        return met(criterion, verdict.reason, verdict.evidence)
    if verdict.grade == "carcinoma":
        return not_met(
            criterion,
            f"{verdict.reason}: curative resection is not indicated for poorly "
            "differentiated tumours",
            verdict.evidence,
        )
    if verdict.grade == "high":
        return unknown(
            criterion,
            f"{verdict.reason}: a G3 NET without neuroendocrine carcinoma is still well "
            "differentiated, and selected resections are reported",
            [NEEDS_G3_DECISION],
            verdict.evidence,
        )
    return unknown(criterion, verdict.reason, [NEEDS_KI67, NEEDS_GRADE], verdict.evidence)


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


def located_primary_sites(sites: tuple[PrimarySite, ...]) -> tuple[PrimarySite, ...]:
    """Return the primary sites that say where the primary is (oldest first).

    A metastasis of unknown primary says only that no primary was found, so a recorded
    primary with a site supersedes it; it counts here only when no other site does.
    """
    located = tuple(s for s in sites if s.drainage != "undetermined" and not s.unknown_primary)
    return located or tuple(s for s in sites if s.unknown_primary)


def deciding_primary_site(sites: tuple[PrimarySite, ...]) -> PrimarySite | None:
    """Return the most recent site that says where, else the most recent site at all
    (``sites`` is ordered oldest first); disagreeing sites are not resolved here."""
    located = located_primary_sites(sites)
    if located:
        return located[-1]
    return sites[-1] if sites else None


def _shown(site: PrimarySite) -> str:
    return f"primary in {site.site} ({site.code}, {site.reference}, {when(site.date)})"


def portal_drained_primary(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide whether the primary tumour drains to the portal system (criteria.md §7).

    A site that says where beats one that does not; agreeing sites: the most recent is
    the evidence; a portal-drained and a not-portal-drained primary disagree, and a
    second primary is not a correction of the first, so the MDT must say which primary
    the liver metastases arise from (``unknown``).
    """
    sites = context.inputs.primary_sites
    located = located_primary_sites(sites)
    portal = [s for s in located if s.drainage == "portal"]
    not_portal = [s for s in located if s.drainage == "not_portal"]
    if portal and not_portal:
        one, other = portal[-1], not_portal[-1]
        return unknown(
            criterion,
            f"two primaries disagree: {_shown(one)} is drained by the portal system, "
            f"{_shown(other)} is not; a second primary is not a correction of the first",
            [NEEDS_WHICH_PRIMARY],
            [one.evidence(), other.evidence()],
        )
    site = deciding_primary_site(sites)
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
