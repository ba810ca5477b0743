"""Read FHIR answers: statuses to errors, bodies to resources, pages to entries.

Pure functions, no I/O: the client hands them what the server sent.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any

from service.criteria.inputs import Warning
from service.fhir.errors import (
    FhirAuthError,
    FhirError,
    FhirInvalidResponseError,
    FhirNotFoundError,
    FhirOperationOutcomeError,
    FhirUnavailableError,
)
from service.mappers.bundle import PatientRecord, record_from_resources
from service.mappers.json_text import JsonTextError, parse_json
from service.mappers.outcomes import is_outcome_entry, issue_texts, reported
from service.mappers.reading import Entry, make_entry

__all__ = [
    "Answer",
    "error_for",
    "expect",
    "json_default",
    "parse_resource",
    "patient_record",
    "retry_after",
    "search_page",
]


@dataclass(frozen=True)
class Answer:
    """A successful answer: status, headers and the parsed body (``None`` if empty)."""

    status: int
    headers: Mapping[str, str]
    body: dict[str, Any] | None


def json_default(value: Any) -> Any:
    """Let ``json.dumps`` write the Decimals the mappers read (``1.50`` goes out as ``1.5``)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def retry_after(value: str | None, now: float) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for, or ``None`` if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _outcome_of(body: dict[str, Any] | None) -> dict[str, Any] | None:
    if body is not None and body.get("resourceType") == "OperationOutcome":
        return body
    return None


def error_for(status: int, label: str, url: str, body: dict[str, Any] | None) -> FhirError:
    """Return the error for an HTTP error status, keeping an OperationOutcome body."""
    outcome = _outcome_of(body)
    context: dict[str, Any] = {"url": url, "status": status, "outcome": outcome}
    if status in (401, 403):
        return FhirAuthError(f"{label}: the server refused our credentials ({status})", **context)
    if status in (404, 410):
        return FhirNotFoundError(f"{label}: not found ({status})", **context)
    if status == 429 or status >= 500:
        return FhirUnavailableError(f"{label}: the server is unavailable ({status})", **context)
    if 400 <= status < 500:
        return FhirOperationOutcomeError(f"{label}: the server rejected it ({status})", **context)
    return FhirInvalidResponseError(f"{label}: unexpected HTTP status {status}", **context)


def expect(answer: Answer, resource_type: str, label: str, url: str) -> dict[str, Any]:
    """Return the body if it is a ``resource_type``, else raise FhirInvalidResponseError."""
    body = answer.body
    if body is None or body.get("resourceType") != resource_type:
        found = None if body is None else body.get("resourceType")
        raise FhirInvalidResponseError(
            f"{label}: expected a {resource_type}, got {found!r}", url=url, status=answer.status
        )
    return body


def parse_resource(raw: bytes, label: str, where: str, status: int) -> dict[str, Any]:
    """Parse a FHIR JSON resource with the service's JSON reader (exact decimals, hostile
    numbers kept for the mappers to report), as the mappers expect."""
    try:
        body = parse_json(raw)
    except JsonTextError as exc:
        raise FhirInvalidResponseError(
            f"{label}: the answer is not JSON", url=where, status=status
        ) from exc
    if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
        raise FhirInvalidResponseError(
            f"{label}: the answer is not a FHIR resource", url=where, status=status
        )
    return body


def search_page(bundle: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Split a searchset page into resource entries and the server's notes (the text of
    each warning, error or fatal issue of an OperationOutcome entry, criteria.md §7)."""
    entries: list[dict[str, Any]] = []
    notes: list[str] = []
    raw_entries = bundle.get("entry", [])
    if not isinstance(raw_entries, list):
        raise FhirInvalidResponseError("a search Bundle's entry is not a list")
    for raw in raw_entries:
        if not isinstance(raw, dict) or not isinstance(raw.get("resource"), dict):
            continue
        if is_outcome_entry(raw):
            notes.extend(issue_texts(raw["resource"]))
            continue
        entries.append(raw)
    return entries, notes


def patient_record(
    patient: Entry, searches: Mapping[str, tuple[list[dict[str, Any]], list[str]]]
) -> PatientRecord:
    """Keep the searched type's resources that are the patient's; notes become warnings."""
    resources: list[Entry] = []
    warnings: list[Warning] = []
    for name, (entries, notes) in searches.items():
        for entry in entries:
            if entry["resource"].get("resourceType") == name:
                index = len(resources) + 1
                resources.append(make_entry(entry["resource"], entry.get("fullUrl"), index))
        warnings.extend(Warning(None, reported(n, f"{name} search")) for n in notes)
    # single_patient=False: a result about another patient is dropped without being named
    # (a server that ignores patient= cannot leak other patients into the warnings); one
    # with no subject at all is reported, since a patient= search should not return it.
    return record_from_resources(patient, resources, single_patient=False, warnings=warnings)
