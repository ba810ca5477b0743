"""Outbound calls a caller can ask for (issue 9: "FHIR calls only to allowlisted
servers"), against the default server: a hook naming a FHIR server that is not on the
allowlist, with a valid token and no prefetch, is answered 412 and that server is never
called; a token's jku is never fetched."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.cdshooks.jwt_factory import new_ec_key, sign
from tests.security.conftest import INLINE_ISSUER, SecuredServer

pytestmark = pytest.mark.integration

HOOK = "/cds-services/nelm-eligibility"


def test_a_hook_naming_an_unlisted_fhir_server_never_calls_it(secured: SecuredServer) -> None:
    target = secured.jku_server  # a loopback server the test watches
    before = list(target.paths)
    for fhir_server in (
        f"{target.origin}/fhir",
        f"{target.origin}/jwks.json?",
        "http://169.254.169.254/latest/meta-data",
    ):
        body = {
            "hook": "patient-view",
            "hookInstance": str(uuid.uuid4()),
            "fhirServer": fhir_server,
            "fhirAuthorization": {
                "access_token": "x" * 20,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/*.read",
                "subject": "ehr",
            },
            "context": {"userId": "Practitioner/1", "patientId": "demo-transplant"},
        }
        token = sign(secured.inline_ec, iss=INLINE_ISSUER, aud=secured.base_url + HOOK)
        response = requests.post(
            secured.base_url + HOOK,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code in (400, 412), response.text
    assert target.paths == before


def test_a_tokens_jku_is_never_fetched(secured: SecuredServer) -> None:
    """The jku is on the allowlist (the jku issuer's own host) but names another path:
    an inline issuer's token with it is verified with the configured keys only."""
    target = secured.jku_server
    before = list(target.paths)
    attacker = new_ec_key("ehr-ec")
    jku = f"{target.origin}/attacker-keys.json"
    token = sign(
        attacker, iss=INLINE_ISSUER, aud=secured.base_url + "/cds-services", headers={"jku": jku}
    )
    response = requests.get(
        secured.base_url + "/cds-services",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 401
    assert target.paths == before
