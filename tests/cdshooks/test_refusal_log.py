"""The service's log names the check a refused CDS token failed (info level, no token)."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from tests.cdshooks.conftest import BASE, ISSUER, Headers
from tests.cdshooks.jwt_factory import SigningKey, new_ec_key, sign


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "CDS Hooks call refused" in r.getMessage()]


def test_a_wrong_audience_names_both_urls(
    client: FlaskClient, auth: Headers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service")
    called = "http://127.0.0.1/cds-services"
    headers = auth("/cds-services", aud=called)
    response = client.get("/cds-services", headers=headers)
    assert response.status_code == 401
    (record,) = _refusals(caplog)
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert f"aud '{called}' is not this endpoint's URL '{BASE}/cds-services'" in message
    assert headers["Authorization"].split()[1] not in message
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="{BASE}"'


def test_a_foreign_signature_is_named(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, signing_key: SigningKey
) -> None:
    caplog.set_level(logging.INFO, logger="service")
    impostor = new_ec_key(signing_key.kid)
    token = sign(impostor, iss=ISSUER, aud=f"{BASE}/cds-services")
    assert (
        client.get("/cds-services", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    (record,) = _refusals(caplog)
    assert "the signature does not verify" in record.getMessage()
    assert token.split(".")[2] not in record.getMessage()


def test_a_malformed_token_is_named(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="service")
    headers = {"Authorization": "Bearer not.a.jwt"}
    assert client.get("/cds-services", headers=headers).status_code == 401
    (record,) = _refusals(caplog)
    assert "not a well-formed JWT" in record.getMessage()
