"""Load and validate criteria sets; a bad set fails with :class:`CriteriaSetError`.

Checks: unique set and criterion ids of the right shape, a known rule for every
criterion, declared inputs equal to what the rule reads, thresholds with the names
and units the rule needs, combining criteria whose parts exist, and set dependencies
that exist and do not form a cycle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from service.criteria.inputs import INPUT_NAMES
from service.criteria.model import CriteriaSet, Criterion, Rule
from service.criteria.rules import RULES

__all__ = ["CriteriaSetError", "evaluation_order", "validate_sets"]

_SET_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_CRITERION_ID = re.compile(r"^[a-z0-9_]+$")


class CriteriaSetError(ValueError):
    """A criteria set is malformed; the message names the set and criterion."""


def _check_criterion(
    criteria_set: CriteriaSet, criterion: Criterion, rules: Mapping[str, Rule], set_ids: set[str]
) -> None:
    where = f"criteria set '{criteria_set.id}', criterion '{criterion.id}'"
    if not _CRITERION_ID.match(criterion.id):
        raise CriteriaSetError(f"{where}: id must match {_CRITERION_ID.pattern}")
    rule = rules.get(criterion.rule)
    if rule is None:
        raise CriteriaSetError(f"{where}: unknown rule '{criterion.rule}'")
    unknown_inputs = set(criterion.inputs) - INPUT_NAMES
    if unknown_inputs:
        raise CriteriaSetError(f"{where}: unknown input(s) {sorted(unknown_inputs)}")
    if set(criterion.inputs) != rule.reads:
        raise CriteriaSetError(
            f"{where}: declares inputs {sorted(criterion.inputs)} but rule '{rule.name}' "
            f"reads {sorted(rule.reads)}"
        )
    if set(criterion.thresholds) != set(rule.thresholds):
        raise CriteriaSetError(
            f"{where}: thresholds {sorted(criterion.thresholds)} do not match rule "
            f"'{rule.name}' ({sorted(rule.thresholds)})"
        )
    for name, threshold in criterion.thresholds.items():
        if threshold.unit != rule.thresholds[name]:
            raise CriteriaSetError(
                f"{where}: threshold '{name}' is in '{threshold.unit}', rule '{rule.name}' "
                f"expects '{rule.thresholds[name]}'"
            )
    if rule.combines != bool(criterion.parts):
        raise CriteriaSetError(f"{where}: 'parts' must be given exactly for combining rules")
    ids = {c.id for c in (*criteria_set.criteria, *criteria_set.helpers)}
    for part in criterion.parts:
        if part not in ids or part == criterion.id:
            raise CriteriaSetError(f"{where}: part '{part}' is not another criterion of the set")
        if rules[criteria_set.criterion(part).rule].combines:
            raise CriteriaSetError(f"{where}: part '{part}' may not itself combine criteria")
    if rule.needs_set != (criterion.depends_on_set is not None):
        raise CriteriaSetError(
            f"{where}: 'depends_on_set' must be given exactly when the rule reads a set"
        )
    if criterion.depends_on_set is not None and criterion.depends_on_set not in set_ids:
        raise CriteriaSetError(f"{where}: depends on unknown set '{criterion.depends_on_set}'")
    if not criterion.source.strip():
        raise CriteriaSetError(f"{where}: no source")


def validate_sets(
    sets: Iterable[CriteriaSet], rules: Mapping[str, Rule] = RULES
) -> tuple[CriteriaSet, ...]:
    """Validate the sets and return them unchanged; raise :class:`CriteriaSetError`."""
    loaded = tuple(sets)
    set_ids: set[str] = set()
    for criteria_set in loaded:
        if not _SET_ID.match(criteria_set.id):
            raise CriteriaSetError(f"criteria set '{criteria_set.id}': malformed id")
        if criteria_set.id in set_ids:
            raise CriteriaSetError(f"criteria set '{criteria_set.id}': duplicate id")
        if not criteria_set.version.strip() or not criteria_set.source.strip():
            raise CriteriaSetError(f"criteria set '{criteria_set.id}': version and source required")
        if not criteria_set.criteria:
            raise CriteriaSetError(f"criteria set '{criteria_set.id}': no criteria")
        set_ids.add(criteria_set.id)
    for criteria_set in loaded:
        seen: set[str] = set()
        for criterion in (*criteria_set.criteria, *criteria_set.helpers):
            if criterion.id in seen:
                raise CriteriaSetError(
                    f"criteria set '{criteria_set.id}': duplicate criterion '{criterion.id}'"
                )
            seen.add(criterion.id)
        for criterion in (*criteria_set.criteria, *criteria_set.helpers):
            _check_criterion(criteria_set, criterion, rules, set_ids)
    evaluation_order(loaded)
    return loaded


def evaluation_order(sets: tuple[CriteriaSet, ...]) -> tuple[CriteriaSet, ...]:
    """Return the sets ordered so each comes after the sets it depends on."""
    by_id = {s.id: s for s in sets}
    ordered: list[CriteriaSet] = []
    state: dict[str, str] = {}

    def visit(criteria_set: CriteriaSet) -> None:
        if state.get(criteria_set.id) == "done":
            return
        if state.get(criteria_set.id) == "visiting":
            raise CriteriaSetError(f"criteria set '{criteria_set.id}': dependency cycle")
        state[criteria_set.id] = "visiting"
        for criterion in (*criteria_set.criteria, *criteria_set.helpers):
            if criterion.depends_on_set in by_id:
                visit(by_id[criterion.depends_on_set])
        state[criteria_set.id] = "done"
        ordered.append(criteria_set)

    for criteria_set in sets:
        visit(criteria_set)
    return tuple(ordered)
