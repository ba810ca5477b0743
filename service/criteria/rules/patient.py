"""Rules on the patient: age."""

from __future__ import annotations

from service.criteria.model import Criterion, CriterionResult, EvaluationContext
from service.criteria.rules.common import met, not_met, unknown
from service.criteria.values import Evidence, whole_years_between

NEEDS_BIRTH_DATE = "date of birth (Patient.birthDate, full date)"


def age_below(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Decide ``age < limit`` in whole years on the evaluation date.

    A partial birth date decides only if every day it could be gives the same answer.
    """
    limit = criterion.thresholds["limit"].value
    born = context.inputs.birth_date
    at = context.evaluation_date
    if born is None:
        return unknown(criterion, "date of birth is not recorded", [NEEDS_BIRTH_DATE])
    if born.earliest > at:
        return unknown(
            criterion,
            f"date of birth {born.text} is after the evaluation date {at.isoformat()}",
            [NEEDS_BIRTH_DATE],
        )
    oldest = whole_years_between(born.earliest, at)
    youngest = whole_years_between(min(born.latest, at), at)
    age_text = str(oldest) if oldest == youngest else f"{youngest}-{oldest}"
    evidence = Evidence(
        context.inputs.patient, age_text if oldest != youngest else oldest, "a", born.text
    )
    if oldest < limit:
        return met(criterion, f"age {age_text} years is under {limit}", [evidence])
    if youngest >= limit:
        return not_met(criterion, f"age {age_text} years is {limit} or older", [evidence])
    return unknown(
        criterion,
        f"date of birth {born.text} gives an age of {age_text} years on {at.isoformat()}",
        [NEEDS_BIRTH_DATE],
        [evidence],
    )
