"""Criteria as data: criterion and set definitions, rules, and their results.

A :class:`CriteriaSet` is frozen, versioned data. Each :class:`Criterion` names the
*rule* (from the vocabulary in :mod:`service.criteria.rules`) that decides it, the
inputs it reads, its thresholds with units, and the source it comes from. Rules are
small pure functions ``(criterion, context) -> CriterionResult``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Literal

from service.criteria.config import EvaluationConfig
from service.criteria.inputs import CriteriaInputs
from service.criteria.status import SetStatus, Status
from service.criteria.values import Evidence
from service.records import Struct, field

__all__ = [
    "Criterion",
    "CriteriaSet",
    "CriterionResult",
    "EvaluationContext",
    "Pathway",
    "Rule",
    "SetResult",
    "Threshold",
]

Pathway = Literal["transplant", "resection"]


class Threshold(Struct, frozen=True):
    """A number with its unit (UCUM where one exists: ``%``, ``a``, ``d``, ``10*9/L``)."""

    value: Decimal
    unit: str

    def __str__(self) -> str:
        return f"{self.value} {self.unit}"


class Criterion(Struct, frozen=True):
    """One criterion of a set: what it checks, how, and on whose authority."""

    id: str
    label: str
    rule: str
    inputs: tuple[str, ...]
    source: str
    rationale: str
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    parts: tuple[str, ...] = ()
    """For combining rules: ids of the criteria (of this set) it combines."""
    depends_on_set: str | None = None
    """A set whose result this criterion reads (e.g. UNOS reads ``resection``)."""
    remarks: Mapping[str, str] = field(default_factory=dict)
    """Sentences appended to the reason for a given status (``"not_met": "..."``)."""


class CriteriaSet(Struct, frozen=True):
    """A versioned, sourced set of criteria for one pathway."""

    id: str
    version: str
    title: str
    pathway: Pathway
    source: str
    criteria: tuple[Criterion, ...]
    helpers: tuple[Criterion, ...] = ()
    """Criteria evaluated for ``parts`` of a combining criterion but not reported."""

    def criterion(self, criterion_id: str) -> Criterion:
        """Return the criterion (or helper) with this id; ``KeyError`` if none."""
        for item in (*self.criteria, *self.helpers):
            if item.id == criterion_id:
                return item
        raise KeyError(criterion_id)


class CriterionResult(Struct, frozen=True):
    """The outcome of one criterion.

    ``evidence`` is non-empty for ``met``/``not_met``; ``needs`` (what to record to
    decide it) is non-empty exactly for ``unknown``.
    """

    id: str
    status: Status
    reason: str
    evidence: tuple[Evidence, ...] = ()
    needs: tuple[str, ...] = ()


class SetResult(Struct, frozen=True):
    """The outcome of a criteria set, with every criterion's result."""

    criteria_set: CriteriaSet
    status: SetStatus
    summary: str
    results: tuple[CriterionResult, ...]


class EvaluationContext(Struct, frozen=True):
    """What a rule may read: the inputs, the config, and results already decided."""

    inputs: CriteriaInputs
    config: EvaluationConfig
    set_results: Mapping[str, SetResult] = field(default_factory=dict)
    sibling_results: Mapping[str, CriterionResult] = field(default_factory=dict)

    @property
    def evaluation_date(self) -> date:
        """Return the "as of" day of the evaluation."""
        return self.inputs.evaluation_date


RuleFunction = Callable[[Criterion, EvaluationContext], CriterionResult]


class Rule(Struct, frozen=True):
    """An entry of the rule vocabulary: its function and what a criterion must declare.

    ``reads`` are the input names the rule reads; ``thresholds`` maps each threshold
    name it needs to its unit. Loading a set checks every criterion against these.
    """

    name: str
    function: RuleFunction
    reads: frozenset[str]
    thresholds: Mapping[str, str] = field(default_factory=dict)
    combines: bool = False
    needs_set: bool = False
