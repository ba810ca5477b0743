"""Rules that combine other criteria of the same set."""

from __future__ import annotations

from service.criteria.model import Criterion, CriterionResult, EvaluationContext
from service.criteria.rules.common import met, not_met, unknown
from service.criteria.status import Status, combine_all


def all_of(criterion: Criterion, context: EvaluationContext) -> CriterionResult:
    """Combine the ``parts`` with three-valued AND; every part is evaluated first."""
    parts = [context.sibling_results[part] for part in criterion.parts]
    status = combine_all(part.status for part in parts)
    chosen = [part for part in parts if part.status is status]
    reason = "; ".join(f"{part.id}: {part.reason}" for part in chosen)
    evidence = [item for part in chosen for item in part.evidence]
    if status is Status.MET:
        return met(criterion, reason, evidence)
    if status is Status.NOT_MET:
        return not_met(criterion, reason, evidence)
    needs = [need for part in chosen for need in part.needs]
    all_evidence = [item for part in parts for item in part.evidence]
    return unknown(criterion, reason, needs, all_evidence)
