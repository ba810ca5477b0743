"""Edges of the request parameters and of error responses that the OpenAPI contract
run (tests/contract/test_openapi.py) pinned down."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from service.app import create_app


@pytest.fixture
def client() -> FlaskClient:
    return create_app({"TESTING": True}).test_client()


@pytest.mark.parametrize(
    "at",
    ["0001-01-01", "1899-12-31", "2026-W47-1", "2026-11-22\n", "２０２６-11-22"],
    ids=["year-1", "before-1900", "iso-week-date", "trailing-newline", "non-ascii-digits"],
)
def test_an_evaluation_date_outside_the_contract_is_a_400(client: FlaskClient, at: str) -> None:
    response = client.get("/api/patients/demo-g3/evaluation", query_string={"at": at})
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"


def test_the_earliest_evaluation_date_is_accepted(client: FlaskClient) -> None:
    response = client.get("/api/patients/demo-g3/evaluation?at=1900-01-01")
    assert response.status_code == 200


def test_a_patient_id_with_a_trailing_newline_is_a_400(client: FlaskClient) -> None:
    assert client.get("/api/patients/demo-g3%0A/evaluation").status_code == 400


@pytest.mark.parametrize("value", ["TRUE", "True", "1", ""])
def test_dry_run_is_exactly_true_or_false(client: FlaskClient, value: str) -> None:
    response = client.post("/api/patients/demo-g3/risk-assessment", query_string={"dry-run": value})
    assert response.status_code == 400


def test_a_method_not_allowed_says_which_are(client: FlaskClient) -> None:
    response = client.put("/healthz")
    assert response.status_code == 405
    assert response.is_json
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
