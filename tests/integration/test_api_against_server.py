"""The service against a real FHIR server: seed, evaluate by id, write back, read back."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.app import create_app
from service.fhir import FhirClient
from tests.conftest import FHIR_SERVICE_SETTINGS, SCENARIOS, TESTS
from tests.contract.fhir_schema import fhir_validator
from tests.integration.sekmet import FhirServer

pytestmark = pytest.mark.integration

AT = "2026-11-22"
DEMO_EXPECTED = sorted((TESTS / "fixtures" / "demo_expected").glob("*.expected.json"))


@pytest.fixture(scope="module")
def seeded(fhir_server: FhirServer) -> FhirServer:
    """Seed the demo patients with the CLI, as an integration engineer would."""
    completed = subprocess.run(
        [sys.executable, "-m", "service", "seed", "--fhir-base", fhir_server.base_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "seeded 5 demo patients" in completed.stdout
    return fhir_server


@pytest.fixture
def client(seeded: FhirServer) -> FlaskClient:
    app = create_app(
        {
            "TESTING": True,
            **FHIR_SERVICE_SETTINGS,
            "FHIR_BASE_URL": seeded.base_url,
        }
    )
    return app.test_client()


def statuses(result: dict[str, Any]) -> dict[str, Any]:
    return {
        a["criteriaSet"]: {
            "status": a["status"],
            "criteria": {c["id"]: c["status"] for c in a["criteria"]},
        }
        for a in result["assessments"]
    }


@pytest.mark.parametrize("path", DEMO_EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_seeded_demo_patient_evaluates_as_expected_from_the_server(
    client: FlaskClient, path: Path
) -> None:
    expected = json.loads(path.read_text(encoding="utf-8"))
    patient_id = expected["patient"].removeprefix("Patient/")
    response = client.get(f"/api/patients/{patient_id}/evaluation?at={AT}")
    assert response.status_code == 200, response.get_json()
    assert statuses(response.get_json()) == expected["sets"]


def test_seeding_twice_leaves_one_copy_of_each_demo_patient(
    seeded: FhirServer, fhir_client: FhirClient
) -> None:
    subprocess.run(
        [sys.executable, "-m", "service", "seed", "--fhir-base", seeded.base_url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    patients = fhir_client.search("Patient", {"_id": "demo-transplant"})
    assert len(patients) == 1


def test_readiness_reports_the_fhir_server(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["source"] == "fhir"


def test_an_unknown_patient_on_the_server_is_404(client: FlaskClient) -> None:
    response = client.get(f"/api/patients/no-such-patient/evaluation?at={AT}")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_patients_loaded_by_plain_fhir_post_are_evaluated_by_their_server_id(
    client: FlaskClient, seeded: FhirServer, fhir_client: FhirClient
) -> None:
    bundle = json.loads((SCENARIOS / "ideal_transplant_candidate.json").read_text("utf-8"))
    expected = json.loads(
        (SCENARIOS / "ideal_transplant_candidate.expected.json").read_text("utf-8")
    )
    entries = []
    for index, entry in enumerate(bundle["entry"]):
        resource = {k: v for k, v in entry["resource"].items() if k != "id"}
        entries.append(
            {
                "fullUrl": entry.get("fullUrl") or f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )
    # Point subjects at the new Patient through its urn:uuid, as an EHR's transaction would.
    patient_url = next(e["fullUrl"] for e in entries if e["resource"]["resourceType"] == "Patient")
    old_reference = expected["patient"]
    text = json.dumps(entries).replace(f'"{old_reference}"', f'"{patient_url}"')
    answer = fhir_client.transaction(
        {"resourceType": "Bundle", "type": "transaction", "entry": json.loads(text)}
    )
    locations = [e["response"]["location"] for e in answer["entry"]]
    new_id = next(m.group(1) for loc in locations if (m := re.search(r"Patient/([^/]+)", loc)))
    assert new_id != "ideal_transplant_candidate"
    response = client.get(f"/api/patients/{new_id}/evaluation?at={AT}")
    assert response.status_code == 200
    assert statuses(response.get_json()) == expected["sets"]


def test_write_back_twice_leaves_one_valid_resource_that_reads_back(
    client: FlaskClient, fhir_client: FhirClient
) -> None:
    first = client.post(f"/api/patients/demo-transplant/risk-assessment?at={AT}")
    second = client.post(f"/api/patients/demo-transplant/risk-assessment?at={AT}")
    assert (first.status_code, second.status_code) == (201, 200)
    resource_id = first.get_json()["id"]
    assert second.get_json()["id"] == resource_id
    stored = fhir_client.read("RiskAssessment", resource_id)
    assert stored["meta"]["versionId"] == "1"
    assert stored["subject"] == {"reference": "Patient/demo-transplant"}
    assert fhir_validator().errors(stored) == []
    assert fhir_client.read("Device", "nelm-cds")["resourceType"] == "Device"


def test_repeated_write_backs_for_two_patients_never_touch_each_other(
    client: FlaskClient, fhir_client: FhirClient
) -> None:
    ids = {}
    for patient in ("demo-resection", "demo-g3", "demo-resection", "demo-g3"):
        response = client.post(f"/api/patients/{patient}/risk-assessment?at={AT}")
        assert response.status_code in (200, 201)
        ids.setdefault(patient, set()).add(response.get_json()["id"])
    assert all(len(found) == 1 for found in ids.values())
    resection_id, g3_id = ids["demo-resection"].pop(), ids["demo-g3"].pop()
    assert resection_id != g3_id
    for patient, resource_id in (("demo-resection", resection_id), ("demo-g3", g3_id)):
        stored = fhir_client.read("RiskAssessment", resource_id)
        assert stored["subject"]["reference"] == f"Patient/{patient}"
        assert stored["meta"]["versionId"] == "1"
