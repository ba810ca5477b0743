"""The embedded demo store: synthetic patients shipped with the package.

Used when no FHIR server is configured, so the service runs with nothing else
installed. Read-only; loaded once at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from service.mappers import PatientRecord, load_bundle_json, record_from_bundle

__all__ = ["DemoStore"]


@dataclass(frozen=True)
class DemoStore:
    """Demo patients by id, each with its Bundle."""

    bundles: dict[str, Any]

    @classmethod
    def load(cls) -> DemoStore:
        """Load every ``service/data/demo/*.json`` Bundle shipped with the package."""
        bundles: dict[str, Any] = {}
        folder = resources.files("service").joinpath("data/demo")
        for item in sorted(folder.iterdir(), key=lambda i: i.name):
            if not item.name.endswith(".json"):
                continue
            bundle = load_bundle_json(item.read_bytes())
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
