"""What would change the verdict: the missing data items ranked by what they could decide.

A pure function of an :class:`~service.criteria.evaluator.Evaluation`. The definition,
from the three-valued logic of criteria.md §1:

- Only an ``indeterminate`` set can change by recording missing data: an ``eligible``
  set has every criterion met and an ``ineligible`` one a criterion ``not_met`` on
  positive evidence, which data that is missing cannot take back.
- The *candidates* are the data items the ``needs`` of an ``unknown`` criterion ask for
  (any set), and the items missing from the record that an ``unknown`` criterion of an
  indeterminate set reads (a "major hepatectomy planned: no" decides the FLR criterion
  though the criterion asks for the FLR).
- An item **could change** an indeterminate set when recording it, with some value, moves
  the set out of ``indeterminate``; it **alone decides** the set when every value it
  could be recorded with does. Both are computed, not guessed: the set is evaluated again
  with the item recorded, once per outcome class of its value
  (:mod:`service.criteria.hypotheticals`), with the sets that read another set's result
  evaluated after it (UNOS ``bilobar_unresectable`` reads resection's FLR criterion). So an
  item asked for by a criterion that cannot turn ``not_met`` (resection's
  ``liver_limited_disease``) changes nothing while another criterion of its set is unknown.
- ``to_record`` holds the items that could change at least one verdict, ranked by how
  many set verdicts they could change, then by how many they alone decide, then in the
  catalogue order (:data:`~service.criteria.data_items.DATA_ITEMS`). Items asked for that
  could change nothing (their sets are decided, or other data is missing too) are kept
  apart in ``would_not_change``; MDT judgements that no record field holds (resecting G3
  disease) are ``mdt_decisions`` when a set still open asks for them.
"""

from __future__ import annotations

from collections.abc import Iterable

from service.criteria.catalogue import evaluation_order
from service.criteria.data_items import DATA_ITEMS, DataItem, item, item_for_need
from service.criteria.evaluator import Evaluation, decide
from service.criteria.hypotheticals import recordings
from service.criteria.inputs import CriteriaInputs
from service.criteria.model import CriteriaSet, CriterionResult, EvaluationContext, SetResult
from service.criteria.status import SetStatus, Status, set_status
from service.records import Struct

__all__ = ["DecisiveData", "ItemImpact", "decisive_data"]

_ORDER = {data_item.key: index for index, data_item in enumerate(DATA_ITEMS)}
ASKED_ONLY = frozenset({"primary-resection-date", "mdt-which-primary", "condition-status"})
"""Items the rules ask for when they apply (a resection, two primaries, an unreadable
Condition are recorded), never candidates because a field is absent."""


class ItemImpact(Struct, frozen=True):
    """One data item and the set verdicts it bears on.

    ``changes``: ids of the indeterminate sets whose verdict recording it could change;
    ``decides``: those it alone decides, whatever value is recorded; ``asked_by``:
    ``(set id, criterion id)`` of the unknown criteria whose ``needs`` ask for it.
    """

    item: DataItem
    changes: tuple[str, ...] = ()
    decides: tuple[str, ...] = ()
    asked_by: tuple[tuple[str, str], ...] = ()


class DecisiveData(Struct, frozen=True):
    """The items to record (ranked), the MDT decisions still open, and the items asked
    for that could not change any verdict."""

    to_record: tuple[ItemImpact, ...]
    mdt_decisions: tuple[ItemImpact, ...]
    would_not_change: tuple[ItemImpact, ...]


def _unclaimed(text: str) -> DataItem:
    """Return an item for a ``needs`` text no catalogue item claims: a judgement (nothing
    the service can simulate), keyed by a digest of the text so the key is stable."""
    import hashlib  # here: OpenSSL takes some milliseconds to load, and few results need it

    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return DataItem(f"other-{digest}", text[:1].upper() + text[1:], judgement=True)


def _asked(set_results: Iterable[SetResult]) -> dict[str, tuple[DataItem, list[tuple[str, str]]]]:
    """Return, by key, each item the unknown criteria ask for and who asks."""
    asked: dict[str, tuple[DataItem, list[tuple[str, str]]]] = {}
    for result in set_results:
        for criterion in result.results:
            if criterion.status is not Status.UNKNOWN:
                continue
            for text in criterion.needs:
                data_item = item_for_need(text) or _unclaimed(text)
                entry = asked.setdefault(data_item.key, (data_item, []))
                asker = (result.criteria_set.id, criterion.id)
                if asker not in entry[1]:
                    entry[1].append(asker)
    return asked


def _missing(data_item: DataItem, inputs: CriteriaInputs) -> bool:
    """Say whether the record holds nothing usable for the item (each field absent)."""
    if data_item.judgement or data_item.key in ASKED_ONLY:
        return False  # these are asked for by the rules when they apply, never by absence
    for name in data_item.fields:
        value = getattr(inputs, name, None)
        if value not in (None, ()) and getattr(value, "value", True) is not None:
            return False
    return bool(data_item.fields)


def _reads(criteria_set: CriteriaSet, criterion_id: str) -> frozenset[str]:
    """Return the input fields a criterion reads, through the parts it combines."""
    criterion = criteria_set.criterion(criterion_id)
    fields = set(criterion.inputs)
    for part in criterion.parts:
        fields |= set(criteria_set.criterion(part).inputs)
    return frozenset(fields)


class _WhatIf:
    """The evaluation again with one item recorded, re-running only what reads it."""

    def __init__(self, evaluation: Evaluation) -> None:
        self.evaluation = evaluation
        self.original = {r.criteria_set.id: r for r in evaluation.set_results}
        self.sets = tuple(r.criteria_set for r in evaluation.set_results)
        self.order = evaluation_order(self.sets)
        self.reads = {
            (s.id, c.id): _reads(s, c.id) for s in self.sets for c in (*s.criteria, *s.helpers)
        }

    def read_missing(self, open_sets: list[SetResult]) -> set[str]:
        """Return the keys of missing items an unknown criterion of an open set reads."""
        read: set[str] = set()
        for result in open_sets:
            for criterion in result.results:
                if criterion.status is Status.UNKNOWN:
                    read |= self.reads[(result.criteria_set.id, criterion.id)]
        inputs = self.evaluation.inputs
        return {
            data_item.key
            for data_item in DATA_ITEMS
            if read.intersection(data_item.fields) and _missing(data_item, inputs)
        }

    def affected(self, fields: frozenset[str]) -> set[str]:
        """Return the ids of the sets that read ``fields``, and of the sets reading those."""
        affected = {
            s.id for s in self.sets if any(fields & self.reads[(s.id, c.id)] for c in s.criteria)
        }
        for criteria_set in self.order:
            if any(c.depends_on_set in affected for c in criteria_set.criteria):
                affected.add(criteria_set.id)
        return affected

    def again(
        self, set_id: str, context: EvaluationContext, fields: frozenset[str], changed: set[str]
    ) -> SetResult:
        """Return the set's result with the criteria that read ``fields`` (or a set in
        ``changed``) evaluated again on ``context``; the others keep their result.

        Equal to evaluating the whole set again: a rule reads only its declared inputs,
        the parts it combines and the set it depends on (checked when sets load).
        """
        original = self.original[set_id]
        criteria_set = original.criteria_set
        fresh: dict[str, CriterionResult] = {}

        def run(criterion_id: str) -> CriterionResult:
            if criterion_id not in fresh:
                criterion = criteria_set.criterion(criterion_id)
                for part in criterion.parts:
                    run(part)
                here = EvaluationContext(
                    context.inputs, context.config, context.set_results, dict(fresh)
                )
                fresh[criterion_id] = decide(criterion, here)
            return fresh[criterion_id]

        results = tuple(
            run(c.id)
            if fields & self.reads[(set_id, c.id)] or c.depends_on_set in changed
            else kept
            for c, kept in zip(criteria_set.criteria, original.results, strict=True)
        )
        return SetResult(criteria_set, set_status(r.status for r in results), "", results)

    def impact(
        self, data_item: DataItem, open_ids: set[str]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Return the open sets the item could change and those it alone decides."""
        evaluation = self.evaluation
        fields = frozenset(data_item.fields)
        affected = self.affected(fields)
        targets = [s.id for s in self.sets if s.id in open_ids and s.id in affected]
        hypotheses = recordings(data_item.key, evaluation.inputs, evaluation.config, self.sets)
        if not targets or not hypotheses:
            return (), ()
        changed = dict.fromkeys(targets, False)
        decided = dict.fromkeys(targets, True)
        for inputs in hypotheses:
            done = dict(self.original)
            context = EvaluationContext(inputs, evaluation.config, done)
            for criteria_set in self.order:
                if criteria_set.id in affected:
                    done[criteria_set.id] = self.again(criteria_set.id, context, fields, affected)
            for set_id in targets:
                moved = done[set_id].status is not SetStatus.INDETERMINATE
                changed[set_id] = changed[set_id] or moved
                decided[set_id] = decided[set_id] and moved
            if all(changed.values()) and not any(decided.values()):
                break  # no further value can add a change or keep a "decides"
        return (
            tuple(s for s in targets if changed[s]),
            tuple(s for s in targets if decided[s]),
        )


def decisive_data(evaluation: Evaluation) -> DecisiveData:
    """Return what recording each missing data item could change (see the module text)."""
    open_sets = [r for r in evaluation.set_results if r.status is SetStatus.INDETERMINATE]
    open_ids = {r.criteria_set.id for r in open_sets}
    asked = _asked(evaluation.set_results)
    candidates = dict.fromkeys(asked)
    what_if = _WhatIf(evaluation)
    candidates.update(
        dict.fromkeys(sorted(what_if.read_missing(open_sets), key=_ORDER.__getitem__))
    )
    to_record: list[ItemImpact] = []
    mdt: list[ItemImpact] = []
    apart: list[ItemImpact] = []
    for key in candidates:
        data_item, askers = asked.get(key, (item(key), []))
        who = tuple(askers)
        if data_item.judgement:
            (mdt if any(s in open_ids for s, _ in who) else apart).append(
                ItemImpact(data_item, asked_by=who)
            )
            continue
        changes, decides = what_if.impact(data_item, open_ids)
        if changes:
            to_record.append(ItemImpact(data_item, changes, decides, who))
        elif who:
            apart.append(ItemImpact(data_item, asked_by=who))

    def rank(impact: ItemImpact) -> tuple[int, int, int]:
        return (-len(impact.changes), -len(impact.decides), _ORDER.get(impact.item.key, 999))

    return DecisiveData(
        tuple(sorted(to_record, key=rank)),
        tuple(sorted(mdt, key=rank)),
        tuple(sorted(apart, key=rank)),
    )
