"""FhirClient against a real FHIR server (sekmet-fhir): load patients, fetch them back."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from service.fhir import (
    FhirClient,
    FhirNotFoundError,
    FhirOperationOutcomeError,
)
from service.mappers.codes import ICD10CM, LOINC, SNOMED, UCUM

from .sekmet import STARTUP_TIMEOUT, FhirServer

pytestmark = pytest.mark.integration

KI67, BILIRUBIN, HEART_RATE = "29593-1", "1975-2", "8867-4"


def coded(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def observation(patient: str, code: str, value: float, unit: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": coded(LOINC, code),
        "subject": {"reference": patient},
        "effectiveDateTime": "2026-11-01",
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def patient_transaction(mrn: str) -> dict[str, Any]:
    """A transaction creating a Patient and five resources that point at its urn:uuid."""
    patient = f"urn:uuid:{uuid.uuid4()}"
    resources = [
        observation(patient, KI67, 4, "%"),
        observation(patient, BILIRUBIN, 12, "umol/L"),
        observation(patient, HEART_RATE, 70, "/min"),  # a code the mappers do not read
        {
            "resourceType": "Condition",
            "code": coded(ICD10CM, "C7B.02"),
            "subject": {"reference": patient},
        },
        {
            "resourceType": "Procedure",
            "status": "completed",
            "code": coded(SNOMED, "107938000"),
            "subject": {"reference": patient},
            "performedDateTime": "2024-11-12",
        },
    ]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": patient,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:test:mrn", "value": mrn}],
                    "birthDate": "1978-03-14",
                },
                "request": {
                    "method": "POST",
                    "url": "Patient",
                    "ifNoneExist": f"identifier=urn:test:mrn|{mrn}",
                },
            },
            *(
                {"resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
                for r in resources
            ),
        ],
    }


def load_patient(client: FhirClient) -> str:
    """Load a fresh patient with the transaction above; return the server's Patient id."""
    answer = client.transaction(patient_transaction(uuid.uuid4().hex))
    statuses = [entry["response"]["status"] for entry in answer["entry"]]
    assert statuses == ["201 Created"] * 6
    return str(answer["entry"][0]["resource"]["id"])


def test_the_server_starts_well_within_its_timeout(fhir_server: FhirServer) -> None:
    assert fhir_server.startup_seconds < STARTUP_TIMEOUT


def test_capabilities_says_fhir_r4(fhir_client: FhirClient) -> None:
    assert fhir_client.capabilities()["fhirVersion"] == "4.0.1"


def test_fetch_patient_returns_the_patient_and_their_observations_conditions_and_procedures(
    fhir_client: FhirClient,
) -> None:
    patient_id = load_patient(fhir_client)
    load_patient(fhir_client)  # someone else, whose resources must not come back

    record = fhir_client.fetch_patient(patient_id)

    assert record.patient.reference == f"Patient/{patient_id}"
    assert record.patient.resource["birthDate"] == "1978-03-14"
    kinds = sorted(
        (entry.resource_type, entry.resource["code"]["coding"][0]["code"])
        for entry in record.resources
    )
    assert kinds == [
        ("Condition", "C7B.02"),
        ("Observation", BILIRUBIN),
        ("Observation", KI67),
        ("Procedure", "107938000"),
    ]
    assert all(
        entry.resource["subject"]["reference"] == f"Patient/{patient_id}"
        for entry in record.resources
    )
    assert record.warnings == ()


def test_a_transaction_rewrites_urn_uuid_references_to_the_new_ids(
    fhir_client: FhirClient,
) -> None:
    answer = fhir_client.transaction(patient_transaction(uuid.uuid4().hex))
    patient_id = answer["entry"][0]["resource"]["id"]
    subjects = {entry["resource"]["subject"]["reference"] for entry in answer["entry"][1:]}
    assert subjects == {f"Patient/{patient_id}"}


def test_a_patient_that_does_not_exist_is_not_found_with_the_servers_outcome(
    fhir_client: FhirClient,
) -> None:
    with pytest.raises(FhirNotFoundError) as caught:
        fhir_client.fetch_patient("no-such-patient")
    assert caught.value.status == 404
    assert caught.value.outcome is not None
    assert caught.value.outcome["resourceType"] == "OperationOutcome"


def test_a_search_with_several_system_code_pairs_matches_any_of_them(
    fhir_client: FhirClient,
) -> None:
    patient_id = load_patient(fhir_client)
    found = fhir_client.search(
        "Observation",
        {"patient": patient_id, "code": f"{LOINC}|{KI67},{LOINC}|{BILIRUBIN},urn:x|nothing"},
    )
    assert sorted(r["code"]["coding"][0]["code"] for r in found) == [BILIRUBIN, KI67]


def test_search_follows_the_servers_next_links_page_by_page(fhir_client: FhirClient) -> None:
    patient_id = load_patient(fhir_client)
    found = fhir_client.search("Observation", {"patient": patient_id, "_count": "1"})
    assert len(found) == 3
    assert len({r["id"] for r in found}) == 3


def test_if_none_exist_returns_the_existing_resource_instead_of_creating_one(
    fhir_client: FhirClient,
) -> None:
    mrn = uuid.uuid4().hex
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:test:mrn", "value": mrn}],
    }
    first = fhir_client.create(patient, if_none_exist={"identifier": f"urn:test:mrn|{mrn}"})
    second = fhir_client.create(patient, if_none_exist={"identifier": f"urn:test:mrn|{mrn}"})
    assert (first.created, second.created) == (True, False)
    assert first.resource is not None
    assert second.resource is not None
    assert first.resource["id"] == second.resource["id"]
    assert first.location is not None
    assert first.location.startswith(fhir_client.base_url)


def test_update_puts_a_resource_at_its_id(fhir_client: FhirClient) -> None:
    patient_id = f"put-{uuid.uuid4().hex[:12]}"
    stored = fhir_client.update({"resourceType": "Patient", "id": patient_id, "gender": "other"})
    assert stored["id"] == patient_id
    assert fhir_client.read("Patient", patient_id)["gender"] == "other"
    assert fhir_client.read_optional("Patient", "nobody-here") is None


def test_a_rejected_create_keeps_the_servers_operation_outcome(fhir_client: FhirClient) -> None:
    with pytest.raises(FhirOperationOutcomeError) as caught:
        fhir_client.create({"resourceType": "Observation"}, if_none_exist={"bogus": "1"})
    assert caught.value.status == 400
    assert caught.value.outcome is not None
