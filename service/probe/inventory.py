"""Which codes the sampled patients' data carries that the service does not read.

Pure: from the resources fetched per patient, list every coding of an Observation,
Condition or Procedure whose ``code`` has no coding the terminology in force recognises,
with its display text, how many resources and patients carry it, and a
:class:`~service.probe.suggest.Suggestion` where the text says what it may be. A resource
with one recognised coding is read by the service: its other codings are not listed.
Codes are never matched on display text by the service; the text only helps a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from service.mappers.codes import Terminology
from service.probe.suggest import Suggestion, suggest

__all__ = ["LocalCode", "TYPES", "is_read", "unmapped_codes"]

TYPES = ("Observation", "Condition", "Procedure")


@dataclass
class LocalCode:
    """One unmapped (system, code) of a resource type, as seen in the sample."""

    resource_type: str
    system: str
    code: str
    display: str
    resources: int = 0
    patients: set[str] = field(default_factory=set)
    suggestion: Suggestion | None = None
    units: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str, str, str]:
        """Return (resource type, system, code)."""
        return self.resource_type, self.system, self.code


def is_read(resource: Mapping[str, Any], terminology: Terminology) -> bool:
    """Say whether the service recognises one of the resource's codings."""
    concept = resource.get("code")
    kind = resource.get("resourceType")
    if kind == "Observation":
        return terminology.observation_input(concept) is not None
    if kind == "Condition":
        return bool(terminology.condition_categories(concept))
    if kind == "Procedure":
        return bool(terminology.procedure_categories(concept))
    return True


def _text(concept: Mapping[str, Any], coding: Mapping[str, Any]) -> str:
    for value in (coding.get("display"), concept.get("text")):
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return ""


def _unit(resource: Mapping[str, Any]) -> str | None:
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, dict):
        unit = quantity.get("code") or quantity.get("unit")
        if isinstance(unit, str) and unit:
            return unit
    return None


def unmapped_codes(
    records: Mapping[str, Iterable[Mapping[str, Any]]], terminology: Terminology
) -> list[LocalCode]:
    """Return the unmapped codes of ``records`` (patient id → resources), most seen first."""
    found: dict[tuple[str, str, str], LocalCode] = {}
    for patient, resources in records.items():
        for resource in resources:
            kind = resource.get("resourceType")
            concept = resource.get("code")
            if kind not in TYPES or not isinstance(concept, dict) or is_read(resource, terminology):
                continue
            codings = concept.get("coding")
            for coding in codings if isinstance(codings, list) else []:
                if not isinstance(coding, dict):
                    continue
                system, code = coding.get("system"), coding.get("code")
                if not isinstance(system, str) or not isinstance(code, str) or not code:
                    continue
                key = (str(kind), system, code)
                entry = found.get(key)
                if entry is None:
                    text = _text(concept, coding)
                    entry = found[key] = LocalCode(
                        str(kind), system, code, text, suggestion=suggest(kind, text, terminology)
                    )
                entry.resources += 1
                entry.patients.add(patient)
                unit = _unit(resource)
                if unit is not None:
                    entry.units.add(unit)
    return sorted(found.values(), key=lambda c: (-len(c.patients), -c.resources, c.key))
