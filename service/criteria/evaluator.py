"""Evaluate criteria sets against one patient's inputs.

Every criterion is evaluated (no short circuit), so a result explains itself in
full; combining criteria are evaluated after the criteria they combine, and a set
that reads another set's result is evaluated after it.
"""

from __future__ import annotations

from collections.abc import Mapping

from service.criteria.catalogue import evaluation_order
from service.criteria.config import EvaluationConfig
from service.criteria.inputs import CriteriaInputs, Deceased, Warning
from service.criteria.model import (
    CriteriaSet,
    Criterion,
    CriterionResult,
    EvaluationContext,
    SetResult,
)
from service.criteria.notes import notes_for
from service.criteria.rules import RULES
from service.criteria.status import SetStatus, Status, set_status
from service.criteria.unreadable import guard_unreadable_exclusions
from service.records import Struct

__all__ = ["Evaluation", "decide", "evaluate", "evaluate_set"]


class Evaluation(Struct, frozen=True):
    """The outcome of all sets for one patient, with notes and reading warnings."""

    inputs: CriteriaInputs
    set_results: tuple[SetResult, ...]
    notes: tuple[str, ...]
    warnings: tuple[Warning, ...]
    config: EvaluationConfig = EvaluationConfig()
    """The configuration it was evaluated with (what-if analyses evaluate with it again)."""

    @property
    def deceased(self) -> Deceased | None:
        """Return the deceased fact when the patient is recorded as deceased on or before
        the evaluation date: then no card is shown and no RiskAssessment written."""
        return self.inputs.deceased


def _summary(criteria_set: CriteriaSet, results: tuple[CriterionResult, ...]) -> str:
    status = set_status(r.status for r in results)
    if status is SetStatus.ELIGIBLE:
        return f"{criteria_set.title}: eligible, all {len(results)} criteria met."
    if status is SetStatus.INELIGIBLE:
        failed = [r.id for r in results if r.status is Status.NOT_MET]
        return f"{criteria_set.title}: not eligible ({', '.join(failed)} not met)."
    open_ = [r.id for r in results if r.status is Status.UNKNOWN]
    return (
        f"{criteria_set.title}: indeterminate, {len(open_)} of {len(results)} criteria "
        f"need data ({', '.join(open_)})."
    )


def decide(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Return the criterion's result: its rule, then the unreadable-exclusion guard
    (criteria.md §7; :mod:`service.criteria.unreadable`). Every evaluation, what-if
    analyses included, decides a criterion through here."""
    result = RULES[criterion.rule].function(criterion, context)
    return guard_unreadable_exclusions(criterion, context, result)


def evaluate_set(
    criteria_set: CriteriaSet,
    inputs: CriteriaInputs,
    config: EvaluationConfig,
    set_results: Mapping[str, SetResult] | None = None,
) -> SetResult:
    """Evaluate one (validated) set; ``set_results`` holds the sets it depends on."""
    decided: dict[str, CriterionResult] = {}
    everything = (*criteria_set.criteria, *criteria_set.helpers)
    simple = [c for c in everything if not RULES[c.rule].combines]
    combining = [c for c in everything if RULES[c.rule].combines]
    for criterion in (*simple, *combining):
        context = EvaluationContext(inputs, config, set_results or {}, dict(decided))
        decided[criterion.id] = decide(criterion, context)
    results = tuple(decided[c.id] for c in criteria_set.criteria)
    return SetResult(
        criteria_set,
        set_status(r.status for r in results),
        _summary(criteria_set, results),
        results,
    )


def evaluate(
    inputs: CriteriaInputs, sets: tuple[CriteriaSet, ...], config: EvaluationConfig
) -> Evaluation:
    """Evaluate every set (validated with :func:`validate_sets`) for one patient."""
    done: dict[str, SetResult] = {}
    for criteria_set in evaluation_order(sets):
        done[criteria_set.id] = evaluate_set(criteria_set, inputs, config, done)
    ordered = tuple(done[s.id] for s in sets)
    return Evaluation(inputs, ordered, notes_for(inputs, ordered), inputs.warnings, config)
