"""What the clinician page shows, built from the JSON evaluation result (interfaces.md §1).

Pure functions, no Flask: the templates only lay out what is prepared here. Every
string that comes from the record stays a plain string; the templates escape it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.criteria import DEFAULT_SETS, CriteriaSet
from service.criteria.notes import SUPPORT_NOTE
from service.criteria.sources import cite

__all__ = [
    "CRITERION_STATUS_TEXT",
    "SET_STATUS_TEXT",
    "CriterionView",
    "EvidenceView",
    "PageView",
    "SetView",
    "WarningView",
    "page_view",
    "reference_href",
]

SET_STATUS_TEXT: Mapping[str, str] = {
    "eligible": "Eligible",
    "ineligible": "Not eligible",
    "indeterminate": "Indeterminate",
}
CRITERION_STATUS_TEXT: Mapping[str, str] = {
    "met": "Met",
    "not_met": "Not met",
    "unknown": "Unknown",
}
SHORT_NAMES: Mapping[str, str] = {
    "milan-net": "Milan-NET",
    "enets": "ENETS",
    "unos": "UNOS",
    "resection": "Resection",
}
PATHWAY_TEXT: Mapping[str, str] = {
    "transplant": "Liver transplantation",
    "resection": "Hepatic resection",
}
UNIT_TEXT: Mapping[str, str] = {"a": "years", "10*9/L": "×10⁹/L", "10*3/uL": "×10³/µL"}
"""UCUM codes shown in clinical notation; any other unit is shown as it is."""

_SETS: Mapping[str, CriteriaSet] = {s.id: s for s in DEFAULT_SETS}
_REFERENCE = re.compile(r"[A-Z][A-Za-z]{0,63}/[A-Za-z0-9\-.]{1,64}")
_DAY = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?")


@dataclass(frozen=True)
class EvidenceView:
    """One piece of evidence: the value with its unit, its date, and its resource."""

    reference: str
    href: str | None
    value: str | None
    date: str | None
    day: str | None
    """The day part of ``date`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``), if it has one."""


@dataclass(frozen=True)
class CriterionView:
    """One criterion's result, with its label from the criteria set."""

    id: str
    label: str
    status: str
    status_text: str
    reason: str
    evidence: tuple[EvidenceView, ...]
    needs: tuple[str, ...]
    source: str | None


@dataclass(frozen=True)
class SetView:
    """One criteria set's result."""

    id: str
    name: str
    title: str
    pathway: str
    pathway_text: str
    version: str
    status: str
    status_text: str
    summary: str
    counts: str
    criteria: tuple[CriterionView, ...]
    source: str | None


@dataclass(frozen=True)
class WarningView:
    """A resource the evaluation could not use, and why."""

    reference: str | None
    href: str | None
    message: str


@dataclass(frozen=True)
class PageView:
    """Everything the evaluation page shows."""

    patient: str
    evaluation_date: str
    engine_name: str
    engine_version: str
    sets: tuple[SetView, ...]
    to_record: tuple[str, ...]
    """What to record to decide the unknown criteria, each need once, in page order."""
    notes: tuple[str, ...]
    warnings: tuple[WarningView, ...]
    fhir_base: str | None


def reference_href(fhir_base: str | None, reference: object) -> str | None:
    """Return ``<fhir_base>/<reference>`` for a plain ``Type/id`` reference when a FHIR
    base is known; ``None`` otherwise (the page then shows the reference as text)."""
    if not fhir_base or not isinstance(reference, str) or not _REFERENCE.fullmatch(reference):
        return None
    return f"{fhir_base.rstrip('/')}/{reference}"


def _value_text(value: Any, unit: Any) -> str | None:
    """Return ``value unit`` as a clinician reads it; no value, no text (a unit alone
    says nothing)."""
    if value is None:
        return None
    shown = ("yes" if value else "no") if isinstance(value, bool) else str(value)
    if unit is None or unit == "":
        return shown
    return f"{shown} {UNIT_TEXT.get(str(unit), str(unit))}"


def _day(date: Any) -> str | None:
    """Return the calendar-day part of a FHIR date or dateTime, or ``None``."""
    if not isinstance(date, str):
        return None
    match = _DAY.match(date)
    return match.group(0) if match else None


def _evidence(item: Mapping[str, Any], fhir_base: str | None) -> EvidenceView:
    reference = str(item.get("reference", ""))
    date = item.get("date")
    return EvidenceView(
        reference=reference,
        href=reference_href(fhir_base, reference),
        value=_value_text(item.get("value"), item.get("unit")),
        date=str(date) if date is not None else None,
        day=_day(date),
    )


def _criterion(
    item: Mapping[str, Any], criteria_set: CriteriaSet | None, fhir_base: str | None
) -> CriterionView:
    criterion_id = str(item["id"])
    label, source = criterion_id, None
    if criteria_set is not None:
        try:
            definition = criteria_set.criterion(criterion_id)
        except KeyError:
            definition = None
        if definition is not None:
            label, source = definition.label, cite(definition.source)
    status = str(item["status"])
    return CriterionView(
        id=criterion_id,
        label=label,
        status=status,
        status_text=CRITERION_STATUS_TEXT.get(status, status),
        reason=str(item.get("reason", "")),
        evidence=tuple(_evidence(e, fhir_base) for e in item.get("evidence", [])),
        needs=tuple(str(n) for n in item.get("needs", [])),
        source=source,
    )


def _counts(criteria: Sequence[CriterionView]) -> str:
    counted = Counter(c.status for c in criteria)
    parts = [
        f"{counted[status]} {text.lower()}"
        for status, text in CRITERION_STATUS_TEXT.items()
        if counted[status]
    ]
    return ", ".join(parts)


def _set(item: Mapping[str, Any], fhir_base: str | None) -> SetView:
    set_id = str(item["criteriaSet"])
    definition = _SETS.get(set_id)
    criteria = tuple(_criterion(c, definition, fhir_base) for c in item["criteria"])
    status = str(item["status"])
    pathway = str(item.get("pathway", ""))
    title = str(item.get("title") or (definition.title if definition else set_id))
    return SetView(
        id=set_id,
        name=SHORT_NAMES.get(set_id, set_id),
        title=title,
        pathway=pathway,
        pathway_text=PATHWAY_TEXT.get(pathway, pathway),
        version=str(item["version"]),
        status=status,
        status_text=SET_STATUS_TEXT.get(status, status),
        summary=str(item.get("summary", "")),
        counts=_counts(criteria),
        criteria=criteria,
        source=cite(definition.source) if definition else None,
    )


def page_view(result: Mapping[str, Any], *, fhir_base: str | None = None) -> PageView:
    """Return what the page shows for an evaluation result; FHIR references are linked
    under ``fhir_base`` when it is given."""
    engine = result.get("engine", {})
    warnings = tuple(
        WarningView(
            reference=str(w["reference"]) if w.get("reference") is not None else None,
            href=reference_href(fhir_base, w.get("reference")),
            message=str(w.get("message", "")),
        )
        for w in result.get("warnings", [])
    )
    sets = tuple(_set(a, fhir_base) for a in result["assessments"])
    needs = (n for s in sets for c in s.criteria if c.status == "unknown" for n in c.needs)
    return PageView(
        patient=str(result["patient"]),
        evaluation_date=str(result["evaluationDate"]),
        engine_name=str(engine.get("name", "")),
        engine_version=str(engine.get("version", "")),
        sets=sets,
        to_record=tuple(dict.fromkeys(needs)),
        notes=tuple(str(n) for n in result.get("notes", []) if n != SUPPORT_NOTE),
        warnings=warnings,
        fhir_base=fhir_base,
    )
