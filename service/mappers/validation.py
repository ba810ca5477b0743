"""Validate one resource against the FHIR R4 (R4B models) structure definitions.

Only the resources that decide something are validated (the mappers screen the
rest cheaply first); a resource that fails becomes a warning, never an exception
that fails the evaluation.

Validation builds a model object per element (some 30 to 140 microseconds and a
kilobyte or more each), so hostile documents are bounded before it starts: a resource
of more than :data:`MAX_RESOURCE_ELEMENTS` elements is not read (a warning), and one
evaluation validates at most :data:`VALIDATION_BUDGET_ELEMENTS` elements in all
(:func:`validation_budget`; past it, the resources left are warnings "not checked").
Real resources have tens of elements; a real record validates a few thousand.
"""

from __future__ import annotations

import contextvars
import hashlib
import importlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from service.mappers.errors import UnreadableError
from service.mappers.json_text import without_hostile_numbers
from service.mappers.reading import Entry

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

_MODEL_MODULES = {
    "Observation": "observation",
    "Condition": "condition",
    "Procedure": "procedure",
    "Patient": "patient",
}
"""The R4B model module per type: imported on first use (fhir.resources and pydantic take
a few hundred milliseconds to import, which a run that validates nothing never pays)."""


@cache
def _model(resource_type: str) -> Any:
    module = importlib.import_module(f"fhir.resources.R4B.{_MODEL_MODULES[resource_type]}")
    return getattr(module, resource_type)


_SUBJECT_REQUIRED = frozenset({"Condition", "Procedure"})
"""R4 types whose ``subject`` is 1..1 (an Observation's is optional)."""
_ATTRIBUTED = {"reference": "Patient/attributed"}


class _VerdictCache:
    """Remember validation verdicts by a digest of the resource's content.

    Validation is a pure function of the content, and an EHR opens the same chart
    again and again, so re-validating unchanged resources is wasted work (it is most
    of an evaluation's CPU time). Only SHA-256 digests and error messages (which
    never hold values) are kept; bounded, least recently used entries go first.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._verdicts: OrderedDict[bytes, str | None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def digest(resource: dict[str, Any]) -> bytes | None:
        """Return a digest of the content, or ``None`` to skip the cache.

        ``repr`` keeps types apart (``Decimal('1.0')``, ``1.0`` and ``'1.0'`` differ),
        which a JSON dump with a fallback for Decimals would not.
        """
        try:
            text = repr(resource)
        except RecursionError:
            return None
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()

    def get(self, key: bytes) -> tuple[bool, str | None]:
        with self._lock:
            if key not in self._verdicts:
                return False, None
            self._verdicts.move_to_end(key)
            return True, self._verdicts[key]

    def put(self, key: bytes, verdict: str | None) -> None:
        with self._lock:
            self._verdicts[key] = verdict
            self._verdicts.move_to_end(key)
            while len(self._verdicts) > self._size:
                self._verdicts.popitem(last=False)


_CACHE = _VerdictCache(size=20_000)


@contextmanager
def validation_budget(elements: int = VALIDATION_BUDGET_ELEMENTS) -> Iterator[None]:
    """Validate at most ``elements`` elements inside the block (one evaluation)."""
    token = _BUDGET.set([elements])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _elements(resource: dict[str, Any], limit: int) -> int:
    """Count the resource's elements (values, objects, list items), up to ``limit + 1``."""
    count = 0
    pending: list[Any] = [resource]
    while pending and count <= limit:
        node = pending.pop()
        count += 1
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return count


def _charge(resource: dict[str, Any]) -> None:
    """Refuse a resource too large to validate, or past the evaluation's budget."""
    budget = _BUDGET.get()
    if budget is not None and budget[0] <= 0:
        raise UnreadableError(_NOT_CHECKED)
    limit = MAX_RESOURCE_ELEMENTS if budget is None else min(MAX_RESOURCE_ELEMENTS, budget[0])
    size = _elements(resource, limit)
    if size > MAX_RESOURCE_ELEMENTS:
        raise UnreadableError(f"more than {MAX_RESOURCE_ELEMENTS} elements: too large to read")
    if budget is None:
        return
    if size > budget[0]:
        budget[0] = 0
        raise UnreadableError(_NOT_CHECKED)
    budget[0] -= size


def validate_resource(entry: Entry) -> None:
    """Raise :class:`UnreadableError` naming the first invalid element of the resource.

    The message names the element path and the kind of error, never the value, so
    it can be shown and logged without repeating patient data. Verdicts are cached by
    a digest of the content (see :class:`_VerdictCache`).
    """
    _charge(entry.resource)
    key = _VerdictCache.digest(entry.resource)
    if key is not None:
        known, verdict = _CACHE.get(key)
        if known:
            if verdict is not None:
                raise UnreadableError(verdict)
            return
    try:
        _validate(entry)
    except UnreadableError as exc:
        if key is not None:
            _CACHE.put(key, str(exc))
        raise
    if key is not None:
        _CACHE.put(key, None)


def _validate(entry: Entry) -> None:
    if entry.resource_type not in _MODEL_MODULES:
        raise UnreadableError(f"resource type {entry.resource_type} is not supported")
    from pydantic import ValidationError

    model = _model(entry.resource_type)
    resource = entry.resource
    if entry.resource_type in _SUBJECT_REQUIRED and resource.get("subject") is None:
        # criteria.md §7: with one Patient, a resource without subject belongs to it. The
        # Bundle reader has already decided whose it is, so R4's 1..1 subject is not held
        # against it; every other element is still checked.
        resource = {**resource, "subject": _ATTRIBUTED}
    # A number no laboratory can report is the value readers' business (uninterpretable,
    # criteria.md §7), not a structural fault that would skip the whole resource.
    resource = without_hostile_numbers(resource)
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "type": "invalid"}
        path = ".".join(str(part) for part in first.get("loc", ())) or "resource"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise UnreadableError(f"not valid FHIR R4: {path}: {first.get('type')}{more}") from exc
    except (TypeError, ValueError, RecursionError) as exc:
        raise UnreadableError(f"not valid FHIR R4: {type(exc).__name__}") from exc
