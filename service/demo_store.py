"""The embedded demo store: synthetic patients shipped with the package.

Used when no FHIR server is configured, so the service runs with nothing else
installed. Read-only; loaded once at start-up.

The stories are written for :data:`DEMO_DATE` (2026-11-22). When loaded, every full date
in them (birth dates included, so ages stay) is moved by the whole number of days between
that date and today, so the demo tells the same stories on any day: labs stay fresh,
"stable for 20 months" stays 20 months. ``NELM_CDS_DEMO_TODAY`` (YYYY-MM-DD) pins "today"
(tests pin it to :data:`DEMO_DATE`, which leaves the files' dates as written). Partial
dates (a year, a year and month) are left as written. The demo data is the one place
that reads this variable: it is a property of the synthetic data, not a service setting.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

from service.mappers import PatientRecord, load_bundle_json, record_from_bundle

__all__ = ["DEMO_DATE", "DemoStore", "demo_today", "shift_dates"]

DEMO_DATE = date(2026, 11, 22)
"""The date the demo stories are written for."""
DATE_FIELDS = frozenset(
    {
        "birthDate",
        "deceasedDateTime",
        "effectiveDateTime",
        "effectiveInstant",
        "issued",
        "onsetDateTime",
        "abatementDateTime",
        "recordedDate",
        "performedDateTime",
        "start",
        "end",
    }
)
_FULL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(.*)$", re.DOTALL)


def demo_today() -> date:
    """Return "today" for the demo: ``NELM_CDS_DEMO_TODAY`` if set, else today (UTC)."""
    pinned = os.environ.get("NELM_CDS_DEMO_TODAY", "").strip()
    if pinned:
        return date.fromisoformat(pinned)
    return datetime.now(UTC).date()


def shift_dates(node: Any, days: int) -> Any:
    """Return ``node`` with every full date of a :data:`DATE_FIELDS` element moved by
    ``days`` (the time of day and zone kept); partial dates are left as they are."""
    if isinstance(node, dict):
        return {
            key: _shift(value, days) if key in DATE_FIELDS else shift_dates(value, days)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [shift_dates(item, days) for item in node]
    return node


def _shift(value: Any, days: int) -> Any:
    match = _FULL_DATE.match(value) if isinstance(value, str) else None
    if match is None or days == 0:
        return shift_dates(value, days)
    moved = date.fromisoformat(match.group(1)) + timedelta(days=days)
    return moved.isoformat() + match.group(2)


@dataclass(frozen=True)
class DemoStore:
    """Demo patients by id, each with its Bundle."""

    bundles: dict[str, Any]

    @classmethod
    def load(cls, today: date | None = None) -> DemoStore:
        """Load every ``service/data/demo/*.json`` Bundle shipped with the package, its
        dates moved so that :data:`DEMO_DATE` falls on ``today`` (default :func:`demo_today`)."""
        days = ((today or demo_today()) - DEMO_DATE).days
        bundles: dict[str, Any] = {}
        folder = resources.files("service").joinpath("data/demo")
        for item in sorted(folder.iterdir(), key=lambda i: i.name):
            if not item.name.endswith(".json"):
                continue
            bundle = shift_dates(load_bundle_json(item.read_bytes()), days)
            record = record_from_bundle(bundle)
            bundles[record.patient.id] = bundle
        return cls(bundles)

    def patient_ids(self) -> list[str]:
        """Return the demo patients' ids."""
        return sorted(self.bundles)

    def record(self, patient_id: str) -> PatientRecord | None:
        """Return the record of a demo patient, or ``None``."""
        bundle = self.bundles.get(patient_id)
        return None if bundle is None else record_from_bundle(bundle, patient_id)
