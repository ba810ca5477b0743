"""Rules on the extent of disease: extrahepatic spread, tumour burden, pattern."""

from __future__ import annotations

from datetime import date

from service.criteria.inputs import ConditionFact, Measurement
from service.criteria.model import Criterion, CriterionResult, EvaluationContext
from service.criteria.rules.common import met, not_met, present_only, unknown, usable_measurement
from service.criteria.rules.tumour import when
from service.criteria.status import Status
from service.criteria.values import Evidence, Interval

NEEDS_STAGING = "staging result for extrahepatic disease (cross-sectional and functional imaging)"
NEEDS_BURDEN = "hepatic tumour burden (% of liver parenchyma involved)"
NEEDS_SYNDROME = "whether the hormonal syndrome is refractory to medical therapy"
NEEDS_RESECTABILITY = "MDT assessment whether all hepatic disease is resectable/ablatable"
NEEDS_PATTERN = "metastatic pattern (Frilling type I/II/III)"

PATTERN_NAMES = {
    "type-i": "Frilling type I (single metastasis)",
    "type-ii": "Frilling type II (bulk with smaller deposits, both lobes)",
    "type-iii": "Frilling type III (disseminated, both lobes)",
}
REMNANT_CRITERION = "adequate_future_liver_remnant"
TYPE_II_NOTE = "combined resection and ablation or a two-stage approach may still be possible"


def _extrahepatic(
    context: EvaluationContext, *, regional_nodes: bool
) -> tuple[Status, str, list[Evidence]]:
    """Return the no-extrahepatic-disease status with its reason and evidence;
    ``regional_nodes`` says whether regional lymph-node metastases (C77.x) count."""
    inputs = context.inputs
    facts = inputs.extrahepatic_metastases
    if regional_nodes:
        facts = tuple(sorted((*facts, *inputs.regional_node_metastases), key=_fact_order))
    spread = present_only(facts)
    staging = inputs.extrahepatic_staging
    if spread:
        latest = spread[-1]
        return (
            Status.NOT_MET,
            f"extrahepatic metastasis recorded: {latest.display} ({latest.code}, "
            f"{when(latest.date)})",
            [item.evidence() for item in spread],
        )
    if staging is None:
        return Status.UNKNOWN, "no staging assessment of extrahepatic disease recorded", []
    evidence = [staging.evidence()]
    if staging.value is None:
        return (
            Status.UNKNOWN,
            f"staging {staging.reference} cannot be interpreted: {staging.problem}",
            evidence,
        )
    if staging.value:
        return (
            Status.NOT_MET,
            f"staging ({when(staging.date)}) shows extrahepatic disease",
            evidence,
        )
    return Status.MET, f"staging ({when(staging.date)}) shows no extrahepatic disease", evidence


def _fact_order(fact: ConditionFact) -> tuple[bool, date, date]:
    """Order Conditions oldest first, undated first (as the mappers order each input)."""
    if fact.date is None:
        return (False, date.min, date.min)
    return (True, fact.date.earliest, fact.date.latest)


def no_extrahepatic_disease(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide absence of extrahepatic disease: an active extrahepatic Condition
    (regional lymph nodes included: 001 "removal of all extra-hepatic tumor deposits")
    or positive staging rules it out; only negative staging proves it."""
    status, reason, evidence = _extrahepatic(context, regional_nodes=True)
    if status is Status.MET:
        return met(criterion, reason, evidence)
    if status is Status.NOT_MET:
        return not_met(criterion, reason, evidence)
    return unknown(criterion, reason, [NEEDS_STAGING], evidence)


def liver_limited_disease(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide liver-limited disease; extrahepatic spread is never ``not_met`` from data
    alone (liver-dominant disease needs MDT judgement, 002/004). Regional lymph-node
    metastases (C77.x) do not count: draining nodes go with the primary (002, v1.1)."""
    status, reason, evidence = _extrahepatic(context, regional_nodes=False)
    if status is Status.MET:
        return met(criterion, reason, evidence)
    if status is Status.NOT_MET:
        return unknown(
            criterion,
            f"{reason}: liver-dominant disease with limited stable extrahepatic spread "
            "needs MDT judgement",
            ["MDT judgement on liver-dominant disease with limited stable extrahepatic spread"],
            evidence,
        )
    return unknown(criterion, reason, [NEEDS_STAGING], evidence)


def _usable_burden(
    criterion: Criterion, context: EvaluationContext
) -> tuple[Measurement, Interval] | CriterionResult:
    burden = context.inputs.hepatic_tumour_burden
    return usable_measurement(criterion, burden, "hepatic tumour burden", NEEDS_BURDEN)


def burden_below(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide hepatic tumour burden < limit (% of parenchyma)."""
    limit = criterion.thresholds["limit"].value
    checked = _usable_burden(criterion, context)
    if isinstance(checked, CriterionResult):
        return checked
    burden, value = checked
    evidence = [burden.evidence()]
    shown = f"hepatic tumour burden {burden.display} ({when(burden.date)})"
    status = value.decide("<", limit)
    if status is Status.MET:
        return met(criterion, f"{shown} is below {limit} %", evidence)
    if status is Status.NOT_MET:
        return not_met(criterion, f"{shown} is {limit} % or more", evidence)
    return unknown(criterion, f"{shown} straddles {limit} %", [NEEDS_BURDEN], evidence)


def burden_with_refractory_syndrome(
    criterion: Criterion, context: EvaluationContext
) -> CriterionResult:
    """Decide ENETS liver involvement: < limit, or < extended limit with a refractory
    hormonal syndrome. An interval decides only if every band it touches agrees."""
    limit = criterion.thresholds["limit"].value
    extended = criterion.thresholds["limit_with_refractory_syndrome"].value
    checked = _usable_burden(criterion, context)
    if isinstance(checked, CriterionResult):
        return checked
    burden, value = checked
    evidence = [burden.evidence()]
    syndrome = context.inputs.refractory_hormonal_syndrome
    shown = f"hepatic tumour burden {burden.display} ({when(burden.date)})"
    answers: dict[Status, str] = {}
    needs: list[str] = []
    if value.overlaps(None, limit):
        answers[Status.MET] = f"{shown} is below {limit} %"
    if value.overlaps(limit, extended):
        if syndrome is not None:
            evidence.append(syndrome.evidence())
        if syndrome is None or syndrome.value is None:
            answers.setdefault(
                Status.UNKNOWN,
                f"{shown}: {limit}-<{extended} % needs a refractory hormonal syndrome, "
                "which is not recorded",
            )
            needs.append(NEEDS_SYNDROME)
        elif syndrome.value:
            answers.setdefault(
                Status.MET, f"{shown} is below {extended} % with a refractory hormonal syndrome"
            )
        else:
            answers.setdefault(
                Status.NOT_MET,
                f"{shown} is {limit} % or more and the hormonal syndrome is not refractory",
            )
    if value.overlaps(extended, None):
        answers.setdefault(Status.NOT_MET, f"{shown} is {extended} % or more")
    if len(answers) == 1:
        ((status, reason),) = answers.items()
        if status is Status.MET:
            return met(criterion, reason, evidence)
        if status is Status.NOT_MET:
            return not_met(criterion, reason, evidence)
        return unknown(criterion, reason, needs, evidence)
    return unknown(
        criterion,
        f"{shown} spans the {limit} % / {extended} % limits",
        [NEEDS_BURDEN, *needs],
        evidence,
    )


def all_disease_resectable(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide resectability of all hepatic disease: the explicit assessment wins; the
    Frilling pattern decides only without it (I met, III not met, II unknown)."""
    inputs = context.inputs
    assessment = inputs.hepatic_disease_resectable
    if assessment is not None:
        evidence = [assessment.evidence()]
        if assessment.value is None:
            return unknown(
                criterion,
                f"assessment {assessment.reference} cannot be interpreted: {assessment.problem}",
                [NEEDS_RESECTABILITY],
                evidence,
            )
        verdict = "resectable/ablatable" if assessment.value else "not resectable/ablatable"
        reason = f"MDT assessment ({when(assessment.date)}): all hepatic disease {verdict}"
        return (met if assessment.value else not_met)(criterion, reason, evidence)
    pattern = inputs.metastatic_pattern
    if pattern is None:
        return unknown(
            criterion,
            "no resectability assessment or metastatic pattern recorded",
            [NEEDS_RESECTABILITY],
        )
    evidence = [pattern.evidence()]
    if pattern.value is None:
        return unknown(
            criterion,
            f"metastatic pattern {pattern.reference} cannot be interpreted: {pattern.problem}",
            [NEEDS_RESECTABILITY],
            evidence,
        )
    shown = f"{PATTERN_NAMES[pattern.value]} ({when(pattern.date)})"
    if pattern.value == "type-i":
        return met(criterion, f"{shown} is resectable", evidence)
    if pattern.value == "type-iii":
        return not_met(criterion, f"{shown} is not resectable with curative intent", evidence)
    return unknown(criterion, f"{shown}: {TYPE_II_NOTE}", [NEEDS_RESECTABILITY], evidence)


def bilobar_unresectable(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide UNOS "bilobar metastases not amenable to resection" (criteria.md §7, v1.1).

    Type I or assessment "resectable" → ``not_met``; type II/III with assessment "not
    resectable", or without an assessment but with ``adequate_future_liver_remnant``
    ``not_met`` in the ``depends_on_set`` set → ``met``; otherwise ``unknown``. Other
    reasons that make resection ineligible (fitness, grade, heart disease) never make
    it ``met``: they are no reason to transplant.
    """
    inputs = context.inputs
    pattern = inputs.metastatic_pattern
    assessment = inputs.hepatic_disease_resectable
    if pattern is not None and pattern.value == "type-i":
        return not_met(
            criterion,
            f"{PATTERN_NAMES['type-i']} ({when(pattern.date)}) is not bilobar",
            [pattern.evidence()],
        )
    if assessment is not None and assessment.value is True:
        return not_met(
            criterion,
            f"MDT assessment ({when(assessment.date)}): all hepatic disease resectable",
            [assessment.evidence()],
        )
    evidence = [item.evidence() for item in (pattern, assessment) if item is not None]
    if pattern is not None and pattern.value in ("type-ii", "type-iii"):
        shown = f"{PATTERN_NAMES[pattern.value]} ({when(pattern.date)})"
        if assessment is not None and assessment.value is False:
            return met(criterion, f"{shown}, assessed not resectable", evidence)
        remnant = _remnant_result(context, criterion.depends_on_set)
        if assessment is None and remnant is not None and remnant.status is Status.NOT_MET:
            return met(
                criterion,
                f"{shown}, and the future liver remnant is inadequate: {remnant.reason}",
                [*evidence, *remnant.evidence],
            )
        if assessment is not None:  # recorded but not interpretable
            reason = (
                f"{shown}, but assessment {assessment.reference} cannot be interpreted: "
                f"{assessment.problem}"
            )
        else:
            reason = f"{shown}, but resectability is not established"
        return unknown(criterion, reason, [NEEDS_RESECTABILITY], evidence)
    if pattern is not None and pattern.value is None:
        reason = f"metastatic pattern {pattern.reference} cannot be interpreted: {pattern.problem}"
    else:
        reason = "no metastatic pattern (uni- or bilobar) recorded"
    return unknown(criterion, reason, [NEEDS_PATTERN, NEEDS_RESECTABILITY], evidence)


def _remnant_result(context: EvaluationContext, set_id: str | None) -> CriterionResult | None:
    """Return ``adequate_future_liver_remnant`` of the set this criterion reads."""
    resection = context.set_results.get(set_id or "")
    if resection is None:
        return None
    return next((r for r in resection.results if r.id == REMNANT_CRITERION), None)
