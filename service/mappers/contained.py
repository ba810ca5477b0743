"""Observations ``contained`` in another resource are not read (criteria.md §7, v1.1).

A contained resource has no identity of its own on the server, and a contained
Observation is usually a copy held by its container (a DiagnosticReport, a panel);
reading it could count one result twice or one no one signed. So it is not read, but
when it carries a code the service reads (its own code or a Ki-67 component), the
result's warnings name the container and say so: the record may hold a result the
evaluation did not use.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from service.criteria.inputs import Warning
from service.mappers.codes import Terminology
from service.mappers.reading import Entry

__all__ = ["contained_warnings"]

_LABELS = {
    "ki67": "Ki-67",
    "ki67_breast": "Ki-67",
    "future_liver_remnant": "future liver remnant",
    "hepatic_tumour_burden": "hepatic tumour burden",
    "disease_course": "disease status",
    "extrahepatic_staging": "extrahepatic staging",
}


def _read_code(observation: dict[str, Any], terminology: Terminology) -> str | None:
    """Return the input a contained Observation (or one of its components) would be."""
    hit = terminology.observation_input(observation.get("code"))
    if hit is not None and hit[0] != "ki67_panel":
        return hit[0]
    components = observation.get("component")
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict):
            part = terminology.observation_input(component.get("code"))
            if part is not None and part[0] in ("ki67", "ki67_breast"):
                return part[0]
    return None


def contained_warnings(entries: Iterable[Entry], terminology: Terminology) -> list[Warning]:
    """Return one warning per container holding an Observation the service would read."""
    warnings: list[Warning] = []
    for entry in entries:
        contained = entry.resource.get("contained")
        if not isinstance(contained, list):
            continue
        names: list[str] = []
        for item in contained:
            if isinstance(item, dict) and item.get("resourceType") == "Observation":
                name = _read_code(item, terminology)
                if name is not None:
                    names.append(_LABELS.get(name, name.replace("_", " ")))
        if names:
            what = ", ".join(dict.fromkeys(names))
            warnings.append(
                Warning(
                    entry.reference,
                    f"contains {len(names)} Observation{'s' if len(names) != 1 else ''} "
                    f"({what}) that {'are' if len(names) != 1 else 'is'} not read: contained "
                    "resources are not evaluated; record the result as an Observation of its own",
                )
            )
    return warnings
