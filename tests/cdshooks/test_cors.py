"""CORS on the CDS Hooks routes: configured origins only, preflight without a token."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.cdshooks.routes import REFUSED_ORIGINS_NOTED, cors_origins
from service.settings import SettingError
from tests.cdshooks.conftest import FEEDBACK, SERVICE, AppFactory, Headers

EHR = "https://ehr.example.org"
PATHS = ["/cds-services", SERVICE, FEEDBACK]


def preflight(client: FlaskClient, path: str, origin: str, method: str = "POST") -> TestResponse:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


@pytest.fixture
def cors_client(make_app: AppFactory) -> FlaskClient:
    return make_app(CDS_CORS_ORIGINS=f"{EHR}, http://localhost:3000").test_client()


@pytest.mark.parametrize("path", PATHS)
def test_preflight_from_an_allowed_origin_is_answered_without_a_token(
    cors_client: FlaskClient, path: str
) -> None:
    response = preflight(cors_client, path, EHR)
    assert response.status_code == 200
    headers = response.headers
    assert headers["Access-Control-Allow-Origin"] == EHR
    allowed_headers = {
        h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type"} <= allowed_headers
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "Origin" in headers["Vary"]


def test_preflight_from_another_origin_gets_no_cors_headers(cors_client: FlaskClient) -> None:
    response = preflight(cors_client, SERVICE, "https://evil.example")
    headers = response.headers
    assert "Access-Control-Allow-Origin" not in headers
    assert "Access-Control-Allow-Headers" not in headers


def test_by_default_no_origin_is_allowed(client: FlaskClient) -> None:
    response = preflight(client, SERVICE, EHR)
    assert "Access-Control-Allow-Origin" not in response.headers


def test_an_allowed_origin_can_read_answers_including_a_401(
    cors_client: FlaskClient, auth: Headers
) -> None:
    ok = cors_client.get("/cds-services", headers={"Origin": EHR, **auth("/cds-services")})
    assert ok.status_code == 200
    assert ok.headers["Access-Control-Allow-Origin"] == EHR
    assert "Origin" in ok.headers["Vary"]
    refused = cors_client.get("/cds-services", headers={"Origin": EHR})
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == EHR
    assert "WWW-Authenticate" in refused.headers["Access-Control-Expose-Headers"]


def test_an_origin_is_matched_exactly(cors_client: FlaskClient) -> None:
    for origin in ("https://ehr.example.org.evil.example", "http://ehr.example.org", "null"):
        response = preflight(cors_client, SERVICE, origin)
        assert "Access-Control-Allow-Origin" not in response.headers


def test_routes_outside_cds_hooks_get_no_cors_headers(cors_client: FlaskClient) -> None:
    response = cors_client.get("/healthz", headers={"Origin": EHR})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_wildcard_is_honoured_only_when_configured(make_app: AppFactory) -> None:
    client = make_app(CDS_CORS_ORIGINS="*").test_client()
    response = preflight(client, SERVICE, "https://anyone.example")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_origins_are_normalised() -> None:
    assert cors_origins(
        {"CDS_CORS_ORIGINS": "HTTPS://EHR.Example.org/, http://localhost:3000"}
    ) == {
        "https://ehr.example.org",
        "http://localhost:3000",
    }
    assert cors_origins({"CDS_CORS_ORIGINS": ""}) == frozenset()
    assert cors_origins({}) == frozenset()


@pytest.mark.parametrize(
    "value",
    [
        "ehr.example.org",
        "https://ehr.example.org/app",
        "ftp://ehr.example.org",
        "https://u@h.example",
    ],
)
def test_a_bad_origin_setting_fails_at_start_up_naming_it(make_app: AppFactory, value: str) -> None:
    with pytest.raises(SettingError, match="NELM_CDS_CDS_CORS_ORIGINS"):
        make_app(CDS_CORS_ORIGINS=value)


def _cors_notes(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("CORS: origin")]


def test_a_refused_origin_is_named_in_the_log_once(
    cors_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A page whose origin differs by host name (127.0.0.1 for localhost) only sees "No
    recommendations" in the browser: the log says why, once per origin, at info level."""
    caplog.set_level(logging.INFO, logger="service")
    for _ in range(3):
        preflight(cors_client, SERVICE, "http://127.0.0.1:3000")
    cors_client.get("/cds-services", headers={"Origin": "http://127.0.0.1:3000"})
    (record,) = _cors_notes(caplog)
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert "'http://127.0.0.1:3000' is not in NELM_CDS_CDS_CORS_ORIGINS" in message
    assert f"(http://localhost:3000, {EHR})" in message  # what is allowed, sorted
    preflight(cors_client, SERVICE, "https://other.example")
    assert len(_cors_notes(caplog)) == 2


def test_an_allowed_origin_and_a_call_without_one_log_nothing_about_cors(
    cors_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service")
    preflight(cors_client, SERVICE, EHR)
    cors_client.get("/cds-services")
    assert _cors_notes(caplog) == []


def test_refused_origins_noted_are_bounded(
    cors_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service")
    for n in range(REFUSED_ORIGINS_NOTED + 5):
        preflight(cors_client, SERVICE, f"https://h{n}.example")
    assert len(_cors_notes(caplog)) == REFUSED_ORIGINS_NOTED
