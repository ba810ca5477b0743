"""Procedures → resections of the primary tumour and liver transplantations.

A completed Procedure is the resection of the primary (terminology.md, criteria.md §7,
v1.1) when its ``reasonReference`` points at a primary-tumour Condition; or when its code
is in the resection value set, the organ that code removes holds a recorded primary site
(or no primary site is recorded), and no ``reasonReference`` points at a
Condition that is not a primary tumour (a lung metastasectomy coded as lobectomy is not
the resection of an ileal primary). A site-mapped code without an organ skips the organ
check. A recorded primary whose site names no organ (unspecified, foregut, unknown
primary) is a primary site recorded: no resection code fits it, only a
``reasonReference`` to it does (the conservative reading: a resection is not assumed).
Procedures dated after the evaluation date are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from service.criteria.inputs import ProcedureFact, Warning
from service.mappers.codes import Terminology, codings_of
from service.mappers.conditions import ConditionFacts
from service.mappers.errors import UnreadableError
from service.mappers.reading import (
    PROCEDURE_STATUSES,
    Dated,
    Entry,
    oldest_first,
    read_date,
    read_last_updated,
    read_status,
)
from service.mappers.validation import validate_resource

__all__ = ["read_procedures"]


def _points_at(reasons: Any, aliases: frozenset[str]) -> bool:
    if not isinstance(reasons, list):
        return False
    for reason in reasons:
        reference = reason.get("reference") if isinstance(reason, dict) else None
        if not isinstance(reference, str):
            continue
        bare = reference.split("/_history/", 1)[0]
        if bare in aliases or any(bare.endswith("/" + alias) for alias in aliases):
            return True
    return False


def _procedure_code(concept: Any) -> tuple[str, str]:
    """Return the first coding of a Procedure.code, else its text, for evidence."""
    codes = list(codings_of(concept))
    if codes:
        return codes[0]
    text = concept.get("text") if isinstance(concept, dict) else None
    return ("", text if isinstance(text, str) and text.strip() else "uncoded procedure")


def _resects_primary(entry: Entry, terminology: Terminology, conditions: ConditionFacts) -> bool:
    """Say whether a Procedure with a primary-resection code fits the recorded primary."""
    if _points_at(entry.resource.get("reasonReference"), conditions.non_primary_aliases):
        return False
    resection_codes = terminology.procedures["primary_resection"]
    organs: set[str] = set()
    for code in codings_of(entry.resource.get("code")):
        if resection_codes.match([code]) is None:
            continue
        removed = terminology.procedure_organs.get(code)
        if removed is None:
            return True  # a site-mapped code without an organ counts as before v1.1
        organs |= removed
    recorded = conditions.primary_organs
    return recorded is None or bool(organs & recorded)


def read_procedures(
    entries: Iterable[Entry],
    terminology: Terminology,
    at: date,
    conditions: ConditionFacts,
    warnings: list[Warning],
) -> dict[str, tuple[ProcedureFact, ...]]:
    """Return completed ``primary_resection`` and ``liver_transplant`` Procedures,
    oldest first."""
    found: dict[str, list[Dated]] = {"primary_resection": [], "liver_transplant": []}
    for entry in entries:
        if entry.resource_type != "Procedure":
            continue
        categories = terminology.procedure_categories(entry.resource.get("code"))
        if _points_at(entry.resource.get("reasonReference"), conditions.primary_tumour_aliases):
            categories.setdefault("primary_resection", _procedure_code(entry.resource.get("code")))
        elif "primary_resection" in categories and not _resects_primary(
            entry, terminology, conditions
        ):
            del categories["primary_resection"]
        if not categories:
            continue
        try:
            if read_status(entry, PROCEDURE_STATUSES) != "completed":
                continue
            when = read_date(entry, ("performedDateTime", "performedPeriod.end"))
            last_updated = read_last_updated(entry)
            if when is not None and when.is_after(at):
                continue
            validate_resource(entry)
        except UnreadableError as exc:
            warnings.append(Warning(entry.reference, f"unreadable ({exc}); not used"))
            continue
        for category, code in categories.items():
            found[category].append(Dated(entry, when, last_updated, code))
    labels = {
        "primary_resection": "resection of the primary",
        "liver_transplant": "liver transplantation",
    }
    return {
        category: tuple(
            ProcedureFact(d.entry.reference, d.date, d.code[1], labels[category])
            for d in oldest_first(items)
        )
        for category, items in found.items()
    }
