"""A newer evaluation supersedes the earlier RiskAssessment, which is kept and marked so."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from service.app import create_app
from service.fhir import FhirClient
from tests.conftest import FHIR_SERVICE_SETTINGS
from tests.contract.fhir_schema import fhir_validator
from tests.integration.sekmet import FhirServer

pytestmark = pytest.mark.integration

PATIENT = "demo-extrahepatic"


@pytest.fixture
def client(fhir_server: FhirServer) -> FlaskClient:
    from service.seed import seed_demo_patients

    seed_demo_patients(fhir_server.base_url)
    app = create_app(
        {
            "TESTING": True,
            **FHIR_SERVICE_SETTINGS,
            "FHIR_BASE_URL": fhir_server.base_url,
        }
    )
    return app.test_client()


def _notes(resource: dict[str, Any]) -> list[str]:
    return [n["text"] for n in resource.get("note", [])]


def test_a_later_evaluation_supersedes_the_earlier_one_which_is_kept(
    client: FlaskClient, fhir_client: FhirClient, fhir_server: FhirServer
) -> None:
    early = client.post(f"/api/patients/{PATIENT}/risk-assessment?at=2026-11-01")
    late = client.post(f"/api/patients/{PATIENT}/risk-assessment?at=2026-11-22")
    assert (early.status_code, late.status_code) == (201, 201)
    early_id, late_id = early.get_json()["id"], late.get_json()["id"]
    assert late.mimetype == "application/fhir+json"
    assert late.headers["Location"] == f"{fhir_server.base_url}/RiskAssessment/{late_id}"
    assert late.get_json()["occurrenceDateTime"] == "2026-11-22"

    old = fhir_client.read("RiskAssessment", early_id)
    new = fhir_client.read("RiskAssessment", late_id)
    assert old["status"] == "amended"
    assert old["occurrenceDateTime"] == "2026-11-01"
    assert (
        f"Superseded by the assessment as of 2026-11-22 (RiskAssessment/{late_id}); "
        "kept for the record." in _notes(old)
    )
    assert "superseded" in old["text"]["div"].lower() or "Superseded" in old["text"]["div"]
    assert new["status"] in ("final", "preliminary")
    assert f"Supersedes the assessment as of 2026-11-01 (RiskAssessment/{early_id})." in _notes(new)
    # The first version stays in the history, as it was written.
    first = requests.get(
        f"{fhir_server.base_url}/RiskAssessment/{early_id}/_history/1", timeout=10
    ).json()
    assert first["status"] in ("final", "preliminary")
    for resource in (old, new, first):
        assert fhir_validator().errors(resource) == []


def test_a_retrospective_write_back_leaves_the_later_one_current(
    client: FlaskClient, fhir_client: FhirClient
) -> None:
    late = client.post(f"/api/patients/{PATIENT}/risk-assessment?at=2026-11-23")
    retro = client.post(f"/api/patients/{PATIENT}/risk-assessment?at=2026-10-15")
    assert retro.status_code == 201
    late_id = late.get_json()["id"]
    assert fhir_client.read("RiskAssessment", late_id)["status"] in ("final", "preliminary")
    notes = _notes(retro.get_json())
    assert any(
        n.startswith("A later assessment remains the current one: the assessment as of 2026-11-23")
        for n in notes
    )
    assert retro.get_json()["status"] in ("final", "preliminary")


def test_rationale_and_notes_use_no_parser_words(client: FlaskClient) -> None:
    resource = client.post(
        "/api/patients/demo-missing/risk-assessment?at=2026-11-22&dry-run=true"
    ).get_json()
    text = " ".join([*_notes(resource), *(p["rationale"] for p in resource["prediction"])])
    assert "value_error" not in text
    assert "_" not in text.replace("\\_", "")
    assert resource["code"]["coding"][0]["code"] == "nelm-eligibility-assessment"
