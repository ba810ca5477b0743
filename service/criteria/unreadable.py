"""Unreadable exclusion Conditions: they cannot be skipped as if absent (criteria.md §7).

A Condition whose code is an exclusion (extrahepatic metastasis, neuroendocrine
carcinoma, portal-hypertension sign, carcinoid heart disease, cirrhosis, steatosis or
toxic injury) but whose status or date cannot be read might be present. Every criterion
it could turn ``not_met`` (or whose threshold it could raise) cannot be ``met``: it
becomes ``unknown``, naming the resource and the problem, and ``needs`` asks for a
readable status on it.

Reading chosen where the spec leaves room: "could" is decided by evaluating the
criterion again with the unreadable Conditions counted as present (the worst case). A
criterion that is ``met`` even then (e.g. a future liver remnant of 45 %, above every
threshold an unreadable cirrhosis could select) stays ``met``; one that is ``not_met``
on other evidence stays ``not_met``.
"""

from __future__ import annotations

from typing import Any

from service.criteria.inputs import UnreadableCondition
from service.criteria.model import Criterion, CriterionResult, EvaluationContext
from service.criteria.rules import RULES
from service.criteria.status import Status
from service.records import replace

__all__ = ["NEEDS_READABLE_STATUS", "guard_unreadable_exclusions"]

NEEDS_READABLE_STATUS = "a readable clinical and verification status on "
"""How every ``needs`` text for an unreadable Condition begins (its reference follows)."""


def _worst_case(context: EvaluationContext, relevant: list[UnreadableCondition]) -> Any:
    inputs = context.inputs
    changes: dict[str, Any] = {}
    for item in relevant:
        current = changes.get(item.input, getattr(inputs, item.input))
        changes[item.input] = (*current, item.as_present())
    return replace(inputs, **changes)


def guard_unreadable_exclusions(
    criterion: Criterion, context: EvaluationContext, result: CriterionResult
) -> CriterionResult:
    """Return ``result``, or ``unknown`` when an unreadable exclusion Condition among
    the criterion's inputs could change it."""
    relevant = [u for u in context.inputs.unreadable_conditions if u.input in criterion.inputs]
    if not relevant or result.status is Status.NOT_MET:
        return result
    worst_inputs = _worst_case(context, relevant)
    worst = RULES[criterion.rule].function(criterion, replace(context, inputs=worst_inputs))
    if worst.status is result.status:
        return result
    named = "; ".join(
        f"{u.reference} ({u.display}, {u.code}) cannot be read: {u.problem}" for u in relevant
    )
    # Built here rather than with ``unknown``: these texts name resources of the record,
    # which must not pass through the seed-citation rewriting that ``unknown`` applies.
    needs = (*(f"{NEEDS_READABLE_STATUS}{u.reference} ({u.display})" for u in relevant),)
    return CriterionResult(
        criterion.id,
        Status.UNKNOWN,
        f"{result.reason}; but {named}, and it could decide against this criterion if present",
        (*result.evidence, *(u.as_present().evidence() for u in relevant)),
        tuple(dict.fromkeys((*needs, *result.needs))),
    )
