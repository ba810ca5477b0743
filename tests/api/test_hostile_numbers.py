"""Numbers no laboratory value can be, on every REST route that reads patient data: a
posted Bundle and a patient read from a FHIR server give 200 with the values reported
as uninterpretable, never a 500 (issue 9 item 5). ``responses`` plays the FHIR server:
no real server sends such numbers on demand."""

from __future__ import annotations

import responses
from flask.testing import FlaskClient

from service.app import create_app
from tests.cli.hostile import (
    assert_uninterpretable,
    bundle_text,
    observations_text,
    patient_text,
    searchset_text,
)
from tests.conftest import FHIR_SERVICE_SETTINGS

BASE = "https://fhir.example.test/r4"
FHIR_JSON = "application/fhir+json"


def test_a_posted_bundle_with_hostile_numbers_is_evaluated() -> None:
    client = create_app({"TESTING": True}).test_client()
    response = client.post(
        "/api/evaluate?at=2026-11-22", data=bundle_text(), content_type=FHIR_JSON
    )
    assert response.status_code == 200, response.get_json()
    assert_uninterpretable(response.get_json())


@responses.activate
def test_a_fhir_server_answering_hostile_numbers_gives_an_evaluation() -> None:
    responses.add(responses.GET, f"{BASE}/Patient/p1", body=patient_text(), content_type=FHIR_JSON)
    responses.add(
        responses.GET,
        f"{BASE}/Observation",
        body=searchset_text(observations_text()),
        content_type=FHIR_JSON,
    )
    for resource_type in ("Condition", "Procedure"):
        responses.add(
            responses.GET,
            f"{BASE}/{resource_type}",
            body=searchset_text([]),
            content_type=FHIR_JSON,
        )
    app = create_app({"TESTING": True, **FHIR_SERVICE_SETTINGS, "FHIR_BASE_URL": BASE})
    client: FlaskClient = app.test_client()
    response = client.get("/api/patients/p1/evaluation?at=2026-11-22")
    assert response.status_code == 200, response.get_json()
    assert_uninterpretable(response.get_json())
    dry_run = client.post("/api/patients/p1/risk-assessment?at=2026-11-22&dry-run=true")
    assert dry_run.status_code == 200, dry_run.get_json()
    assert dry_run.get_json()["resourceType"] == "RiskAssessment"
