"""A held-back-style set of forged and valid CDS Hooks tokens against the default
multi-worker server (issue 9, "How it will be checked"): every forged token gets 401
with no detail, on discovery and on the hook; every valid token is accepted once,
whichever worker its replays reach."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from tests.cdshooks.conftest import full_prefetch, hook_body
from tests.cdshooks.jwt_factory import SigningKey, claims, forge, new_ec_key, new_rsa_key, sign
from tests.security.conftest import (
    FILE_ISSUER,
    INLINE_ISSUER,
    JKU_ISSUER,
    SANDBOX_JKU,
    SecuredServer,
)

pytestmark = pytest.mark.integration

DISCOVERY = "/cds-services"
HOOK = "/cds-services/nelm-eligibility"
FEEDBACK = HOOK + "/feedback"
PATIENT = "demo-transplant"
ENDPOINTS = [DISCOVERY, HOOK]
GUARDED = [DISCOVERY, HOOK, FEEDBACK]

Forgery = Callable[[SecuredServer, str], str]
"""(the server, the endpoint's audience URL) -> a token that must be refused."""


def _call(secured: SecuredServer, path: str, token: str | None) -> requests.Response:
    """One call on a new connection (so any worker may take it)."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with requests.Session() as session:
        if path == DISCOVERY:
            return session.get(secured.base_url + path, headers=headers, timeout=15)
        if path == FEEDBACK:
            feedback = {"feedback": [{"card": "c", "outcome": "accepted"}]}
            return session.post(secured.base_url + path, json=feedback, headers=headers, timeout=15)
        body = hook_body(PATIENT, full_prefetch(PATIENT))
        return session.post(secured.base_url + path, json=body, headers=headers, timeout=15)


def _assert_refused(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"error": "unauthorized"}
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer realm=")
    assert "error" not in challenge  # no detail of why


def _pem(key: SigningKey) -> bytes:
    public: bytes = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _ec(s: SecuredServer, aud: str, **kwargs: Any) -> str:
    return sign(s.inline_ec, iss=INLINE_ISSUER, aud=aud, **kwargs)


def _tampered(s: SecuredServer, aud: str) -> str:
    header, _, signature = _ec(s, aud).split(".")
    payload = claims(iss=INLINE_ISSUER, aud=aud) | {"sub": "admin"}
    return f"{header}.{_b64(payload)}.{signature}"


def _jwk_injected(s: SecuredServer, aud: str, kid: str) -> str:
    attacker = new_ec_key(kid)
    return sign(attacker, iss=INLINE_ISSUER, aud=aud, headers={"jwk": attacker.public_jwk})


FORGERIES: dict[str, Forgery] = {
    "issuer not trusted": lambda s, aud: sign(s.inline_ec, iss="https://evil.example", aud=aud),
    "issuer with a trailing slash": lambda s, aud: sign(
        s.inline_ec, iss=INLINE_ISSUER + "/", aud=aud
    ),
    "issuer of another key": lambda s, aud: sign(s.inline_ec, iss=FILE_ISSUER, aud=aud),
    "audience of another endpoint": lambda s, aud: _ec(
        s, s.base_url + (HOOK if aud.endswith(DISCOVERY) else DISCOVERY)
    ),
    "audience of another host": lambda s, aud: _ec(s, aud.replace("127.0.0.1", "localhost")),
    "audience with a trailing slash": lambda s, aud: _ec(s, aud + "/"),
    "kid unknown": lambda s, aud: _ec(s, aud, headers={"kid": "nobody"}),
    "kid of the file issuer's key": lambda s, aud: _ec(s, aud, headers={"kid": "file-ec"}),
    "alg none, unsigned": lambda s, aud: forge(
        {"alg": "none", "typ": "JWT", "kid": "ehr-ec"}, claims(iss=INLINE_ISSUER, aud=aud)
    ),
    "alg none with a signature": lambda s, aud: (
        forge({"alg": "none", "typ": "JWT", "kid": "ehr-ec"}, claims(iss=INLINE_ISSUER, aud=aud))
        + "c2lnbmF0dXJl"
    ),
    "HS256 keyed with the RSA public key": lambda s, aud: forge(
        {"alg": "HS256", "typ": "JWT", "kid": "ehr-rsa"},
        claims(iss=INLINE_ISSUER, aud=aud),
        hmac_secret=_pem(s.inline_rsa),
    ),
    "HS384 keyed with the EC public key": lambda s, aud: forge(
        {"alg": "HS384", "typ": "JWT", "kid": "ehr-ec"},
        claims(iss=INLINE_ISSUER, aud=aud),
        hmac_secret=_pem(s.inline_ec),
    ),
    "RS256 by the trusted RSA key": lambda s, aud: sign(
        s.inline_rsa, iss=INLINE_ISSUER, aud=aud, headers={"alg": "RS256"}
    ),
    "PS256 by the trusted RSA key": lambda s, aud: sign(
        s.inline_rsa, iss=INLINE_ISSUER, aud=aud, headers={"alg": "PS256"}
    ),
    "ES256 by a P-256 key the issuer lists": lambda s, aud: sign(
        s.inline_ec256, iss=INLINE_ISSUER, aud=aud
    ),
    "RS384 by another key with the trusted kid": lambda s, aud: sign(
        new_rsa_key("ehr-rsa"), iss=INLINE_ISSUER, aud=aud
    ),
    "expired": lambda s, aud: _ec(s, aud, iat=int(time.time()) - 400, lifetime=300),
    "expired beyond the skew only": lambda s, aud: _ec(
        s, aud, iat=int(time.time()) - 362, lifetime=300
    ),
    "not yet valid": lambda s, aud: _ec(s, aud, claims={"nbf": int(time.time()) + 120}),
    "issued in the future beyond the skew": lambda s, aud: _ec(s, aud, iat=int(time.time()) + 90),
    "lifetime too long": lambda s, aud: _ec(s, aud, lifetime=301),
    "lifetime of a day": lambda s, aud: _ec(s, aud, lifetime=86_400),
    "no exp": lambda s, aud: _ec(s, aud, omit=("exp",)),
    "no iat": lambda s, aud: _ec(s, aud, omit=("iat",)),
    "no jti": lambda s, aud: _ec(s, aud, omit=("jti",)),
    "empty jti": lambda s, aud: _ec(s, aud, claims={"jti": ""}),
    "no typ": lambda s, aud: _ec(s, aud, headers={"typ": None}),
    "typ at+jwt": lambda s, aud: _ec(s, aud, headers={"typ": "at+jwt"}),
    "typ JWS": lambda s, aud: _ec(s, aud, headers={"typ": "JWS"}),
    "jku to an unlisted host (inline keys)": lambda s, aud: _ec(
        s, aud, headers={"jku": "https://evil.example/jwks.json"}
    ),
    "jku to an unlisted host (file keys)": lambda s, aud: sign(
        s.file_key, iss=FILE_ISSUER, aud=aud, headers={"jku": "https://evil.example/jwks.json"}
    ),
    "jku other than the jku issuer's own": lambda s, aud: sign(
        s.jku_key, iss=JKU_ISSUER, aud=aud, headers={"jku": "https://evil.example/jwks.json"}
    ),
    "jku beside the allowlisted prefix": lambda s, aud: _ec(
        s, aud, headers={"jku": "https://sandbox.example/other/jwks.json"}
    ),
    "jku at a lookalike host": lambda s, aud: _ec(
        s, aud, headers={"jku": "https://sandbox.example.evil.example/.well-known/jwks.json"}
    ),
    "allowlisted jku but the attacker's key": lambda s, aud: sign(
        new_ec_key("ehr-ec"), iss=INLINE_ISSUER, aud=aud, headers={"jku": SANDBOX_JKU}
    ),
    "x5u header to an attacker's certificate": lambda s, aud: sign(
        new_ec_key("ehr-ec"),
        iss=INLINE_ISSUER,
        aud=aud,
        headers={"x5u": "https://evil.example/cert.pem"},
    ),
    "jwk header with the attacker's key and the trusted kid": lambda s, aud: _jwk_injected(
        s, aud, "ehr-ec"
    ),
    "jwk header with the attacker's key and its own kid": lambda s, aud: _jwk_injected(
        s, aud, "attacker"
    ),
    "crit header naming an unknown extension": lambda s, aud: _ec(
        s, aud, headers={"crit": ["urn:example:must-understand"], "urn:example:must-understand": 1}
    ),
    "signature stripped": lambda s, aud: _ec(s, aud).rsplit(".", 1)[0] + ".",
    "signature of another token": lambda s, aud: (
        _ec(s, aud).rsplit(".", 1)[0] + "." + _ec(s, aud).rsplit(".", 1)[1]
    ),
    "payload tampered": _tampered,
    "two segments": lambda s, aud: _ec(s, aud).rsplit(".", 1)[0],
    "a JWE-shaped token": lambda s, aud: ".".join(
        [_b64({"alg": "RSA-OAEP", "enc": "A256GCM"})] * 5
    ),
    "a REST API access token": lambda s, aud: s.idp.token(aud=aud, scope="nelm/evaluations.read"),
}


@pytest.mark.parametrize("endpoint", GUARDED)
@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_forged_cds_token_is_refused_with_no_detail(
    secured: SecuredServer, name: str, endpoint: str
) -> None:
    token = FORGERIES[name](secured, secured.base_url + endpoint)
    _assert_refused(_call(secured, endpoint, token))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "authorization", [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Bearer " + "x" * 8000]
)
def test_a_missing_or_malformed_authorization_is_refused(
    secured: SecuredServer, endpoint: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with requests.Session() as session:
        response = session.request(
            "GET" if endpoint == DISCOVERY else "POST",
            secured.base_url + endpoint,
            headers=headers,
            json=None if endpoint == DISCOVERY else hook_body(PATIENT, full_prefetch(PATIENT)),
            timeout=15,
        )
    _assert_refused(response)


VALID: dict[str, Forgery] = {
    "ES384 by the inline issuer": lambda s, aud: _ec(s, aud),
    "RS384 by the inline issuer": lambda s, aud: sign(s.inline_rsa, iss=INLINE_ISSUER, aud=aud),
    "typ jwt in lower case": lambda s, aud: _ec(s, aud, headers={"typ": "jwt"}),
    "audience as a list": lambda s, aud: _ec(s, ["https://other.example", aud]),
    "the sandbox's allowlisted jku, inline keys": lambda s, aud: _ec(
        s, aud, headers={"jku": SANDBOX_JKU}
    ),
    "the file issuer": lambda s, aud: sign(s.file_key, iss=FILE_ISSUER, aud=aud),
    "the jku issuer, no jku header": lambda s, aud: sign(s.jku_key, iss=JKU_ISSUER, aud=aud),
    "the jku issuer, its own jku": lambda s, aud: sign(
        s.jku_key, iss=JKU_ISSUER, aud=aud, headers={"jku": s.jku_server.url}
    ),
    "issued just within the skew": lambda s, aud: _ec(s, aud, iat=int(time.time()) + 30),
    "the longest lifetime": lambda s, aud: _ec(s, aud, lifetime=300),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("name", list(VALID))
def test_a_valid_cds_token_is_accepted_once_across_the_workers(
    secured: SecuredServer, name: str, endpoint: str
) -> None:
    token = VALID[name](secured, secured.base_url + endpoint)
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda _: _call(secured, endpoint, token), range(12)))
    accepted = [r for r in responses if r.status_code == 200]
    assert len(accepted) == 1, [r.status_code for r in responses]
    if endpoint == HOOK:
        assert accepted[0].json()["cards"]
    for response in responses:
        if response.status_code != 200:
            _assert_refused(response)


def test_a_token_replayed_to_the_other_endpoint_is_refused(secured: SecuredServer) -> None:
    """One jti, two tokens for two endpoints: the second is a replay."""
    jti = "replay-across-endpoints"
    first = _ec(secured, secured.base_url + DISCOVERY, jti=jti)
    assert _call(secured, DISCOVERY, first).status_code == 200
    second = _ec(secured, secured.base_url + HOOK, jti=jti)
    _assert_refused(_call(secured, HOOK, second))
