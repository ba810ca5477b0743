"""Errors of the REST API are RFC 9457 problem details; CDS Hooks routes keep their JSON
and FHIR routes answer an OperationOutcome (service.problem)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import responses
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.app import create_app
from service.request_body import EXTENSION
from tests.cdshooks.jwt_factory import jwks, new_ec_key, sign
from tests.conftest import FHIR_SERVICE_SETTINGS

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "error", "message"}
FHIR_BASE = "https://fhir.example.test/r4"
ISSUER = "https://idp.example.org"
KEY = new_ec_key("k1")


def assert_problem(response: TestResponse, status: int, error: str, title: str) -> dict[str, Any]:
    """Check the problem details shape and return the body."""
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = json.loads(response.get_data(as_text=True))
    assert set(body) >= PROBLEM_MEMBERS
    assert body["type"] == f"tag:nelm-cds,2026:problem:{error}"
    assert body["title"] == title
    assert body["status"] == status
    assert body["error"] == error
    assert body["detail"] == body["message"]
    assert body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


@pytest.fixture
def client() -> FlaskClient:
    return create_app({"TESTING": True}).test_client()


def test_a_bad_parameter_is_a_400_problem(client: FlaskClient) -> None:
    response = client.get("/api/patients/demo-g3/evaluation?at=yesterday")
    body = assert_problem(response, 400, "bad_request", "Bad Request")
    assert "at" in body["detail"]


def test_an_unknown_patient_is_a_404_problem(client: FlaskClient) -> None:
    assert_problem(client.get("/api/patients/nobody/evaluation"), 404, "not_found", "Not Found")


def test_an_unknown_path_is_a_404_problem(client: FlaskClient) -> None:
    assert_problem(client.get("/api/nothing-here"), 404, "not_found", "Not Found")


def test_a_method_not_allowed_is_a_405_problem_that_keeps_allow(client: FlaskClient) -> None:
    response = client.delete("/api/patients/demo-g3/evaluation")
    assert_problem(response, 405, "method_not_allowed", "Method Not Allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_a_body_over_the_limit_is_a_413_problem() -> None:
    app = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 1024})
    response = app.test_client().post(
        "/api/evaluate", data="x" * 4096, content_type="application/fhir+json"
    )
    assert_problem(response, 413, "request_entity_too_large", "Content Too Large")


def test_a_body_not_sent_as_json_is_a_415_problem(client: FlaskClient) -> None:
    response = client.post("/api/evaluate", data="<Bundle/>", content_type="application/xml")
    assert_problem(response, 415, "unsupported_media_type", "Unsupported Media Type")


def test_a_bundle_without_a_patient_is_a_422_problem(client: FlaskClient) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": []}
    response = client.post("/api/evaluate", json=bundle)
    assert_problem(response, 422, "unprocessable", "Unprocessable Content")


def test_a_busy_worker_is_a_429_problem_with_retry_after() -> None:
    app = create_app({"TESTING": True, "FHIR_DEADLINE_SECONDS": 0.2})
    slot = app.extensions[EXTENSION].slot
    body = json.dumps({"resourceType": "Bundle", "type": "collection", "pad": "x" * 2_000_000})
    assert slot.acquire(timeout=1)
    try:
        response = app.test_client().post(
            "/api/evaluate", data=body, content_type="application/fhir+json"
        )
    finally:
        slot.release()
    assert_problem(response, 429, "too_many_requests", "Too Many Requests")
    assert response.headers["Retry-After"] == "5"


@pytest.fixture
def guarded() -> Flask:
    return create_app({"TESTING": True, "API_ISSUERS": {ISSUER: {"jwks": jwks(KEY)}}})


def test_a_missing_token_is_a_401_problem_with_the_same_challenge(guarded: Flask) -> None:
    response = guarded.test_client().get("/api/patients/demo-g3/evaluation")
    body = assert_problem(response, 401, "unauthorized", "Unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="nelm-cds"'
    assert set(body) == PROBLEM_MEMBERS  # nothing about why, nor about the patient


def test_a_token_without_the_scope_is_a_403_problem_naming_the_scope(guarded: Flask) -> None:
    token = sign(KEY, iss=ISSUER, aud="http://127.0.0.1:8080", claims={"scope": "other"})
    response = guarded.test_client().get(
        "/api/patients/demo-g3/evaluation", headers={"Authorization": f"Bearer {token}"}
    )
    body = assert_problem(response, 403, "insufficient_scope", "Forbidden")
    assert body["scope"] == "nelm/evaluations.read"
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="nelm-cds", error="insufficient_scope", scope="nelm/evaluations.read"'
    )


@pytest.fixture
def fhir_client() -> FlaskClient:
    app = create_app(
        {
            "TESTING": True,
            **FHIR_SERVICE_SETTINGS,
            "FHIR_BASE_URL": FHIR_BASE,
            "FHIR_RETRIES": 0,
            "FHIR_READ_TIMEOUT": 0.5,
        }
    )
    return app.test_client()


@responses.activate
def test_a_failing_fhir_server_is_a_502_problem_keeping_its_outcome(
    fhir_client: FlaskClient,
) -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "exception", "diagnostics": "database down"}],
    }
    responses.add(responses.GET, f"{FHIR_BASE}/Patient/p1", status=500, json=outcome)
    response = fhir_client.get("/api/patients/p1/evaluation?at=2026-11-22")
    body = assert_problem(response, 502, "fhir_server_error", "Bad Gateway")
    assert body["outcome"] == outcome


@responses.activate
def test_a_silent_fhir_server_is_a_504_problem(fhir_client: FlaskClient) -> None:
    responses.add(responses.GET, f"{FHIR_BASE}/Patient/p1", body=requests.ReadTimeout("no answer"))
    response = fhir_client.get("/api/patients/p1/evaluation?at=2026-11-22")
    assert_problem(response, 504, "fhir_server_timeout", "Gateway Timeout")


def test_cds_hooks_routes_keep_their_plain_json(client: FlaskClient) -> None:
    response = client.post("/cds-services/no-such-service", json={})
    assert response.status_code in (401, 404)
    assert response.mimetype == "application/json"
    assert "type" not in response.get_json()
    assert "error" in response.get_json()


def test_fhir_routes_answer_an_operation_outcome(client: FlaskClient) -> None:
    response = client.get("/fhir/CodeSystem/no-such-code-system")
    assert response.status_code == 404
    assert response.mimetype == "application/fhir+json"
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    assert body["issue"][0]["code"] == "not-found"
    response = client.post("/fhir/CodeSystem/nelm-assessment")
    assert response.status_code == 405
    assert response.get_json()["issue"][0]["code"] == "not-supported"
