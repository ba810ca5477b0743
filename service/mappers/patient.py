"""Patient → date of birth, and whether the patient is recorded as deceased."""

from __future__ import annotations

from datetime import date

from service.criteria.inputs import Deceased, Warning
from service.criteria.values import DateFormatError, DateSpan, parse_fhir_date
from service.mappers.errors import UnreadableError
from service.mappers.reading import Entry
from service.mappers.validation import validate_resource

__all__ = ["read_birth_date", "read_deceased"]


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


def read_deceased(patient: Entry, at: date, warnings: list[Warning]) -> Deceased | None:
    """Return the deceased fact when the Patient is recorded as deceased on or before
    ``at`` (criteria.md §7), with a warning saying so; else ``None``.

    ``deceasedBoolean`` true has no date, so the evaluation date cannot be shown to be
    before death: it counts. So does a ``deceasedDateTime`` any day of which is on or
    before ``at``, and one that cannot be read (the patient is recorded as deceased at
    some time). A death after ``at`` is not mentioned: the patient was alive then.
    """
    resource = patient.resource
    flag, when = resource.get("deceasedBoolean"), resource.get("deceasedDateTime")
    if when is not None:
        try:
            if not isinstance(when, str):
                raise DateFormatError("not a string")
            span: DateSpan | None = parse_fhir_date(when)
        except DateFormatError:
            warnings.append(
                Warning(
                    patient.reference,
                    "deceasedDateTime is not a valid date; the patient "
                    "is taken to be deceased at an unknown date",
                )
            )
            span = None
        if span is not None and span.earliest > at:
            return None
        deceased = Deceased(patient.reference, span)
    elif flag is True:
        deceased = Deceased(patient.reference, None)
    else:
        if flag is not None and not isinstance(flag, bool):
            warnings.append(
                Warning(patient.reference, "deceasedBoolean is not a boolean; not used")
            )
        return None
    when_text = "(no date given)" if deceased.date is None else f"on {deceased.date.label}"
    warnings.append(
        Warning(
            patient.reference,
            f"the patient is recorded as deceased {when_text}: the criteria are evaluated as "
            "usual, but no card is shown and no RiskAssessment is written",
        )
    )
    return deceased
