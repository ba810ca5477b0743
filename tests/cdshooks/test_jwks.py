"""JWK Sets at a jku URL, served by a real HTTP server on 127.0.0.1: fetched with a
timeout, cached, fetched again once when the issuer rotates its keys, never followed
through a redirect, and never taken from a URL the token names."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from service.auth.keys import MAX_JWKS_BYTES, RemoteKeys
from service.cdshooks.security import (
    CDS_ALGORITHMS,
    CDS_SECURITY_DEFAULTS,
    CdsTokenError,
    CdsTokenValidator,
)
from tests.cdshooks.jwks_server import JwksServer, serving_jwks
from tests.cdshooks.jwt_factory import SigningKey, jwks, new_ec_key, new_rsa_key, sign

ISS = "https://ehr.example.org"
AUD = "https://cds.example.org/cds-services/nelm-eligibility"


@pytest.fixture(scope="module")
def old_key() -> SigningKey:
    return new_ec_key("2024-key")


@pytest.fixture(scope="module")
def new_key() -> SigningKey:
    return new_rsa_key("2025-key")


@pytest.fixture
def server(old_key: SigningKey) -> Iterator[JwksServer]:
    with serving_jwks() as running:
        running.jwks = jwks(old_key)
        yield running


@pytest.fixture
def make_validator(server: JwksServer) -> Callable[..., CdsTokenValidator]:
    def make(**overrides: Any) -> CdsTokenValidator:
        config = {
            **CDS_SECURITY_DEFAULTS,
            "CDS_ISSUERS": {ISS: {"jku": server.url}},
            "CDS_JKU_ALLOWLIST": f"{server.origin}/",
            "PUBLIC_BASE_URL": "https://cds.example.org",
            **overrides,
        }
        return CdsTokenValidator.from_config(config)

    return make


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_keys_from_a_jku_url_are_fetched_on_first_use_and_cached(
    make_validator: Callable[..., CdsTokenValidator], server: JwksServer, old_key: SigningKey
) -> None:
    validator = make_validator()
    assert server.hits == 0  # nothing fetched at start-up
    for _ in range(3):
        assert validator.validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)
    assert server.hits == 1


def test_a_jku_header_equal_to_the_configured_one_is_accepted(
    make_validator: Callable[..., CdsTokenValidator], server: JwksServer, old_key: SigningKey
) -> None:
    token = sign(old_key, iss=ISS, aud=AUD, headers={"jku": server.url})
    assert make_validator().validate(bearer(token), AUD)


@pytest.mark.parametrize("path", ["/other-jwks.json", "/jwks.json?x=1", "/jwks.json/"])
def test_a_jku_header_pointing_elsewhere_is_refused_without_a_fetch(
    make_validator: Callable[..., CdsTokenValidator],
    server: JwksServer,
    old_key: SigningKey,
    path: str,
) -> None:
    token = sign(old_key, iss=ISS, aud=AUD, headers={"jku": server.origin + path})
    with pytest.raises(CdsTokenError, match="jku"):
        make_validator().validate(bearer(token), AUD)
    assert server.hits == 0


def test_rotated_keys_are_accepted_after_one_fetch(
    make_validator: Callable[..., CdsTokenValidator],
    server: JwksServer,
    old_key: SigningKey,
    new_key: SigningKey,
) -> None:
    validator = make_validator(CDS_JWKS_MIN_REFRESH_SECONDS=0)
    assert validator.validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)
    server.jwks = jwks(new_key)  # the issuer rotates: the old key is gone
    assert validator.validate(bearer(sign(new_key, iss=ISS, aud=AUD)), AUD)
    assert server.hits == 2
    assert validator.validate(bearer(sign(new_key, iss=ISS, aud=AUD)), AUD)
    assert server.hits == 2
    with pytest.raises(CdsTokenError, match="kid"):
        validator.validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)


def test_unknown_kids_fetch_the_set_at_most_once_per_interval(
    make_validator: Callable[..., CdsTokenValidator],
    server: JwksServer,
    old_key: SigningKey,
    new_key: SigningKey,
) -> None:
    validator = make_validator()  # CDS_JWKS_MIN_REFRESH_SECONDS 10
    assert validator.validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)
    server.jwks = jwks(old_key, new_key)
    for kid in ("made-up-1", "made-up-2", "2025-key"):
        token = sign(new_key, iss=ISS, aud=AUD, headers={"kid": kid})
        with pytest.raises(CdsTokenError, match="kid"):
            validator.validate(bearer(token), AUD)
    assert server.hits == 1


def test_the_set_is_fetched_again_when_its_cache_time_is_up(
    make_validator: Callable[..., CdsTokenValidator], server: JwksServer, old_key: SigningKey
) -> None:
    validator = make_validator(CDS_JWKS_CACHE_SECONDS=0.2)
    assert validator.validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)
    time.sleep(0.3)
    assert validator.validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)
    assert server.hits == 2


def test_a_slow_jwks_endpoint_times_out(
    make_validator: Callable[..., CdsTokenValidator], server: JwksServer, old_key: SigningKey
) -> None:
    validator = make_validator(CDS_JWKS_TIMEOUT_SECONDS=0.3)
    server.delay = 10.0
    started = time.monotonic()
    with pytest.raises(CdsTokenError, match="timeout 0.3 s"):
        validator.validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)
    assert time.monotonic() - started < 1.5


def test_a_failed_fetch_is_not_retried_within_the_interval(
    make_validator: Callable[..., CdsTokenValidator], server: JwksServer, old_key: SigningKey
) -> None:
    validator = make_validator()
    server.status = 503
    for _ in range(3):
        with pytest.raises(CdsTokenError, match="JWK Set"):
            validator.validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)
    assert server.hits == 1


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ({"status": 500}, "HTTP 500"),
        ({"status": 404}, "HTTP 404"),
        ({"status": 204, "body": b""}, "HTTP 204"),
        ({"body": b"<html>keys</html>"}, "not JSON"),
        ({"body": b'{"keys": {}}'}, "'keys' list"),
        ({"body": b"[]"}, "'keys' list"),
        ({"body": b" " * (MAX_JWKS_BYTES + 1)}, "larger than"),
    ],
)
def test_a_broken_jwks_endpoint_refuses_the_token(
    make_validator: Callable[..., CdsTokenValidator],
    server: JwksServer,
    old_key: SigningKey,
    setup: dict[str, Any],
    reason: str,
) -> None:
    for name, value in setup.items():
        setattr(server, name, value)
    with pytest.raises(CdsTokenError, match=reason):
        make_validator().validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)


def test_a_redirect_is_not_followed(
    make_validator: Callable[..., CdsTokenValidator], server: JwksServer, old_key: SigningKey
) -> None:
    server.redirect_to = f"{server.origin}/moved.json"  # would serve the same keys
    with pytest.raises(CdsTokenError, match="HTTP 302"):
        make_validator().validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)
    assert server.paths == ["/jwks.json"]


def test_an_outage_met_by_a_made_up_kid_keeps_the_keys_held(
    make_validator: Callable[..., CdsTokenValidator], server: JwksServer, old_key: SigningKey
) -> None:
    validator = make_validator(CDS_JWKS_MIN_REFRESH_SECONDS=0)
    assert validator.validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)
    server.status = 500
    made_up = sign(old_key, iss=ISS, aud=AUD, headers={"kid": "made-up"})
    with pytest.raises(CdsTokenError, match="HTTP 500"):
        validator.validate(bearer(made_up), AUD)
    assert validator.validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)


def test_keys_past_their_cache_time_are_not_used_when_the_endpoint_is_down(
    make_validator: Callable[..., CdsTokenValidator], server: JwksServer, old_key: SigningKey
) -> None:
    validator = make_validator(CDS_JWKS_CACHE_SECONDS=0.2)
    assert validator.validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)
    server.status = 500
    time.sleep(0.3)
    with pytest.raises(CdsTokenError, match="HTTP 500"):
        validator.validate(bearer(sign(old_key, iss=ISS, aud=AUD)), AUD)


def test_keys_of_other_algorithms_in_a_remote_set_are_ignored(server: JwksServer) -> None:
    rs = new_rsa_key("k")
    server.jwks = {
        "keys": [
            {**rs.public_jwk, "alg": "RS256"},
            {"kty": "oct", "kid": "k", "k": "c2VjcmV0"},
            "not a key",
            {**new_ec_key("e").public_jwk, "kid": 5},
        ]
    }
    keys = RemoteKeys(server.url, algorithms=CDS_ALGORITHMS, timeout=1, cache_seconds=60)
    with pytest.raises(CdsTokenError, match="no RS384 key with kid 'k'"):
        keys.key("k", "RS384")
    server.jwks = {"keys": [{k: v for k, v in rs.public_jwk.items() if k != "alg"}]}
    keys = RemoteKeys(server.url, algorithms=CDS_ALGORITHMS, timeout=1, cache_seconds=60)
    assert keys.key("k", "RS384").algorithm_name == "RS384"
    assert json.loads(json.dumps(server.jwks))  # served as JSON
