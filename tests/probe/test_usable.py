"""Each patient falls in one class per input (found, stale, unit, status, missing...)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from service.mappers.codes import DEFAULT_TERMINOLOGY
from service.probe.usable import survey

AT = date(2026, 11, 22)
LOINC = "http://loinc.org"


def _platelets(
    day: str, *, status: str = "final", unit: str = "10*3/uL", **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"plt-{day}-{status}",
        "status": status,
        "code": {"coding": [{"system": LOINC, "code": "777-3"}]},
        "effectiveDateTime": day,
        "valueQuantity": {
            "value": 180,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
        **extra,
    }


def _class_of(name: str, resources: list[dict[str, Any]]) -> str:
    records = {"p": [{"resourceType": "Patient", "id": "p"}, *resources]}
    (usage,) = [u for u in survey(records, DEFAULT_TERMINOLOGY, AT, 90) if u.name == name]
    (found,) = [k for k, v in usage.counts.items() if v]
    return found


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ([_platelets("2026-11-01")], "found"),
        ([_platelets("2026-08-24")], "found"),  # exactly 90 days: still fresh
        ([_platelets("2026-08-23")], "stale"),
        ([_platelets("2026-11-01", unit="furlongs")], "unit unrecognised"),
        ([_platelets("2026-11-01", status="preliminary")], "status unusable"),
        ([_platelets("2026-12-01")], "status unusable"),  # after the evaluation date
        ([], "missing"),
        ([_platelets("2026-11-01", status="cancelled"), _platelets("2026-10-01")], "found"),
    ],
)
def test_a_platelet_count_is_classed(resources: list[dict[str, Any]], expected: str) -> None:
    assert _class_of("platelets", resources) == expected


def test_an_odd_value_string_is_uninterpretable() -> None:
    ki67 = {
        "resourceType": "Observation",
        "id": "k",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "29593-1"}]},
        "effectiveDateTime": "2026-01-01",
        "valueString": "about fifteen",
    }
    assert _class_of("ki67", [ki67]) == "uninterpretable"


def _condition(code: str, clinical: str | None, verification: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"c-{code}-{clinical}-{verification}",
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]},
    }
    if clinical:
        resource["clinicalStatus"] = {"coding": [{"code": clinical}]}
    if verification:
        resource["verificationStatus"] = {"coding": [{"code": verification}]}
    return resource


@pytest.mark.parametrize(
    ("name", "condition", "expected"),
    [
        ("liver_metastasis", _condition("C7B.02", "active"), "found"),
        ("liver_metastasis", _condition("C7B.02", None), "found"),
        ("liver_metastasis", _condition("C7B.02", "resolved"), "status unusable"),
        ("liver_metastasis", _condition("C7B.02", "active", "refuted"), "status unusable"),
        ("primary_site", _condition("C7A.012", "resolved"), "found"),  # describes the tumour
        ("primary_site", _condition("C7A.012", "resolved", "entered-in-error"), "status unusable"),
    ],
)
def test_a_condition_is_classed(name: str, condition: dict[str, Any], expected: str) -> None:
    assert _class_of(name, [condition]) == expected


def test_a_procedure_counts_only_when_completed() -> None:
    def resection(status: str) -> dict[str, Any]:
        return {
            "resourceType": "Procedure",
            "id": status,
            "status": status,
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "107938000"}]},
        }

    assert _class_of("primary_resection", [resection("completed")]) == "found"
    assert _class_of("primary_resection", [resection("in-progress")]) == "status unusable"
