"""Validate one resource against the FHIR R4 (R4B models) structure definitions.

Only the resources that decide something are validated (the mappers screen the
rest cheaply first); a resource that fails becomes a warning, never an exception
that fails the evaluation.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure
from pydantic import ValidationError

from service.mappers.errors import UnreadableError
from service.mappers.reading import Entry

__all__ = ["validate_resource"]

_MODELS: dict[str, Any] = {
    "Observation": Observation,
    "Condition": Condition,
    "Procedure": Procedure,
    "Patient": Patient,
}
_SUBJECT_REQUIRED = frozenset({"Condition", "Procedure"})
"""R4 types whose ``subject`` is 1..1 (an Observation's is optional)."""
_ATTRIBUTED = {"reference": "Patient/attributed"}


def validate_resource(entry: Entry) -> None:
    """Raise :class:`UnreadableError` naming the first invalid element of the resource.

    The message names the element path and the kind of error, never the value, so
    it can be shown and logged without repeating patient data.
    """
    model = _MODELS.get(entry.resource_type)
    if model is None:
        raise UnreadableError(f"resource type {entry.resource_type} is not supported")
    resource = entry.resource
    if entry.resource_type in _SUBJECT_REQUIRED and resource.get("subject") is None:
        # criteria.md §7: with one Patient, a resource without subject belongs to it. The
        # Bundle reader has already decided whose it is, so R4's 1..1 subject is not held
        # against it; every other element is still checked.
        resource = {**resource, "subject": _ATTRIBUTED}
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
