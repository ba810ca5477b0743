"""Validate one resource against the FHIR R4 structure before any of its values is used.

Only the resources that decide something are validated (the mappers screen the rest
cheaply first, by code and status); a resource that fails becomes a warning, never an
exception that fails the evaluation. The check itself is
:func:`service.mappers.structure.check_structure`.

Hostile documents are bounded before it starts: a resource of more than
:data:`MAX_RESOURCE_ELEMENTS` elements is not read (a warning), and one evaluation
validates at most :data:`VALIDATION_BUDGET_ELEMENTS` elements in all
(:func:`validation_budget`; past it, the resources left are warnings "not checked").
Real resources have tens of elements; a real record validates a few thousand.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from service.mappers.errors import UnreadableError
from service.mappers.reading import Entry
from service.mappers.structure import ElementLimitError, check_structure

__all__ = [
    "MAX_RESOURCE_ELEMENTS",
    "VALIDATION_BUDGET_ELEMENTS",
    "validate_resource",
    "validation_budget",
]

MAX_RESOURCE_ELEMENTS = 1_000
VALIDATION_BUDGET_ELEMENTS = 30_000
_NOT_CHECKED = (
    f"not checked: the record holds more than {VALIDATION_BUDGET_ELEMENTS} elements to validate"
)
_BUDGET: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "nelm_validation_budget", default=None
)
_SUPPORTED = frozenset({"Observation", "Condition", "Procedure", "Patient"})


@contextmanager
def validation_budget(elements: int = VALIDATION_BUDGET_ELEMENTS) -> Iterator[None]:
    """Validate at most ``elements`` elements inside the block (one evaluation)."""
    token = _BUDGET.set([elements])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def validate_resource(entry: Entry) -> None:
    """Raise :class:`UnreadableError` naming the first invalid element of the resource.

    The message names the element path and the kind of error, never the value, so
    it can be shown and logged without repeating patient data. The elements walked are
    charged to the evaluation's budget, whether the resource is valid or not.
    """
    if entry.resource_type not in _SUPPORTED:
        raise UnreadableError(f"resource type {entry.resource_type} is not supported")
    budget = _BUDGET.get()
    if budget is not None and budget[0] <= 0:
        raise UnreadableError(_NOT_CHECKED)
    allowance = MAX_RESOURCE_ELEMENTS if budget is None else min(MAX_RESOURCE_ELEMENTS, budget[0])
    left = [allowance]
    try:
        check_structure(entry.resource, entry.resource_type, left)
    except ElementLimitError:
        if allowance == MAX_RESOURCE_ELEMENTS:
            raise UnreadableError(
                f"more than {MAX_RESOURCE_ELEMENTS} elements: too large to read"
            ) from None
        assert budget is not None  # the allowance was the budget's
        budget[0] = 0
        raise UnreadableError(_NOT_CHECKED) from None
    finally:
        if budget is not None:
            budget[0] -= min(allowance - left[0], budget[0])
