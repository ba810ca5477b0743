"""Procedures → resections of the primary tumour and liver transplantations.

A completed Procedure is the resection of the primary when its code is in the
resection value set or its ``reasonReference`` points at the primary-tumour
Condition. Procedures dated after the evaluation date are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from service.criteria.inputs import ProcedureFact, Warning
from service.mappers.codes import Terminology, codings_of
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


def read_procedures(
    entries: Iterable[Entry],
    terminology: Terminology,
    at: date,
    primary_aliases: frozenset[str],
    warnings: list[Warning],
) -> dict[str, tuple[ProcedureFact, ...]]:
    """Return completed ``primary_resection`` and ``liver_transplant`` Procedures,
    oldest first."""
    found: dict[str, list[Dated]] = {"primary_resection": [], "liver_transplant": []}
    for entry in entries:
        if entry.resource_type != "Procedure":
            continue
        categories = terminology.procedure_categories(entry.resource.get("code"))
        if "primary_resection" not in categories and _points_at(
            entry.resource.get("reasonReference"), primary_aliases
        ):
            categories["primary_resection"] = _procedure_code(entry.resource.get("code"))
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
