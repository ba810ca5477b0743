"""Logs are JSON lines with a request id, and name route templates, never patient ids."""

from __future__ import annotations

import json
import logging

import pytest
from flask.testing import FlaskClient

from service.app import create_app
from service.observability import JsonFormatter


@pytest.fixture
def client() -> FlaskClient:
    return create_app({"TESTING": True}).test_client()


def captured_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


def test_a_well_formed_request_id_is_echoed_and_logged(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="service.access"):
        response = client.get("/healthz", headers={"X-Request-ID": "abc-12345678"})
        lines = captured_lines(caplog)
    assert response.headers["X-Request-ID"] == "abc-12345678"
    assert lines[-1]["route"] == "/healthz"
    assert lines[-1]["status"] == 200


@pytest.mark.parametrize(
    "hostile", ["", "short", "x" * 200, "id with spaces", "<script>alert(1)</script>"]
)
def test_an_odd_request_id_is_replaced(client: FlaskClient, hostile: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": hostile})
    assert response.headers["X-Request-ID"] != hostile
    assert len(response.headers["X-Request-ID"]) == 32


def test_the_access_line_names_the_route_template_not_the_patient(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="service.access"):
        client.get("/api/patients/demo-transplant/evaluation?at=2025-03-04")
        text = "\n".join(json.dumps(line) for line in captured_lines(caplog))
    assert "/api/patients/<patient_id>/evaluation" in text
    assert "demo-transplant" not in text
    assert "2025-03-04" not in text
