"""Criteria sets and their evaluation; depends on the standard library and msgspec only.

msgspec gives the records their base class (:mod:`service.records`, the one place it is
imported from): issue 12 measured frozen dataclasses at 40 ms of every CLI start.

Use :func:`evaluate` with :data:`DEFAULT_SETS` (validated at import) and an
:class:`EvaluationConfig`; build the :class:`CriteriaInputs` with ``service.mappers``.
The sets' clinician wording, :mod:`service.criteria.documentation`, is checked against
them when it is first imported (by the web app, or ``criteria --markdown``), not here:
an evaluation does not read it.
"""

from __future__ import annotations

from service.criteria.catalogue import CriteriaSetError, validate_sets
from service.criteria.config import ConfigError, EvaluationConfig
from service.criteria.evaluator import Evaluation, evaluate
from service.criteria.inputs import CriteriaInputs
from service.criteria.model import CriteriaSet, Criterion, CriterionResult, SetResult
from service.criteria.sets import DEFAULT_SETS as _DEFAULT_SETS
from service.criteria.status import SetStatus, Status

__all__ = [
    "DEFAULT_SETS",
    "ConfigError",
    "CriteriaInputs",
    "CriteriaSet",
    "CriteriaSetError",
    "Criterion",
    "CriterionResult",
    "Evaluation",
    "EvaluationConfig",
    "SetResult",
    "SetStatus",
    "Status",
    "evaluate",
    "validate_sets",
]

DEFAULT_SETS: tuple[CriteriaSet, ...] = validate_sets(_DEFAULT_SETS)
"""Milan-NET, ENETS, UNOS and resection, in result order; validated when imported."""
