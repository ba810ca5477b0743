"""The REST API as an OAuth 2.0 resource server: real tokens from a local OpenID-Connect
issuer (discovery + JWKS over HTTP) pass; every forged, misdirected, expired or
under-scoped one is refused with the RFC 6750 answer, before any patient data is read."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient

from service.app import create_app
from service.settings import SettingError
from tests.auth.conftest import BASE, READ, WRITE, AppFactory, bearer
from tests.auth.issuer_server import IssuerServer, serving_issuer
from tests.cdshooks.jwt_factory import forge, new_ec_key, new_rsa_key
from tests.conftest import AUDIT_HMAC_KEY, PAGE_LINK_SECRET

PATIENT = "demo-transplant"
EVALUATION = f"/api/patients/{PATIENT}/evaluation?at=2026-11-22"
FHIR = "https://fhir.example.test/r4"

PATIENT_ROUTES = [
    ("GET", "/api/patients", READ),
    ("GET", EVALUATION, READ),
    ("POST", "/api/evaluate?at=2026-11-22", READ),
    ("POST", f"/api/patients/{PATIENT}/risk-assessment?dry-run=true&at=2026-11-22", WRITE),
]
BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [{"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1980-05-01"}}],
}


def call(client: FlaskClient, method: str, path: str, headers: dict[str, str]) -> Any:
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(
        path, headers=headers, data=json.dumps(BUNDLE), content_type="application/fhir+json"
    )


def assert_invalid_token(response: Any) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="nelm-cds", error="invalid_token"'
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == {
        "type": "tag:nelm-cds,2026:problem:invalid_token",
        "title": "Unauthorized",
        "status": 401,
        "detail": "the access token is not valid here",
        "error": "invalid_token",
        "message": "the access token is not valid here",
    }


# --- tokens that pass ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "scope"), PATIENT_ROUTES)
def test_a_token_with_the_scope_opens_every_patient_route(
    app: Flask, idp: IssuerServer, method: str, path: str, scope: str
) -> None:
    token = idp.token(aud=BASE, scope=f"openid {scope} profile")
    response = call(app.test_client(), method, path, bearer(token))
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("alg", ["RS256", "RS384", "PS256", "ES256", "ES384"])
def test_each_accepted_algorithm_passes(app: Flask, idp: IssuerServer, alg: str) -> None:
    key = {"ES256": idp.es256, "ES384": idp.es384}.get(alg, idp.rs256)
    token = idp.token(aud=BASE, scope=READ, key=key, alg=alg)
    assert app.test_client().get(EVALUATION, headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "claims",
    [
        {"scp": [READ, "other"]},  # Okta: a list
        {"scp": f"{READ} other"},  # Entra ID: a space-separated string
        {"scope": f"{READ}"},
    ],
    ids=["scp-list", "scp-string", "scope"],
)
def test_scopes_are_read_from_scope_or_scp(
    app: Flask, idp: IssuerServer, claims: dict[str, Any]
) -> None:
    token = idp.token(aud=BASE, claims=claims)
    assert app.test_client().get(EVALUATION, headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("typ", [None, "JWT", "at+jwt", "application/at+jwt"])
def test_access_token_typ_values_pass(app: Flask, idp: IssuerServer, typ: str | None) -> None:
    token = idp.token(aud=BASE, scope=READ, headers={"typ": typ})
    if typ is None:
        header, payload, signature = token.split(".")
        decoded = json.loads(base64.urlsafe_b64decode(header + "=="))
        assert decoded.get("typ") is None
    assert app.test_client().get(EVALUATION, headers=bearer(token)).status_code == 200


def test_an_audience_list_holding_the_service_passes(app: Flask, idp: IssuerServer) -> None:
    token = idp.token(aud=["account", BASE], scope=READ)
    assert app.test_client().get(EVALUATION, headers=bearer(token)).status_code == 200


def test_a_configured_audience_replaces_the_public_base_url(
    make_app: AppFactory, idp: IssuerServer
) -> None:
    client = make_app(API_AUDIENCE="api://nelm-cds").test_client()
    good = idp.token(aud="api://nelm-cds", scope=READ)
    assert client.get(EVALUATION, headers=bearer(good)).status_code == 200
    assert_invalid_token(client.get(EVALUATION, headers=bearer(idp.token(aud=BASE, scope=READ))))


def test_an_access_token_may_be_used_again_until_it_expires(app: Flask, idp: IssuerServer) -> None:
    token = idp.token(aud=BASE, scope=READ)
    client = app.test_client()
    assert [client.get(EVALUATION, headers=bearer(token)).status_code for _ in range(3)] == [
        200
    ] * 3


def test_keys_are_discovered_once_and_cached(make_app: AppFactory) -> None:
    with serving_issuer() as idp:
        client = make_app(API_ISSUERS=json.dumps([idp.issuer])).test_client()
        for _ in range(3):
            token = idp.token(aud=BASE, scope=READ)
            assert client.get(EVALUATION, headers=bearer(token)).status_code == 200
        assert idp.hits == {
            "/realms/hospital/.well-known/openid-configuration": 1,
            "/realms/hospital/protocol/openid-connect/certs": 1,
        }


def test_issuers_can_be_given_with_inline_keys_too(idp: IssuerServer) -> None:
    issuers = {idp.issuer: {"jwks": {"keys": [idp.rs256.public_jwk]}}}
    app = create_app({"TESTING": True, "PUBLIC_BASE_URL": BASE, "API_ISSUERS": issuers})
    token = idp.token(aud=BASE, scope=READ)
    assert app.test_client().get(EVALUATION, headers=bearer(token)).status_code == 200


# --- refused: 401 invalid_token -------------------------------------------------------------


def _public_pem(idp: IssuerServer) -> bytes:
    public: bytes = idp.rs256.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public


def _claims(idp: IssuerServer, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": idp.issuer,
        "sub": "x",
        "aud": BASE,
        "iat": now,
        "exp": now + 300,
        "scope": READ,
        **changes,
    }


FORGERIES: dict[str, Any] = {
    "wrong issuer": lambda idp: idp.token(
        aud=BASE, scope=READ, claims={"iss": "https://evil.example/realms/hospital"}
    ),
    "issuer with a trailing slash": lambda idp: idp.token(
        aud=BASE, scope=READ, claims={"iss": idp.issuer + "/"}
    ),
    "wrong audience": lambda idp: idp.token(aud="https://other-service.example", scope=READ),
    "no audience": lambda idp: idp.token(aud=None, scope=READ),  # type: ignore[arg-type]
    "expired": lambda idp: idp.token(
        aud=BASE, scope=READ, claims={"iat": int(time.time()) - 900, "exp": int(time.time()) - 120}
    ),
    "not yet valid": lambda idp: idp.token(
        aud=BASE, scope=READ, claims={"nbf": int(time.time()) + 600}
    ),
    "issued in the future": lambda idp: idp.token(
        aud=BASE,
        scope=READ,
        claims={"iat": int(time.time()) + 600, "exp": int(time.time()) + 900},
    ),
    "no exp": lambda idp: idp.token(aud=BASE, scope=READ, claims={"exp": None}),
    "no iat": lambda idp: idp.token(aud=BASE, scope=READ, claims={"iat": None}),
    "exp as text": lambda idp: idp.token(aud=BASE, scope=READ, claims={"exp": "tomorrow"}),
    "unsigned (alg none)": lambda idp: forge(
        {"alg": "none", "typ": "JWT", "kid": "rs-1"}, _claims(idp)
    ),
    "alg none, lower case with a signature": lambda idp: (
        forge({"alg": "None", "typ": "JWT", "kid": "rs-1"}, _claims(idp)) + "c2ln"
    ),
    "HS256 keyed with the public key": lambda idp: forge(
        {"alg": "HS256", "typ": "JWT", "kid": "rs-1"}, _claims(idp), hmac_secret=_public_pem(idp)
    ),
    "HS384 keyed with the public key": lambda idp: forge(
        {"alg": "HS384", "typ": "JWT", "kid": "rs-1"}, _claims(idp), hmac_secret=_public_pem(idp)
    ),
    "RS512": lambda idp: idp.token(aud=BASE, scope=READ, alg="RS512"),
    "signed by another key with the same kid": lambda idp: idp.token(
        aud=BASE, scope=READ, key=new_rsa_key("rs-1"), alg="RS256"
    ),
    "signed by an unknown kid": lambda idp: idp.token(
        aud=BASE, scope=READ, key=new_ec_key("attacker"), alg="ES384"
    ),
    "ES256 claimed for a P-384 key": lambda idp: forge(
        {"alg": "ES256", "typ": "JWT", "kid": "es384-1"}, _claims(idp)
    ),
    "jku header pointing elsewhere": lambda idp: idp.token(
        aud=BASE, scope=READ, headers={"jku": "https://evil.example/jwks.json"}
    ),
    "typ of another kind of token": lambda idp: idp.token(
        aud=BASE, scope=READ, headers={"typ": "dpop+jwt"}
    ),
    "no kid": lambda idp: idp.token(aud=BASE, scope=READ, headers={"kid": None}),
    "garbage": lambda idp: "not.a.token",
    "two words": lambda idp: "abc def",
    "too long": lambda idp: "a" * 20_000,
}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_forged_or_misdirected_token_is_refused(app: Flask, idp: IssuerServer, name: str) -> None:
    token = FORGERIES[name](idp)
    response = app.test_client().get(EVALUATION, headers={"Authorization": f"Bearer {token}"})
    assert_invalid_token(response)


def test_a_tampered_payload_is_refused(app: Flask, idp: IssuerServer) -> None:
    header, _, signature = idp.token(aud=BASE, scope="openid").split(".")
    payload = base64.urlsafe_b64encode(json.dumps(_claims(idp)).encode()).rstrip(b"=").decode()
    assert_invalid_token(
        app.test_client().get(EVALUATION, headers=bearer(f"{header}.{payload}.{signature}"))
    )


def test_a_key_whose_jwk_names_one_algorithm_is_not_used_with_another(
    make_app: AppFactory, idp: IssuerServer
) -> None:
    declared = {**idp.rs256.public_jwk, "alg": "RS256"}
    app = make_app(API_ISSUERS={idp.issuer: {"jwks": {"keys": [declared]}}})
    client = app.test_client()
    assert (
        client.get(EVALUATION, headers=bearer(idp.token(aud=BASE, scope=READ))).status_code == 200
    )
    ps256 = idp.token(aud=BASE, scope=READ, alg="PS256")
    assert_invalid_token(client.get(EVALUATION, headers=bearer(ps256)))


# --- refused: no token, not enough scope ----------------------------------------------------


@pytest.mark.parametrize(("method", "path", "scope"), PATIENT_ROUTES)
@pytest.mark.parametrize("authorization", [None, "", "Basic dXNlcjpwYXNz", "Bearer"])
def test_without_a_bearer_token_every_patient_route_answers_401(
    app: Flask, method: str, path: str, scope: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = call(app.test_client(), method, path, headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] in (
        'Bearer realm="nelm-cds"',
        'Bearer realm="nelm-cds", error="invalid_token"',
    )
    # Problem details that say no more than "a token is needed": no reason, no patient.
    assert set(response.get_json()) == {"type", "title", "status", "detail", "error", "message"}


@pytest.mark.parametrize(("method", "path", "scope"), PATIENT_ROUTES)
def test_a_token_without_the_routes_scope_gets_403_insufficient_scope(
    app: Flask, idp: IssuerServer, method: str, path: str, scope: str
) -> None:
    other = WRITE if scope == READ else READ
    token = idp.token(aud=BASE, scope=f"openid {other}")
    response = call(app.test_client(), method, path, bearer(token))
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="nelm-cds", error="insufficient_scope", scope="{scope}"'
    )
    assert response.get_json()["error"] == "insufficient_scope"
    assert response.get_json()["scope"] == scope


def test_a_scope_that_only_looks_alike_is_not_the_scope(app: Flask, idp: IssuerServer) -> None:
    for scope in ("nelm/evaluations.read.all", "nelm/evaluations", "NELM/EVALUATIONS.READ"):
        token = idp.token(aud=BASE, scope=scope)
        assert app.test_client().get(EVALUATION, headers=bearer(token)).status_code == 403


@pytest.mark.parametrize(
    "path", ["/healthz", "/api/criteria-sets", "/fhir/CodeSystem/nelm-assessment"]
)
def test_routes_without_patient_data_stay_open(app: Flask, path: str) -> None:
    assert app.test_client().get(path).status_code == 200


# --- against a FHIR server: nothing is read for a refused call ----------------------------------


@pytest.fixture
def fhir_app(idp: IssuerServer) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "PUBLIC_BASE_URL": BASE,
            "FHIR_BASE_URL": FHIR,
            "FHIR_RETRIES": 0,
            "PAGE_LINK_SECRET": PAGE_LINK_SECRET,
            "AUDIT_HMAC_KEY": AUDIT_HMAC_KEY,
            "API_ISSUERS": json.dumps([idp.issuer]),
        }
    )


@responses.activate
def test_an_unknown_patient_and_a_known_one_answer_alike_without_the_scope(
    fhir_app: Flask, idp: IssuerServer
) -> None:
    responses.add(
        responses.GET, f"{FHIR}/Patient/known", json={"resourceType": "Patient", "id": "known"}
    )
    responses.add(responses.GET, f"{FHIR}/Patient/unknown", status=404)
    client = fhir_app.test_client()
    answers = []
    for headers in ({}, bearer(idp.token(aud=BASE, scope="openid"))):
        for patient in ("known", "unknown"):
            response = client.get(f"/api/patients/{patient}/evaluation", headers=headers)
            answers.append((response.status_code, response.get_json(), dict(response.headers)))
    assert answers[0][:2] == answers[1][:2]
    assert answers[0][0] == 401
    assert answers[2][:2] == answers[3][:2]
    assert answers[2][0] == 403
    assert len(responses.calls) == 0  # nothing was read from the FHIR server


@responses.activate
def test_a_patient_the_fhir_server_forbids_answers_like_an_unknown_one(
    fhir_app: Flask, idp: IssuerServer
) -> None:
    for kind in ("Observation", "Condition", "Procedure"):
        responses.add(
            responses.GET, f"{FHIR}/{kind}", json={"resourceType": "Bundle", "type": "searchset"}
        )
    responses.add(responses.GET, f"{FHIR}/Patient/restricted", status=403)
    responses.add(responses.GET, f"{FHIR}/Patient/absent", status=404)
    client = fhir_app.test_client()
    token = bearer(idp.token(aud=BASE, scope=READ))
    restricted = client.get("/api/patients/restricted/evaluation", headers=token)
    absent = client.get("/api/patients/absent/evaluation", headers=token)
    assert restricted.status_code == absent.status_code == 404
    assert restricted.get_json()["error"] == absent.get_json()["error"] == "not_found"


# --- start-up ---------------------------------------------------------------------------------


def test_a_fhir_server_without_api_issuers_refuses_to_start_naming_the_setting() -> None:
    with pytest.raises(SettingError, match="NELM_CDS_API_ISSUERS") as caught:
        create_app(
            {
                "TESTING": True,
                "FHIR_BASE_URL": FHIR,
                "PAGE_LINK_SECRET": PAGE_LINK_SECRET,
                "AUDIT_HMAC_KEY": AUDIT_HMAC_KEY,
            }
        )
    assert "\n" not in str(caught.value)
    assert "NELM_CDS_API_AUTH=none" in str(caught.value)


def test_api_auth_none_opens_the_api_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    app = create_app(
        {
            "TESTING": True,
            "FHIR_BASE_URL": FHIR,
            "PAGE_LINK_SECRET": PAGE_LINK_SECRET,
            "AUDIT_HMAC_KEY": AUDIT_HMAC_KEY,
            "API_AUTH": "none",
        }
    )
    assert app.extensions["nelm_api_tokens"].required is False
    assert any("NELM_CDS_API_AUTH=none" in r.getMessage() for r in caplog.records)


def test_the_demo_store_without_issuers_is_open() -> None:
    client = create_app({"TESTING": True}).test_client()
    assert client.get(EVALUATION).status_code == 200


def test_issuers_on_the_demo_store_close_it(app: Flask) -> None:
    assert app.test_client().get(EVALUATION).status_code == 401


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("API_AUTH", "off", "NELM_CDS_API_AUTH"),
        ("API_ISSUERS", "{not json", "NELM_CDS_API_ISSUERS"),
        ("API_ISSUERS", {"https://idp.example": {"discovery": "yes"}}, "NELM_CDS_API_ISSUERS"),
        ("API_ISSUERS", ["http://idp.example/realms/x"], "NELM_CDS_API_ISSUERS"),
        (
            "API_ISSUERS",
            {"https://idp.example": {"jku": "https://idp.example/k"}},
            "API_JKU_ALLOWLIST",
        ),
        ("API_CLOCK_SKEW_SECONDS", -1, "NELM_CDS_API_CLOCK_SKEW_SECONDS"),
    ],
)
def test_a_bad_api_setting_is_named(setting: str, value: Any, expected: str) -> None:
    with pytest.raises(SettingError, match=expected):
        create_app({"TESTING": True, setting: value})


def test_the_service_starts_while_the_identity_provider_is_down_and_recovers(
    make_app: AppFactory,
) -> None:
    with serving_issuer() as idp:
        issuer, token = idp.issuer, idp.token(aud=BASE, scope=READ)
        keys = idp.keys
    app = make_app(API_ISSUERS=json.dumps([issuer]), CDS_JWKS_MIN_REFRESH_SECONDS=0)
    assert_invalid_token(app.test_client().get(EVALUATION, headers=bearer(token)))
    assert keys  # the server is gone: the token is refused, the service did not fail


def test_a_discovery_document_naming_another_issuer_is_not_trusted(
    make_app: AppFactory,
) -> None:
    with serving_issuer() as idp:
        idp.discovery = {**idp.document(), "issuer": "https://evil.example"}
        app = make_app(API_ISSUERS=json.dumps([idp.issuer]))
        assert_invalid_token(
            app.test_client().get(EVALUATION, headers=bearer(idp.token(aud=BASE, scope=READ)))
        )


# --- logs ----------------------------------------------------------------------------------------


def test_tokens_never_reach_the_logs(
    app: Flask,
    idp: IssuerServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = [
        idp.token(aud=BASE, scope=READ),
        idp.token(aud=BASE, scope="openid"),
        idp.token(aud="https://elsewhere.example", scope=READ),
        forge({"alg": "none", "typ": "JWT", "kid": "rs-1"}, _claims(idp)),
    ]
    client = app.test_client()
    for token in tokens:
        client.get(EVALUATION, headers=bearer(token))
    logged = caplog.text + "".join(capfd.readouterr())
    for token in tokens:
        for part in token.split("."):
            if len(part) > 8:
                assert part not in logged
    assert jwt.get_unverified_header(tokens[0])["kid"] == "rs-1"
