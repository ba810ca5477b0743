"""Patient → date of birth."""

from __future__ import annotations

from service.criteria.inputs import Warning
from service.criteria.values import DateFormatError, DateSpan, parse_fhir_date
from service.mappers.errors import UnreadableError
from service.mappers.reading import Entry
from service.mappers.validation import validate_resource

__all__ = ["read_birth_date"]


def read_birth_date(patient: Entry, warnings: list[Warning]) -> DateSpan | None:
    """Return the span of days ``Patient.birthDate`` could be, or ``None``.

    An unreadable Patient or birth date is reported and treated as no birth date.
    """
    value = patient.resource.get("birthDate")
    if value is None:
        return None
    try:
        validate_resource(patient)
        if not isinstance(value, str) or "T" in value:
            raise UnreadableError("birthDate is not a FHIR date")
        return parse_fhir_date(value)
    except (UnreadableError, DateFormatError) as exc:
        warnings.append(Warning(patient.reference, f"birth date unreadable ({exc}); not used"))
        return None
