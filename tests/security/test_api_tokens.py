"""A held-back-style set of REST API access tokens against the default multi-worker
server (issue 9, "How it will be checked"): RFC 6750 answers exactly as the issue says,
on every patient route; unknown and known patients answer alike until access is given."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from tests.auth.issuer_server import IssuerServer
from tests.cdshooks.jwt_factory import forge, new_ec_key, new_rsa_key
from tests.security.conftest import INLINE_ISSUER, SecuredServer

pytestmark = pytest.mark.integration

READ = "nelm/evaluations.read"
WRITE = "nelm/risk-assessments.write"
PATIENT = "demo-transplant"
EVALUATION = f"/api/patients/{PATIENT}/evaluation?at=2026-11-22"
WRITE_BACK = f"/api/patients/{PATIENT}/risk-assessment?dry-run=true&at=2026-11-22"
BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [{"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1980-05-01"}}],
}
ROUTES = [  # (method, path, the scope it needs)
    ("GET", "/api/patients", READ),
    ("GET", EVALUATION, READ),
    ("POST", "/api/evaluate?at=2026-11-22", READ),
    ("POST", WRITE_BACK, WRITE),
]
INVALID_TOKEN = 'Bearer realm="nelm-cds", error="invalid_token"'

Forgery = Callable[[IssuerServer, str], str]


def _call(secured: SecuredServer, method: str, path: str, token: str | None) -> requests.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with requests.Session() as session:  # a new connection: any worker
        if method == "GET":
            return session.get(secured.base_url + path, headers=headers, timeout=30)
        return session.post(
            secured.base_url + path,
            headers={**headers, "Content-Type": "application/fhir+json"},
            data=json.dumps(BUNDLE) if "evaluate" in path else None,
            timeout=30,
        )


def _assert_invalid_token(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json() == {  # RFC 9457 problem details that say nothing more
        "type": "tag:nelm-cds,2026:problem:invalid_token",
        "title": "Unauthorized",
        "status": 401,
        "detail": "the access token is not valid here",
        "error": "invalid_token",
        "message": "the access token is not valid here",
    }


def _pem(idp: IssuerServer) -> bytes:
    public: bytes = idp.rs256.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public


def _claims(idp: IssuerServer, aud: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    body = {"iss": idp.issuer, "sub": "u", "aud": aud, "iat": now, "exp": now + 300}
    return {**body, "scope": READ, **changes}


def _tampered(idp: IssuerServer, aud: str) -> str:
    header, _, signature = idp.token(aud=aud, scope="openid").split(".")
    payload = base64.urlsafe_b64encode(json.dumps(_claims(idp, aud)).encode()).rstrip(b"=")
    return f"{header}.{payload.decode()}.{signature}"


FORGERIES: dict[str, Forgery] = {
    "wrong issuer": lambda idp, aud: idp.token(
        aud=aud, scope=READ, claims={"iss": "https://evil.example/realms/hospital"}
    ),
    "a CDS issuer's iss": lambda idp, aud: idp.token(
        aud=aud, scope=READ, claims={"iss": INLINE_ISSUER}
    ),
    "wrong audience": lambda idp, aud: idp.token(aud="https://other.example", scope=READ),
    "audience of the CDS discovery endpoint": lambda idp, aud: idp.token(
        aud=aud + "/cds-services", scope=READ
    ),
    "audience list without the service": lambda idp, aud: idp.token(
        aud=["https://a.example", "https://b.example"], scope=READ
    ),
    "no audience": lambda idp, aud: idp.token(aud=None, scope=READ),  # type: ignore[arg-type]
    "expired": lambda idp, aud: idp.token(
        aud=aud, scope=READ, claims={"iat": int(time.time()) - 900, "exp": int(time.time()) - 120}
    ),
    "nbf in the future": lambda idp, aud: idp.token(
        aud=aud, scope=READ, claims={"nbf": int(time.time()) + 600}
    ),
    "iat in the future": lambda idp, aud: idp.token(
        aud=aud, scope=READ, claims={"iat": int(time.time()) + 600, "exp": int(time.time()) + 900}
    ),
    "no exp": lambda idp, aud: idp.token(aud=aud, scope=READ, claims={"exp": None}),
    "unsigned (alg none)": lambda idp, aud: forge(
        {"alg": "none", "typ": "JWT", "kid": "rs-1"}, _claims(idp, aud)
    ),
    "alg none with a signature": lambda idp, aud: (
        forge({"alg": "none", "typ": "JWT", "kid": "rs-1"}, _claims(idp, aud)) + "c2ln"
    ),
    "HS256 keyed with the public key": lambda idp, aud: forge(
        {"alg": "HS256", "typ": "JWT", "kid": "rs-1"}, _claims(idp, aud), hmac_secret=_pem(idp)
    ),
    "HS512 keyed with the public key": lambda idp, aud: forge(
        {"alg": "HS512", "typ": "JWT", "kid": "rs-1"}, _claims(idp, aud), hmac_secret=_pem(idp)
    ),
    "RS512 (unsupported)": lambda idp, aud: idp.token(aud=aud, scope=READ, alg="RS512"),
    "ES512 (unsupported)": lambda idp, aud: forge(
        {"alg": "ES512", "typ": "JWT", "kid": "es384-1"}, _claims(idp, aud)
    ),
    "EdDSA (unsupported)": lambda idp, aud: forge(
        {"alg": "EdDSA", "typ": "JWT", "kid": "rs-1"}, _claims(idp, aud)
    ),
    "signature stripped": lambda idp, aud: idp.token(aud=aud, scope=READ).rsplit(".", 1)[0] + ".",
    "payload tampered": _tampered,
    "another key with the trusted kid": lambda idp, aud: idp.token(
        aud=aud, scope=READ, key=new_rsa_key("rs-1"), alg="RS256"
    ),
    "an unknown kid": lambda idp, aud: idp.token(
        aud=aud, scope=READ, key=new_ec_key("attacker"), alg="ES384"
    ),
    "jku to an unlisted host": lambda idp, aud: idp.token(
        aud=aud, scope=READ, headers={"jku": "https://evil.example/jwks.json"}
    ),
    "jwk header with the attacker's key": lambda idp, aud: idp.token(
        aud=aud,
        scope=READ,
        key=(attacker := new_rsa_key("rs-1")),
        alg="RS256",
        headers={"jwk": attacker.public_jwk},
    ),
    "garbage": lambda idp, aud: "not.a.token",
}


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_forged_api_token_gets_401_invalid_token(
    secured: SecuredServer, name: str, method: str, path: str, scope: str
) -> None:
    token = FORGERIES[name](secured.idp, secured.base_url)
    _assert_invalid_token(_call(secured, method, path, token))


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_no_token_gets_401_with_a_bare_challenge(
    secured: SecuredServer, method: str, path: str, scope: str
) -> None:
    response = _call(secured, method, path, None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="nelm-cds"'
    assert set(response.json()) == {"type", "title", "status", "detail", "error", "message"}


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
@pytest.mark.parametrize("granted", [None, "openid profile", "nelm/evaluations", "nelm/*"])
def test_a_token_without_the_routes_scope_gets_403_insufficient_scope(
    secured: SecuredServer, method: str, path: str, scope: str, granted: str | None
) -> None:
    token = secured.idp.token(aud=secured.base_url, scope=granted)
    response = _call(secured, method, path, token)
    assert response.status_code == 403, response.text
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="nelm-cds", error="insufficient_scope", scope="{scope}"'
    )
    assert response.json()["error"] == "insufficient_scope"


def test_the_read_scope_does_not_write_back(secured: SecuredServer) -> None:
    token = secured.idp.token(aud=secured.base_url, scope=READ)
    response = _call(secured, "POST", WRITE_BACK, token)
    assert response.status_code == 403
    assert f'scope="{WRITE}"' in response.headers["WWW-Authenticate"]


def test_the_write_scope_does_not_read(secured: SecuredServer) -> None:
    token = secured.idp.token(aud=secured.base_url, scope=WRITE)
    assert _call(secured, "GET", EVALUATION, token).status_code == 403


GRANTS: dict[str, Callable[[IssuerServer, str, str], str]] = {
    "scope, space-separated": lambda idp, aud, scope: idp.token(aud=aud, scope=f"openid {scope}"),
    "scp as a list (Okta)": lambda idp, aud, scope: idp.token(
        aud=aud, claims={"scp": ["openid", scope]}
    ),
    "scp as a string (Entra ID)": lambda idp, aud, scope: idp.token(aud=aud, claims={"scp": scope}),
    "aud as a list": lambda idp, aud, scope: idp.token(
        aud=["https://other.example", aud], scope=scope
    ),
    "ES256": lambda idp, aud, scope: idp.token(aud=aud, scope=scope, key=idp.es256),
    "ES384": lambda idp, aud, scope: idp.token(aud=aud, scope=scope, key=idp.es384),
    "PS256": lambda idp, aud, scope: idp.token(aud=aud, scope=scope, alg="PS256"),
    "RS384": lambda idp, aud, scope: idp.token(aud=aud, scope=scope, alg="RS384"),
    "typ at+jwt": lambda idp, aud, scope: idp.token(
        aud=aud, scope=scope, headers={"typ": "at+jwt"}
    ),
}


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
@pytest.mark.parametrize("name", list(GRANTS))
def test_a_valid_api_token_opens_its_routes(
    secured: SecuredServer, name: str, method: str, path: str, scope: str
) -> None:
    token = GRANTS[name](secured.idp, secured.base_url, scope)
    response = _call(secured, method, path, token)
    assert response.status_code == 200, response.text


def test_an_access_token_is_reused_across_the_workers_until_it_expires(
    secured: SecuredServer,
) -> None:
    token = secured.idp.token(aud=secured.base_url, scope=READ)
    statuses = {_call(secured, "GET", EVALUATION, token).status_code for _ in range(10)}
    assert statuses == {200}


def test_known_and_unknown_patients_answer_alike_without_access(secured: SecuredServer) -> None:
    under_scoped = secured.idp.token(aud=secured.base_url, scope="openid")
    forged = FORGERIES["wrong audience"](secured.idp, secured.base_url)
    for token in (None, forged, under_scoped):
        known = _call(secured, "GET", EVALUATION, token)
        unknown = _call(secured, "GET", "/api/patients/no-such-patient/evaluation", token)
        assert known.status_code == unknown.status_code
        assert known.status_code in (401, 403)
        assert known.json() == unknown.json()
        assert known.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"]


def test_a_token_in_the_query_string_or_the_body_is_not_accepted(secured: SecuredServer) -> None:
    """RFC 6750 §2.2-2.3 forms are not taken: URLs end up in proxies' logs."""
    token = secured.idp.token(aud=secured.base_url, scope=READ)
    in_query = requests.get(f"{secured.base_url}{EVALUATION}&access_token={token}", timeout=30)
    assert in_query.status_code == 401
    in_form = requests.post(
        f"{secured.base_url}/api/evaluate?at=2026-11-22",
        data={"access_token": token},
        timeout=30,
    )
    assert in_form.status_code == 401
    assert token.split(".")[1] not in secured.server.log()
