"""A Bundle text with numbers no laboratory value can be (issue 9 item 5), shared by the
CLI, REST and CDS Hooks tests: a real Python ``json`` cannot even read some of them."""

from __future__ import annotations

HUGE = "9" * 5000
HOSTILE_VALUES = {
    "ki67": "1e400",
    "bilirubin": HUGE,
    "platelets": "NaN",
    "flr": "1e25",
    "burden": "-Infinity",
}
LOINC = "http://loinc.org"
NELM = "https://nelm-cds.github.io/fhir/CodeSystem/nelm-assessment"
CODES = {
    "ki67": (LOINC, "29593-1", "%"),
    "bilirubin": (LOINC, "1975-2", "mg/dL"),
    "platelets": (LOINC, "777-3", "10*3/uL"),
    "flr": (NELM, "future-liver-remnant", "%"),
    "burden": (NELM, "hepatic-tumour-burden", "%"),
}
CRITERIA = {  # criterion that each hostile value leaves unknown: (set, criterion)
    "ki67": ("milan-net", "low_grade"),
    "bilirubin": ("enets", "low_bilirubin"),
    "platelets": ("resection", "no_portal_hypertension"),
    "flr": ("resection", "adequate_future_liver_remnant"),
    "burden": ("milan-net", "liver_involvement_under_50"),
}


def observation_text(name: str, patient: str = "p1") -> str:
    system, code, unit = CODES[name]
    return (
        f'{{"resourceType": "Observation", "id": "{name}", "status": "final", '
        f'"code": {{"coding": [{{"system": "{system}", "code": "{code}"}}]}}, '
        f'"subject": {{"reference": "Patient/{patient}"}}, '
        f'"effectiveDateTime": "2026-11-20", "valueQuantity": {{"value": '
        f'{HOSTILE_VALUES[name]}, "unit": "{unit}", "system": "http://unitsofmeasure.org", '
        f'"code": "{unit}"}}}}'
    )


def observations_text(patient: str = "p1") -> list[str]:
    return [observation_text(name, patient) for name in HOSTILE_VALUES]


def patient_text(patient: str = "p1") -> str:
    return f'{{"resourceType": "Patient", "id": "{patient}", "birthDate": "1975-06-01"}}'


def bundle_text(patient: str = "p1", bundle_type: str = "collection") -> str:
    resources = [patient_text(patient), *observations_text(patient)]
    entries = ",".join(f'{{"resource": {r}}}' for r in resources)
    return f'{{"resourceType": "Bundle", "type": "{bundle_type}", "entry": [{entries}]}}'


def searchset_text(resources: list[str]) -> str:
    entries = ",".join(f'{{"resource": {r}, "search": {{"mode": "match"}}}}' for r in resources)
    return f'{{"resourceType": "Bundle", "type": "searchset", "entry": [{entries}]}}'


def assert_uninterpretable(result: dict[str, object]) -> None:
    """Assert every hostile value left its criterion unknown and was warned about."""
    warned = {w["reference"] for w in result["warnings"]}  # type: ignore[index, union-attr]
    for name, (set_id, criterion_id) in CRITERIA.items():
        assert f"Observation/{name}" in warned, name
        assessment = next(
            a
            for a in result["assessments"]
            if a["criteriaSet"] == set_id  # type: ignore[index, union-attr]
        )
        status = next(c["status"] for c in assessment["criteria"] if c["id"] == criterion_id)
        assert status == "unknown", (name, status)
