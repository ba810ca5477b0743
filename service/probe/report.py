"""The probe's findings as one JSON-ready document (rendered as text and HTML by
:mod:`service.probe.render`).

Shape (``probeReport`` 1)::

    {"probe": {"version", "fhirBase", "evaluationDate", "generated", "verdict"},
     "capability": {"fhirVersion", "software", "checks": [Check...]},
     "searches": [Check...], "write": [Check...],
     "sample": {"requested", "patients": [...], "how": {...}, "problems": {...}},
     "inputs": [{"input", "label", "kind", "codesRead": [...], "counts": {...},
                 "localCandidates": [LocalCode...]}],
     "unmappedCodes": [LocalCode...], "draftSiteCodes": path or null}

``Check`` is ``{"name", "status", "detail"}``; ``LocalCode`` is ``{"resourceType",
"system", "code", "display", "resources", "patients", "units", "suggestion"}``. Patient
ids appear only under ``sample`` (the site's own data, to reproduce a finding).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from service.mappers.codes import (
    ASSESSMENT_SYSTEM,
    CONDITION_LABELS,
    ICD10CM,
    LOINC,
    NCIT,
    SNOMED,
    CodeSet,
    Terminology,
)
from service.probe.checks import Check
from service.probe.inventory import LocalCode
from service.probe.sampling import Sample
from service.probe.usable import InputUsage

__all__ = ["INPUT_LABELS", "build_report", "local_code_json", "verdict"]

INPUT_LABELS: Mapping[str, str] = {
    "birth_date": "age (Patient.birthDate)",
    "ki67": "Ki-67 index",
    "ki67_breast": "Ki-67 index (breast-specimen code)",
    "bilirubin": "total bilirubin",
    "platelets": "platelet count",
    "disease_course": "disease status over time",
    "ecog": "ECOG performance status",
    "grade": "histological grade",
    "hepatic_tumour_burden": "hepatic tumour burden (MDT)",
    "future_liver_remnant": "future liver remnant (MDT)",
    "extrahepatic_staging": "extrahepatic disease on staging (MDT)",
    "metastatic_pattern": "Frilling pattern (MDT)",
    "hepatic_disease_resectable": "all hepatic disease resectable (MDT)",
    "primary_resectable": "primary tumour resectable (MDT)",
    "primary_resected": "primary tumour resected (MDT)",
    "refractory_hormonal_syndrome": "refractory hormonal syndrome (MDT)",
    "major_hepatectomy_planned": "major hepatectomy planned (MDT)",
    **CONDITION_LABELS,
    "primary_site": "NET primary site",
    "primary_resection": "resection of the primary (Procedure)",
    "liver_transplant": "liver transplantation (Procedure)",
}
_SYSTEM_NAMES = {
    LOINC: "LOINC",
    SNOMED: "SNOMED",
    ICD10CM: "ICD-10-CM",
    NCIT: "NCIt",
    ASSESSMENT_SYSTEM: "nelm-assessment",
}


def _short(system: str, code: str) -> str:
    return f"{_SYSTEM_NAMES.get(system, system)} {code}"


def _codes_read(code_set: CodeSet) -> list[str]:
    listed = sorted(_short(s, c) for s, c in code_set.exact)
    return listed + sorted(f"{_short(s, p)}*" for s, p in code_set.prefixes)


def _input_codes(name: str, kind: str, terminology: Terminology) -> list[str]:
    if kind == "Observation":
        return _codes_read(terminology.observations[name])
    if kind == "Procedure":
        return _codes_read(terminology.procedures[name])
    if name == "primary_site":
        return sorted(_short(s, c) for s, c in terminology.primary_sites)
    if kind == "Condition":
        return _codes_read(terminology.conditions[name])
    return ["Patient.birthDate"]


def local_code_json(code: LocalCode) -> dict[str, Any]:
    """Return one unmapped code as the report states it."""
    return {
        "resourceType": code.resource_type,
        "system": code.system,
        "code": code.code,
        "display": code.display,
        "resources": code.resources,
        "patients": len(code.patients),
        "units": sorted(code.units),
        "suggestion": asdict(code.suggestion) if code.suggestion is not None else None,
    }


def verdict(checks: Sequence[Check]) -> str:
    """Return ``fail`` if any check failed, else ``warning`` if any warned, else ``ok``."""
    statuses = {check.status for check in checks}
    return "fail" if "fail" in statuses else "warning" if "warning" in statuses else "ok"


def build_report(
    *,
    header: Mapping[str, Any],
    statement: Mapping[str, Any] | None,
    capability: Sequence[Check],
    searches: Sequence[Check],
    write: Sequence[Check],
    sample: Sample,
    requested: int,
    usages: Sequence[InputUsage],
    codes: Sequence[LocalCode],
    terminology: Terminology,
    draft_path: str | None,
) -> dict[str, Any]:
    """Return the report document (see the module notes)."""
    software = (statement or {}).get("software")
    candidates: dict[str, list[dict[str, Any]]] = {}
    for code in codes:
        if code.suggestion is not None:
            candidates.setdefault(code.suggestion.name, []).append(local_code_json(code))
    all_checks = [*capability, *searches, *write]
    return {
        "probeReport": 1,
        "probe": {**header, "verdict": verdict(all_checks)},
        "capability": {
            "fhirVersion": (statement or {}).get("fhirVersion"),
            "software": software if isinstance(software, dict) else None,
            "checks": [asdict(c) for c in capability],
        },
        "searches": [asdict(c) for c in searches],
        "write": [asdict(c) for c in write],
        "sample": {
            "requested": requested,
            "patients": list(sample.patients),
            "how": dict(sample.how),
            "problems": dict(sample.problems),
        },
        "inputs": [
            {
                "input": usage.name,
                "label": INPUT_LABELS.get(usage.name, usage.name.replace("_", " ")),
                "kind": usage.kind,
                "codesRead": _input_codes(usage.name, usage.kind, terminology),
                "counts": dict(usage.counts),
                "localCandidates": candidates.get(usage.name, []),
            }
            for usage in usages
        ],
        "unmappedCodes": [local_code_json(code) for code in codes],
        "draftSiteCodes": draft_path,
    }
