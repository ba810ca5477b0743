"""Bearer tokens and SMART Backend Services (client_credentials + private_key_jwt)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from service.fhir import (
    BearerToken,
    FhirAuthError,
    FhirClient,
    FhirInvalidResponseError,
    FhirUnavailableError,
    SmartBackendServices,
)
from service.fhir.auth import ASSERTION_TYPE

from .conftest import BASE, pem

Factory = Callable[..., FhirClient]
TOKEN_URL = "https://auth.example.org/oauth2/token"
PATIENT_URL = f"{BASE}/Patient/p1"
PATIENT = {"resourceType": "Patient", "id": "p1"}
SCOPE = "system/Patient.rs system/Observation.rs"


class Clock:
    """A settable clock for token expiry."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def token_answer(token: str = "access-1", expires_in: int = 300) -> dict[str, Any]:
    return {"access_token": token, "token_type": "bearer", "expires_in": expires_in}


def smart(key: Any, **options: Any) -> SmartBackendServices:
    options.setdefault("kid", "key-1")
    options.setdefault("scope", SCOPE)
    options.setdefault("token_url", TOKEN_URL)
    return SmartBackendServices("nelm-cds", key, **options)


def form_of(call: Any) -> dict[str, str]:
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else body
    return {name: values[0] for name, values in parse_qs(text).items()}


def test_a_bearer_token_is_sent_on_every_request(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    rsps.get(PATIENT_URL, json=PATIENT)
    rsps.get(f"{BASE}/metadata", json={"resourceType": "CapabilityStatement"})
    client = make_client(auth=BearerToken("hook-token-123"))
    client.read("Patient", "p1")
    client.capabilities()
    assert [c.request.headers["Authorization"] for c in rsps.calls] == [
        "Bearer hook-token-123",
        "Bearer hook-token-123",
    ]


@pytest.mark.parametrize("token", ["", "two words", "line\nbreak"])
def test_a_bearer_token_with_whitespace_or_empty_is_refused(token: str) -> None:
    with pytest.raises(ValueError, match="bearer token"):
        BearerToken(token)


def test_a_bearer_token_is_hidden_from_repr() -> None:
    assert "s3cr3t" not in repr(BearerToken("s3cr3t"))


def test_the_smart_token_request_has_the_backend_services_shape(
    rsps: responses.RequestsMock, make_client: Factory, rsa_key: rsa.RSAPrivateKey
) -> None:
    clock = Clock()
    rsps.post(TOKEN_URL, json=token_answer("access-1"))
    rsps.get(PATIENT_URL, json=PATIENT)
    make_client(auth=smart(pem(rsa_key), clock=clock)).read("Patient", "p1")

    token_call, fhir_call = rsps.calls
    assert token_call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = form_of(token_call)
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == SCOPE
    assert form["client_assertion_type"] == ASSERTION_TYPE
    assertion = form["client_assertion"]
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == "RS384"
    assert header["kid"] == "key-1"
    assert header["typ"] == "JWT"
    claims = jwt.decode(
        assertion,
        rsa_key.public_key(),
        algorithms=["RS384"],
        audience=TOKEN_URL,
        options={"verify_exp": False},
    )
    assert claims["iss"] == claims["sub"] == "nelm-cds"
    assert claims["aud"] == TOKEN_URL
    assert 0 < claims["exp"] - clock.now <= 300
    assert len(claims["jti"]) >= 32
    assert fhir_call.request.headers["Authorization"] == "Bearer access-1"


def test_es384_assertions_verify_with_the_ec_public_key(
    rsps: responses.RequestsMock, make_client: Factory, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    rsps.post(TOKEN_URL, json=token_answer())
    rsps.get(PATIENT_URL, json=PATIENT)
    make_client(auth=smart(ec_key, alg="ES384")).read("Patient", "p1")
    assertion = form_of(rsps.calls[0])["client_assertion"]
    claims = jwt.decode(assertion, ec_key.public_key(), algorithms=["ES384"], audience=TOKEN_URL)
    assert claims["sub"] == "nelm-cds"
    assert jwt.get_unverified_header(assertion)["alg"] == "ES384"


def test_every_assertion_has_a_fresh_jti(rsa_key: rsa.RSAPrivateKey) -> None:
    auth = smart(rsa_key)
    first, second = auth.client_assertion(TOKEN_URL), auth.client_assertion(TOKEN_URL)
    decode = {"verify_signature": False}
    assert jwt.decode(first, options=decode)["jti"] != jwt.decode(second, options=decode)["jti"]


def test_the_token_is_cached_and_refreshed_sixty_seconds_before_expiry(
    rsps: responses.RequestsMock, make_client: Factory, rsa_key: rsa.RSAPrivateKey
) -> None:
    clock = Clock()
    token = rsps.post(TOKEN_URL, json=token_answer("access-1", expires_in=300))
    rsps.get(PATIENT_URL, json=PATIENT)
    client = make_client(auth=smart(rsa_key, clock=clock))

    client.read("Patient", "p1")
    clock.now += 239  # 61 s before expiry: still cached
    client.read("Patient", "p1")
    assert token.call_count == 1

    rsps.replace(responses.POST, TOKEN_URL, json=token_answer("access-2", expires_in=300))
    clock.now += 2  # 59 s before expiry: refreshed
    client.read("Patient", "p1")
    fhir_calls = [c for c in rsps.calls if c.request.url.startswith(BASE)]
    assert [c.request.headers["Authorization"] for c in fhir_calls] == [
        "Bearer access-1",
        "Bearer access-1",
        "Bearer access-2",
    ]


def test_a_401_drops_the_cached_token_so_the_next_call_gets_a_new_one(
    rsps: responses.RequestsMock, make_client: Factory, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = rsps.post(TOKEN_URL, json=token_answer())
    rsps.get(PATIENT_URL, status=401)
    rsps.get(PATIENT_URL, json=PATIENT)
    client = make_client(auth=smart(rsa_key))
    with pytest.raises(FhirAuthError):
        client.read("Patient", "p1")
    client.read("Patient", "p1")
    assert token.call_count == 2


def test_concurrent_calls_share_one_token_request(
    rsps: responses.RequestsMock, make_client: Factory, rsa_key: rsa.RSAPrivateKey
) -> None:
    def slow_token(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        time.sleep(0.2)
        return 200, {}, '{"access_token": "shared", "token_type": "Bearer", "expires_in": 300}'

    rsps.add_callback(responses.POST, TOKEN_URL, callback=slow_token)
    rsps.get(PATIENT_URL, json=PATIENT)
    client = make_client(auth=smart(rsa_key))
    threads = [threading.Thread(target=client.read, args=("Patient", "p1")) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert sum(1 for c in rsps.calls if c.request.url == TOKEN_URL) == 1
    assert sum(1 for c in rsps.calls if c.request.url == PATIENT_URL) == 4


def test_the_token_endpoint_is_discovered_from_smart_configuration(
    rsps: responses.RequestsMock, make_client: Factory, rsa_key: rsa.RSAPrivateKey
) -> None:
    discovery = rsps.get(
        f"{BASE}/.well-known/smart-configuration",
        json={
            "token_endpoint": TOKEN_URL,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        },
    )
    rsps.post(TOKEN_URL, json=token_answer())
    rsps.get(PATIENT_URL, json=PATIENT)
    client = make_client(auth=smart(rsa_key, token_url=None))
    client.read("Patient", "p1")
    client.read("Patient", "p1")
    assert discovery.call_count == 1
    assertion = form_of(next(c for c in rsps.calls if c.request.url == TOKEN_URL))
    claims = jwt.decode(assertion["client_assertion"], options={"verify_signature": False})
    assert claims["aud"] == TOKEN_URL


def test_a_server_that_does_not_take_our_algorithm_is_an_auth_error(
    rsps: responses.RequestsMock, make_client: Factory, rsa_key: rsa.RSAPrivateKey
) -> None:
    rsps.get(
        f"{BASE}/.well-known/smart-configuration",
        json={
            "token_endpoint": TOKEN_URL,
            "token_endpoint_auth_signing_alg_values_supported": ["ES384"],
        },
    )
    with pytest.raises(FhirAuthError, match="RS384"):
        make_client(auth=smart(rsa_key, token_url=None)).read("Patient", "p1")


def test_a_discovered_token_endpoint_over_plain_http_is_refused(
    rsps: responses.RequestsMock, make_client: Factory, rsa_key: rsa.RSAPrivateKey
) -> None:
    rsps.get(
        f"{BASE}/.well-known/smart-configuration",
        json={"token_endpoint": "http://auth.example.org/token"},
    )
    with pytest.raises(Exception, match="plain http"):
        make_client(auth=smart(rsa_key, token_url=None)).read("Patient", "p1")


@pytest.mark.parametrize("alg", ["HS256", "none", "RS256", "ES256", "PS384", ""])
def test_algorithms_other_than_rs384_and_es384_are_refused_at_construction(
    rsa_key: rsa.RSAPrivateKey, alg: str
) -> None:
    with pytest.raises(ValueError, match="RS384 or ES384"):
        smart(rsa_key, alg=alg)


def test_a_key_that_does_not_fit_the_algorithm_is_refused(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    with pytest.raises(ValueError, match="does not fit ES384"):
        smart(rsa_key, alg="ES384")
    with pytest.raises(ValueError, match="does not fit RS384"):
        smart(ec_key, alg="RS384")
    with pytest.raises(ValueError, match="P-384"):
        smart(ec.generate_private_key(ec.SECP256R1()), alg="ES384")
    with pytest.raises(ValueError, match="PEM"):
        smart("not a key")


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, FhirAuthError), (401, FhirAuthError), (503, FhirUnavailableError)],
)
def test_token_endpoint_failures_map_onto_the_error_tree(
    rsps: responses.RequestsMock,
    make_client: Factory,
    rsa_key: rsa.RSAPrivateKey,
    status: int,
    error: type[Exception],
) -> None:
    rsps.post(TOKEN_URL, status=status, json={"error": "invalid_client"})
    fhir = rsps.get(PATIENT_URL, json=PATIENT)
    with pytest.raises(error):
        make_client(auth=smart(rsa_key)).read("Patient", "p1")
    assert fhir.call_count == 0


@pytest.mark.parametrize(
    "answer",
    [{"token_type": "bearer"}, {"access_token": "x", "token_type": "mac"}, ["not", "an object"]],
)
def test_a_token_answer_without_a_bearer_token_is_invalid(
    rsps: responses.RequestsMock, make_client: Factory, rsa_key: rsa.RSAPrivateKey, answer: Any
) -> None:
    rsps.post(TOKEN_URL, json=answer)
    with pytest.raises(FhirInvalidResponseError):
        make_client(auth=smart(rsa_key)).read("Patient", "p1")


def test_tokens_never_reach_the_logs_or_errors(
    rsps: responses.RequestsMock,
    make_client: Factory,
    rsa_key: rsa.RSAPrivateKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.post(TOKEN_URL, json=token_answer("very-secret-access"))
    rsps.get(PATIENT_URL, status=503)
    auth = smart(rsa_key)
    with pytest.raises(FhirUnavailableError) as caught:
        make_client(auth=auth).read("Patient", "p1")
    assertion = form_of(rsps.calls[0])["client_assertion"]
    shown = caplog.text + str(caught.value) + repr(caught.value) + repr(auth)
    assert "very-secret-access" not in shown
    assert assertion not in shown
    assert "p1" not in caplog.text
