"""Who the page is about: name, birth date and age, sex and record number, from Patient.

Read defensively: a Patient in the wild may lack any of these, or carry them in shapes
the service does not expect; a missing or unreadable part is shown as "not recorded",
never guessed, and never stops the page.

- **Name**: the first ``name`` with ``use`` ``official``, else ``usual``, else the
  first one; ``FAMILY, Given Given`` (family in capitals, as wards and tumour boards
  write it), else its ``text``.
- **Record number**: the first ``identifier`` whose ``type`` has the v2-0203 code ``MR``
  (medical record number); its ``value``.
- **Age** in whole years on the evaluation date; a partial birth date gives a range.
- **Deceased**: ``deceasedBoolean`` true or ``deceasedDateTime`` on or before the
  evaluation date (criteria.md §7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from service.criteria.values import DateFormatError, parse_fhir_date, whole_years_between
from service.mappers.patient import read_deceased
from service.mappers.reading import Entry

__all__ = ["MR_TYPE_SYSTEM", "PatientIdentity", "patient_identity"]

MR_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
NOT_RECORDED = "not recorded"
_SEX = {"female": "Female", "male": "Male", "other": "Other", "unknown": "Unknown"}
_NAME_USES = ("official", "usual")


@dataclass(frozen=True)
class PatientIdentity:
    """What the identity header shows; every field is display text."""

    name: str
    birth_date: str
    age: str
    sex: str
    record_number: str
    deceased: str | None
    """``"Deceased 2026-10-01"`` (or ``"Deceased"``) when the patient is recorded as dead."""


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _name(patient: Mapping[str, Any]) -> str:
    names = [n for n in patient.get("name") or () if isinstance(n, Mapping)]
    chosen = next(
        (n for use in _NAME_USES for n in names if n.get("use") == use),
        names[0] if names else None,
    )
    if chosen is None:
        return NOT_RECORDED
    family = _text(chosen.get("family"))
    given = [g.strip() for g in chosen.get("given") or () if _text(g)]
    if family or given:
        parts = [family.upper()] if family else []
        return ", ".join(parts + ([" ".join(given)] if given else []))
    return _text(chosen.get("text")) or NOT_RECORDED


def _record_number(patient: Mapping[str, Any]) -> str:
    for identifier in patient.get("identifier") or ():
        if not isinstance(identifier, Mapping):
            continue
        codings = (identifier.get("type") or {}).get("coding") or ()
        if any(
            isinstance(c, Mapping) and c.get("system") == MR_TYPE_SYSTEM and c.get("code") == "MR"
            for c in codings
        ):
            value = _text(identifier.get("value"))
            if value:
                return value
    return NOT_RECORDED


def _birth_and_age(patient: Mapping[str, Any], at: date) -> tuple[str, str]:
    text = _text(patient.get("birthDate"))
    if text is None:
        return NOT_RECORDED, NOT_RECORDED
    try:
        span = parse_fhir_date(text)
    except DateFormatError:
        return text, NOT_RECORDED
    if span.earliest > at:
        return text, NOT_RECORDED
    oldest = whole_years_between(span.earliest, at)
    youngest = whole_years_between(min(span.latest, at), at)
    age = f"{oldest} years" if oldest == youngest else f"{youngest}-{oldest} years"
    return span.label, age


def _deceased(patient: Mapping[str, Any], at: date) -> str | None:
    """Say the deceased fact of the evaluation's rule (:func:`read_deceased`, criteria.md
    §7), so the header and the suppressed card never disagree."""
    fact = read_deceased(Entry(dict(patient), "Patient/identity"), at, [])  # warned elsewhere
    if fact is None:
        return None
    if fact.date is not None:
        return f"Deceased {fact.date.label}"
    text = _text(patient.get("deceasedDateTime"))
    return "Deceased" if text is None else f"Deceased ({text})"


def patient_identity(patient: Mapping[str, Any], at: date) -> PatientIdentity:
    """Return the identity header of ``patient`` (a FHIR Patient) as of ``at``."""
    born, age = _birth_and_age(patient, at)
    gender = patient.get("gender")
    return PatientIdentity(
        name=_name(patient),
        birth_date=born,
        age=age,
        sex=_SEX.get(gender, NOT_RECORDED) if isinstance(gender, str) else NOT_RECORDED,
        record_number=_record_number(patient),
        deceased=_deceased(patient, at),
    )
