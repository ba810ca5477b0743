"""FHIR-side faults seen through the API: the right status, promptly, retrying only
what is retryable and never following a foreign link. ``responses`` plays the server
for faults a real one will not produce on demand."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
import responses
from flask.testing import FlaskClient
from responses import matchers

from service.app import create_app
from tests.conftest import FHIR_SERVICE_SETTINGS

BASE = "https://fhir.example.test/r4"
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"}
EMPTY = {"resourceType": "Bundle", "type": "searchset", "entry": []}
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "forbidden", "diagnostics": "consent refused"}],
}


@pytest.fixture
def client() -> FlaskClient:
    app = create_app(
        {
            "TESTING": True,
            **FHIR_SERVICE_SETTINGS,
            "FHIR_BASE_URL": BASE,
            "FHIR_CONNECT_TIMEOUT": 0.5,
            "FHIR_READ_TIMEOUT": 0.5,
            "FHIR_RETRIES": 2,
        }
    )
    return app.test_client()


def add_searches(bundle: dict[str, Any] = EMPTY) -> None:
    for resource_type in ("Observation", "Condition", "Procedure"):
        responses.add(responses.GET, f"{BASE}/{resource_type}", json=bundle)


def evaluate(client: FlaskClient) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    response = client.get("/api/patients/p1/evaluation?at=2026-11-22")
    return response.status_code, response.get_json(), time.monotonic() - started


@responses.activate
def test_a_healthy_server_gives_an_evaluation() -> None:
    responses.add(responses.GET, f"{BASE}/Patient/p1", json=PATIENT)
    add_searches()
    app = create_app(
        {
            "TESTING": True,
            **FHIR_SERVICE_SETTINGS,
            "FHIR_BASE_URL": BASE,
        }
    )
    response = app.test_client().get("/api/patients/p1/evaluation?at=2026-11-22")
    assert response.status_code == 200
    assert response.get_json()["patient"] == "Patient/p1"


@responses.activate
def test_a_read_timeout_is_a_prompt_504(client: FlaskClient) -> None:
    responses.add(responses.GET, f"{BASE}/Patient/p1", body=requests.exceptions.ReadTimeout())
    add_searches()
    status, body, seconds = evaluate(client)
    assert status == 504
    assert body["error"] == "fhir_server_timeout"
    assert seconds < 2
    patient_calls = [c for c in responses.calls if "/Patient/" in c.request.url]
    assert len(patient_calls) == 1  # a timeout is not retried: the caller is waiting


@responses.activate
def test_429_with_retry_after_is_retried_then_succeeds(client: FlaskClient) -> None:
    responses.add(responses.GET, f"{BASE}/Patient/p1", status=429, headers={"Retry-After": "0"})
    responses.add(responses.GET, f"{BASE}/Patient/p1", json=PATIENT)
    add_searches()
    status, _, _ = evaluate(client)
    assert status == 200
    assert len([c for c in responses.calls if "/Patient/" in c.request.url]) == 2


@responses.activate
def test_503_is_retried_up_to_the_bound_then_502(client: FlaskClient) -> None:
    responses.add(responses.GET, f"{BASE}/Patient/p1", status=503, headers={"Retry-After": "0"})
    add_searches()
    status, body, _ = evaluate(client)
    assert status == 502
    assert body["error"] == "fhir_server_error"
    assert len([c for c in responses.calls if "/Patient/" in c.request.url]) == 3


@responses.activate
def test_a_400_is_not_retried(client: FlaskClient) -> None:
    responses.add(responses.GET, f"{BASE}/Patient/p1", status=400, json=OUTCOME)
    add_searches()
    status, body, _ = evaluate(client)
    assert status == 502
    assert body["outcome"]["issue"][0]["code"] == "forbidden"
    assert len([c for c in responses.calls if "/Patient/" in c.request.url]) == 1


@responses.activate
def test_a_200_with_garbage_is_a_502(client: FlaskClient) -> None:
    responses.add(responses.GET, f"{BASE}/Patient/p1", body=b"<html>oops</html>", status=200)
    add_searches()
    status, body, _ = evaluate(client)
    assert status == 502
    assert "Traceback" not in str(body)


@responses.activate
def test_a_next_link_to_another_host_is_never_followed(client: FlaskClient) -> None:
    responses.add(responses.GET, f"{BASE}/Patient/p1", json=PATIENT)
    page = {
        **EMPTY,
        "link": [{"relation": "next", "url": "https://evil.example.org/r4/Observation?page=2"}],
    }
    responses.add(responses.GET, f"{BASE}/Observation", json=page)
    responses.add(responses.GET, f"{BASE}/Condition", json=EMPTY)
    responses.add(responses.GET, f"{BASE}/Procedure", json=EMPTY)
    status, _, _ = evaluate(client)
    assert status == 502
    assert not [c for c in responses.calls if "evil.example.org" in c.request.url]


@responses.activate
def test_an_unknown_patient_on_the_server_is_404(client: FlaskClient) -> None:
    responses.add(responses.GET, f"{BASE}/Patient/p1", status=404, json=OUTCOME)
    add_searches()
    status, body, _ = evaluate(client)
    assert status == 404
    assert body["error"] == "not_found"


@responses.activate
def test_a_configured_bearer_token_is_sent_on_every_fhir_call() -> None:
    auth = matchers.header_matcher({"Authorization": "Bearer s3cret"})
    responses.add(responses.GET, f"{BASE}/Patient/p1", json=PATIENT, match=[auth])
    for resource_type in ("Observation", "Condition", "Procedure"):
        responses.add(responses.GET, f"{BASE}/{resource_type}", json=EMPTY, match=[auth])
    app = create_app(
        {
            "TESTING": True,
            **FHIR_SERVICE_SETTINGS,
            "FHIR_BASE_URL": BASE,
            "FHIR_TOKEN": "s3cret",
        }
    )
    response = app.test_client().get("/api/patients/p1/evaluation?at=2026-11-22")
    assert response.status_code == 200


@responses.activate
def test_readiness_says_not_ready_when_the_server_fails(client: FlaskClient) -> None:
    responses.add(responses.GET, f"{BASE}/metadata", status=503)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "not_ready"


def test_a_base_url_outside_the_allowlist_fails_at_start_up() -> None:
    with pytest.raises(ValueError, match="ALLOWLIST"):
        create_app(
            {
                "TESTING": True,
                **FHIR_SERVICE_SETTINGS,
                "FHIR_BASE_URL": BASE,
                "FHIR_ALLOWLIST": "https://other.example.test/fhir",
            }
        )


def test_a_plain_http_base_url_off_loopback_fails_at_start_up() -> None:
    with pytest.raises(ValueError, match="NELM_CDS_FHIR"):
        create_app(
            {
                "TESTING": True,
                **FHIR_SERVICE_SETTINGS,
                "FHIR_BASE_URL": "http://fhir.example.test/r4",
            }
        )
