"""Read the envelope of a resource: its reference, status, date and ordering.

These readers are strict about the fields they read (a wrong type, an invalid date
or a missing status raises :class:`UnreadableError`), and cheap, so every candidate can
be screened before the few that decide anything are fully validated.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from service.criteria.values import DateFormatError, DateSpan, parse_fhir_date
from service.mappers.errors import UnreadableError
from service.mappers.structure import is_r4_id
from service.records import Struct, force_setattr

__all__ = [
    "Dated",
    "Entry",
    "is_fhir_id",
    "OBSERVATION_STATUSES",
    "read_date",
    "read_status",
]

_UUID_URN = re.compile(r"urn:uuid:([A-Za-z0-9\-.]{1,64})")  # fullmatch: "$" takes a final "\n"

OBSERVATION_STATUSES = frozenset(
    {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
USABLE_OBSERVATION_STATUSES = frozenset({"final", "amended", "corrected"})
PROCEDURE_STATUSES = frozenset(
    {
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "completed",
        "entered-in-error",
        "unknown",
    }
)
CLINICAL_STATUSES = frozenset(
    {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
)
VERIFICATION_STATUSES = frozenset(
    {"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}
)
PRESENT_CLINICAL_STATUSES = frozenset({"active", "recurrence", "relapse"})
EXCLUDED_VERIFICATION_STATUSES = frozenset({"refuted", "entered-in-error"})

_MIN_INSTANT = datetime.min.replace(tzinfo=UTC)


class Entry(Struct, frozen=True):
    """A resource from a Bundle (or a FHIR search) with the name it is reported by."""

    resource: dict[str, Any]
    reference: str
    full_url: str | None = None
    resource_type: str = ""
    """The resource's type (``Observation``), read once: the mappers ask for it on every
    resource several times. Left out, it is read from ``resource``."""

    def __post_init__(self) -> None:
        if not self.resource_type:
            force_setattr(self, "resource_type", str(self.resource.get("resourceType")))

    @property
    def id(self) -> str:
        """Return the id part of the reference."""
        return self.reference.split("/", 1)[1]

    def aliases(self) -> frozenset[str]:
        """Return the strings another resource may use to reference this one."""
        return frozenset((self.reference, self.full_url) if self.full_url else (self.reference,))


def is_fhir_id(value: object) -> bool:
    """Say whether ``value`` is a FHIR id (1-64 of ``A-Za-z0-9-.``), and not ``.``/``..``,
    which would walk up a URL path."""
    return is_r4_id(value) and value not in (".", "..")


def make_entry(
    resource: dict[str, Any], full_url: Any, index: int, resource_type: str | None = None
) -> Entry:
    """Name a resource ``Type/id``: its id, else its ``urn:uuid`` fullUrl, else its
    position in the Bundle (``Type/entry-3``) so a warning can still point at it.
    ``resource_type`` is the resource's ``resourceType`` when the caller has read it."""
    if resource_type is None:
        resource_type = str(resource.get("resourceType"))
    resource_id = resource.get("id")
    url = full_url if isinstance(full_url, str) else None
    if is_fhir_id(resource_id):
        name = resource_id
    elif url is not None and (match := _UUID_URN.fullmatch(url)):
        name = match.group(1)
    else:
        name = f"entry-{index}"
    return Entry(resource, f"{resource_type}/{name}", url, resource_type)


def read_status(entry: Entry, allowed: frozenset[str], field: str = "status") -> str:
    """Return a required code element, or raise :class:`UnreadableError`."""
    value = entry.resource.get(field)
    if value is None:
        raise UnreadableError(f"{field} is missing")
    if not isinstance(value, str) or value not in allowed:
        raise UnreadableError(f"{field} {value!r} is not a valid code")
    return value


def read_concept_status(entry: Entry, field: str, allowed: frozenset[str]) -> str | None:
    """Return the code of a status CodeableConcept (clinicalStatus...), or ``None``."""
    concept = entry.resource.get(field)
    if concept is None:
        return None
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list):
        raise UnreadableError(f"{field} has no coding")
    for coding in codings:
        code = coding.get("code") if isinstance(coding, dict) else None
        if isinstance(code, str) and code in allowed:
            return code
    raise UnreadableError(f"{field} has no recognised code")


def _date_value(value: Any, field: str) -> DateSpan:
    if not isinstance(value, str):
        raise UnreadableError(f"{field} is not a string")
    try:
        return parse_fhir_date(value)
    except DateFormatError as exc:
        raise UnreadableError(f"{field} {value!r} is not a valid date") from exc


def read_date(entry: Entry, fields: tuple[str, ...]) -> DateSpan | None:
    """Return the date of the first present field (``effectivePeriod.end`` style paths
    allowed), or ``None`` when the resource is undated."""
    resource = entry.resource
    for path in fields:
        head, _, tail = path.partition(".")
        value = resource.get(head)
        if value is None:
            continue
        if tail:
            if not isinstance(value, dict):
                raise UnreadableError(f"{head} is not an object")
            value = value.get(tail)
            if value is None:
                continue
        return _date_value(value, path)
    return None


def read_last_updated(entry: Entry) -> datetime:
    """Return ``meta.lastUpdated`` (or the earliest instant when absent)."""
    meta = entry.resource.get("meta")
    if meta is None:
        return _MIN_INSTANT
    if not isinstance(meta, dict):
        raise UnreadableError("meta is not an object")
    value = meta.get("lastUpdated")
    if value is None:
        return _MIN_INSTANT
    if not isinstance(value, str) or "T" not in value:
        raise UnreadableError(f"meta.lastUpdated {value!r} is not a valid instant")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UnreadableError(f"meta.lastUpdated {value!r} is not a valid instant") from exc
    if parsed.tzinfo is None:
        raise UnreadableError(f"meta.lastUpdated {value!r} has no time zone")
    return parsed


class Dated(Struct, frozen=True):
    """A candidate result with what orders it: date, then lastUpdated, then id."""

    entry: Entry
    date: DateSpan | None
    last_updated: datetime
    code: tuple[str, str]
    component: dict[str, Any] | None = None
    """The ``component`` that carries the result (a Ki-67 in a pathology panel); the
    status, date and subject are the parent Observation's."""

    @property
    def value_source(self) -> dict[str, Any]:
        """Return the element holding the ``value[x]``: the component, else the resource."""
        return self.component if self.component is not None else self.entry.resource

    def sort_key(self) -> tuple[bool, Any, Any, datetime, str]:
        """Order oldest first; undated results rank oldest (criteria.md §7)."""
        if self.date is None:
            return (False, None, None, self.last_updated, self.entry.id)
        return (True, self.date.earliest, self.date.latest, self.last_updated, self.entry.id)


def oldest_first(candidates: list[Dated]) -> list[Dated]:
    """Return candidates sorted oldest first (the most recent is last): the undated ones
    first, by lastUpdated then id, then the dated ones (their keys never compare a date
    with ``None``: the first item of the key, dated or not, already differs)."""
    return sorted(candidates, key=Dated.sort_key)
