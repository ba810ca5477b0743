"""Small builders of synthetic FHIR R4 resources (standard library only).

The generator writes what EHRs send: codings with and without display, proprietary
codings first, units as free text beside UCUM codes, and statuses other than final.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ICD10CM",
    "LOINC",
    "SNOMED",
    "UCUM",
    "Resource",
    "clinical_status",
    "coding",
    "concept",
    "condition",
    "lab",
    "patient",
    "procedure",
    "quantity",
]

Resource = dict[str, Any]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
MRN_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
SYNTHETIC_TAG = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
    "code": "HTEST",
    "display": "test health data",
}


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """Return a Coding (display left out when ``None``, as many EHRs do)."""
    out = {"system": system, "code": code}
    if display is not None:
        out["display"] = display
    return out


def concept(*codings: dict[str, str], text: str | None = None) -> dict[str, Any]:
    """Return a CodeableConcept with the codings in the given order."""
    out: dict[str, Any] = {"coding": list(codings)}
    if text is not None:
        out["text"] = text
    return out


def quantity(value: Any, unit: str, code: str | None = None) -> dict[str, Any]:
    """Return a Quantity: free-text ``unit`` always, the UCUM code only when given."""
    out: dict[str, Any] = {"value": value, "unit": unit}
    if code is not None:
        out["system"] = UCUM
        out["code"] = code
    return out


def patient(
    patient_id: str, *, family: str, given: str, gender: str, birth_date: str, mrn: str
) -> Resource:
    """Return a Patient with a name, gender, birth date and a medical record number."""
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "meta": {"tag": [SYNTHETIC_TAG]},
        "identifier": [
            {
                "type": concept(coding(MRN_TYPE, "MR", "Medical record number")),
                "system": "https://ehr.example.org/fhir/sid/mrn",
                "value": mrn,
            }
        ],
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": gender,
        "birthDate": birth_date,
    }


def clinical_status(code: str) -> dict[str, Any]:
    """Return a Condition.clinicalStatus concept."""
    return concept(coding(CLINICAL, code))


def condition(
    resource_id: str,
    patient_id: str,
    code: dict[str, Any],
    *,
    onset: str | None,
    status: str | None = "active",
    verification: str = "confirmed",
) -> Resource:
    """Return a Condition (``status=None`` leaves clinicalStatus out)."""
    out: Resource = {"resourceType": "Condition", "id": resource_id}
    if status is not None:
        out["clinicalStatus"] = clinical_status(status)
    out["verificationStatus"] = concept(coding(VERIFICATION, verification))
    out["code"] = code
    out["subject"] = {"reference": f"Patient/{patient_id}"}
    if onset is not None:
        out["onsetDateTime"] = onset
    return out


def lab(
    resource_id: str,
    patient_id: str,
    code: dict[str, Any],
    when: str,
    value: dict[str, Any],
    *,
    status: str = "final",
    category: str = "laboratory",
) -> Resource:
    """Return an Observation; ``value`` is one ``value[x]`` element, e.g.
    ``{"valueQuantity": {...}}``."""
    return {
        "resourceType": "Observation",
        "id": resource_id,
        "status": status,
        "category": [concept(coding(OBSERVATION_CATEGORY, category))],
        "code": code,
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": when,
        **value,
    }


def procedure(
    resource_id: str, patient_id: str, code: dict[str, Any], when: str, status: str = "completed"
) -> Resource:
    """Return a Procedure."""
    return {
        "resourceType": "Procedure",
        "id": resource_id,
        "status": status,
        "code": code,
        "subject": {"reference": f"Patient/{patient_id}"},
        "performedDateTime": when,
    }
