"""Evidence as a clinician reads it: what it is, the value as recorded, and when.

The result's evidence (interfaces.md §1) names a resource, a normalised value and unit,
and a date. The page shows more, read from the patient's record itself:

- **what**: the code's display text with the code, ``Malignant carcinoid tumour of the
  ileum (C7A.012)``; for an Observation, the name of the test or finding;
- **the value as recorded** with the conversion beside it when the numbers differ,
  ``10 µmol/L = 0.58 mg/dL``; when they are the same number (``220 K/uL`` is
  ``220 ×10⁹/L``) only the clinical form;
- **one spelling per unit**, as clinicians write it: ``×10⁹/L``, ``µmol/L``, ``mg/dL``.

Nothing here decides anything: a value the record holds in an unexpected shape is shown
as the evaluation normalised it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from service.code_names import concept_display
from service.mappers import PatientRecord
from service.mappers.reading import Entry

__all__ = ["EvidenceReader", "EvidenceView", "clinical_unit", "format_value", "reference_href"]

UNIT_TEXT: Mapping[str, str] = {
    spelling.casefold(): shown
    for shown, spellings in {
        "×10⁹/L": ("10*9/L", "10^9/L", "x10^9/L", "x10E9/L", "10E9/L", "x10(9)/L", "G/L"),
        "×10³/µL": (
            "10*3/uL",
            "K/uL",
            "x10(3)/mcL",
            "10^3/uL",
            "x10^3/uL",
            "x10E3/uL",
            "thou/mm3",
            "10^3/mm3",
            "10*3/mm3",
        ),
        "/µL": ("/uL", "/mcL", "/mm3"),
        "µmol/L": ("umol/L", "µmol/L", "μmol/L"),
        "mg/dL": ("mg/dL",),
        "%": ("%", "percent"),
        "years": ("a",),
    }.items()
    for spelling in spellings
}
"""Unit spellings (UCUM codes and what EHRs send) → the one clinical spelling."""

_DECIMALS: Mapping[str, int] = {"mg/dL": 2, "µmol/L": 0, "×10⁹/L": 0, "%": 1}
_SAME_AS_NORMALISED = {"×10³/µL": "×10⁹/L"}
"""Units numerically equal to the normalised one: shown in the normalised spelling."""
_REFERENCE = re.compile(r"[A-Z][A-Za-z]{0,63}/[A-Za-z0-9\-.]{1,64}")
_PATTERNS = {
    "type-i": "Frilling type I",
    "type-ii": "Frilling type II",
    "type-iii": "Frilling type III",
}


def reference_href(fhir_base: str | None, reference: object) -> str | None:
    """Return ``<fhir_base>/<reference>`` for a plain ``Type/id`` reference when a FHIR
    base is known; ``None`` otherwise (the page then shows the reference as text)."""
    if not fhir_base or not isinstance(reference, str) or not _REFERENCE.fullmatch(reference):
        return None
    return f"{fhir_base.rstrip('/')}/{reference}"


def clinical_unit(unit: object) -> str:
    """Return the clinical spelling of a unit (``10*9/L`` → ``×10⁹/L``); unknown ones as
    given."""
    text = str(unit).strip() if unit is not None else ""
    return UNIT_TEXT.get(text.casefold(), text)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def format_value(value: object, unit: str) -> str:
    """Return a number rounded as clinicians write it in ``unit`` (clinical spelling)."""
    number = _decimal(value)
    if number is None:
        return str(value)
    places = _DECIMALS.get(unit)
    if places is not None and number != number.to_integral_value():
        number = number.quantize(Decimal(1).scaleb(-places))
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class EvidenceView:
    """One piece of evidence, readable: what, the value (as recorded = normalised), when."""

    reference: str
    href: str | None
    what: str | None
    value: str | None
    date: str | None
    day: str | None
    """The calendar-day part of ``date`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""


def _day(date: object) -> str | None:
    if not isinstance(date, str):
        return None
    match = re.match(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?", date)
    return match.group(0) if match else None


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _PATTERNS.get(str(value), str(value))


class EvidenceReader:
    """Make the evidence of one patient's result readable from the patient's record."""

    def __init__(
        self,
        record: PatientRecord | None,
        fhir_base: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        """``labels``: what the evaluation called a Condition or Procedure by reference
        (``NET primary, ileum``), shown when its code has no display text."""
        entries = () if record is None else (record.patient, *record.resources)
        self._by_reference: dict[str, Entry] = {e.reference: e for e in entries}
        self._fhir_base = fhir_base
        self._labels = labels or {}

    def view(self, item: Mapping[str, Any]) -> EvidenceView:
        """Return the readable form of one evidence entry of the result."""
        reference = str(item.get("reference", ""))
        entry = self._by_reference.get(reference)
        resource = entry.resource if entry is not None else {}
        what, value = self._describe(resource, item)
        date = item.get("date")
        return EvidenceView(
            reference=reference,
            href=reference_href(self._fhir_base, reference),
            what=what,
            value=value,
            date=str(date) if date is not None else None,
            day=_day(date),
        )

    def _describe(
        self, resource: Mapping[str, Any], item: Mapping[str, Any]
    ) -> tuple[str | None, str | None]:
        kind = resource.get("resourceType")
        value, unit = item.get("value"), item.get("unit")
        if kind in ("Condition", "Procedure") or (not resource and value is not None):
            name = concept_display(resource.get("code"), value) or self._labels.get(
                str(item.get("reference"))
            )
            shown = f"{name} ({value})" if name and value is not None else name or _text(value)
            return shown, None
        if kind == "Patient":
            return "Age", None if value is None else f"{value} {clinical_unit(unit)}".strip()
        what = concept_display(resource.get("code")) if kind == "Observation" else None
        return what, self._value(resource, value, unit)

    @staticmethod
    def _value(resource: Mapping[str, Any], value: object, unit: object) -> str | None:
        if value is None:
            return None
        if unit is None or unit == "":
            concept = resource.get("valueCodeableConcept")
            return concept_display(concept) if isinstance(concept, Mapping) else _plain(value)
        normal_unit = clinical_unit(unit)
        normalised = f"{format_value(value, normal_unit)} {normal_unit}"
        quantity = resource.get("valueQuantity")
        if not isinstance(quantity, Mapping) or _decimal(quantity.get("value")) is None:
            recorded_text = resource.get("valueString")
            if isinstance(recorded_text, str) and recorded_text.strip():
                return f"{recorded_text.strip()} = {normalised}"
            return normalised
        recorded_unit = clinical_unit(quantity.get("unit") or quantity.get("code") or "")
        recorded_number = _decimal(quantity.get("value"))
        comparator = (
            quantity.get("comparator") if isinstance(quantity.get("comparator"), str) else ""
        )
        same_unit = _SAME_AS_NORMALISED.get(recorded_unit, recorded_unit) == normal_unit
        if same_unit and recorded_number == _decimal(value) and not comparator:
            return normalised
        recorded = f"{comparator}{format_value(recorded_number, recorded_unit)} {recorded_unit}"
        return f"{recorded.strip()} = {normalised}"


def _text(value: object) -> str | None:
    return None if value is None else str(value)
