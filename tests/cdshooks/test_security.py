"""The CDS Hooks JWT check: real ES384/RS384 tokens pass; every way a token can be wrong
is refused with CdsTokenError, whose message never holds the token."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask, abort, current_app, request

from service.cdshooks.security import (
    CDS_SECURITY_DEFAULTS,
    CdsTokenError,
    CdsTokenValidator,
    public_base_url,
)
from service.settings import SettingError
from tests.cdshooks.jwt_factory import (
    SigningKey,
    claims,
    forge,
    jwks,
    new_ec256_key,
    new_ec_key,
    new_rsa_key,
    sign,
)

ISS = "https://ehr.example.org"
BASE = "https://cds.example.org"
AUD = f"{BASE}/cds-services/nelm-eligibility"
DISCOVERY = f"{BASE}/cds-services"


@pytest.fixture(scope="module")
def ec_key() -> SigningKey:
    return new_ec_key("ec-1")


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    return new_rsa_key("rsa-1")


@pytest.fixture(scope="module")
def make_config(ec_key: SigningKey, rsa_key: SigningKey) -> Callable[..., dict[str, Any]]:
    def make(**overrides: Any) -> dict[str, Any]:
        issuers = {ISS: {"jwks": jwks(ec_key, rsa_key)}}
        return {
            **CDS_SECURITY_DEFAULTS,
            "CDS_ISSUERS": json.dumps(issuers),
            "PUBLIC_BASE_URL": f"{BASE}/",
            **overrides,
        }

    return make


@pytest.fixture
def validator(make_config: Callable[..., dict[str, Any]]) -> Iterator[CdsTokenValidator]:
    built = CdsTokenValidator.from_config(make_config())
    yield built
    built.close()


def bearer(token: str) -> str:
    return f"Bearer {token}"


def refused(validator: CdsTokenValidator, authorization: str | None, audience: str = AUD) -> str:
    """Assert the header is refused; return the message, checked to hold no token part."""
    with pytest.raises(CdsTokenError) as caught:
        validator.validate(authorization, audience=audience)
    message = str(caught.value)
    for part in (authorization or "").replace(" ", ".").split("."):
        if len(part) >= 16:
            assert part not in message
    return message


# --- tokens that pass --------------------------------------------------------------------


def test_a_valid_es384_token_passes(validator: CdsTokenValidator, ec_key: SigningKey) -> None:
    token = sign(ec_key, iss=ISS, aud=AUD)
    verified = validator.validate(bearer(token), audience=AUD)
    assert verified["iss"] == ISS
    assert verified["aud"] == AUD


def test_a_valid_rs384_token_passes(validator: CdsTokenValidator, rsa_key: SigningKey) -> None:
    token = sign(rsa_key, iss=ISS, aud=AUD)
    assert validator.validate(bearer(token), audience=AUD)["sub"] == "cds-client"


def test_an_audience_list_holding_the_endpoint_passes(
    validator: CdsTokenValidator, ec_key: SigningKey
) -> None:
    token = sign(ec_key, iss=ISS, aud=["https://other.example/x", AUD])
    assert validator.validate(bearer(token), audience=AUD)["iss"] == ISS


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_bearer_scheme_is_case_insensitive(
    validator: CdsTokenValidator, ec_key: SigningKey, scheme: str
) -> None:
    token = sign(ec_key, iss=ISS, aud=AUD)
    assert validator.validate(f"{scheme} {token}", audience=AUD)["iss"] == ISS


def test_typ_jwt_is_case_insensitive(validator: CdsTokenValidator, ec_key: SigningKey) -> None:
    token = sign(ec_key, iss=ISS, aud=AUD, headers={"typ": "jwt"})
    assert validator.validate(bearer(token), audience=AUD)["iss"] == ISS


def test_the_discovery_endpoint_is_an_audience_like_any_other(
    validator: CdsTokenValidator, ec_key: SigningKey
) -> None:
    token = sign(ec_key, iss=ISS, aud=DISCOVERY)
    assert validator.validate(bearer(token), audience=DISCOVERY)["aud"] == DISCOVERY


# --- the Authorization header -----------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "", "   "])
def test_no_authorization_header_is_refused(
    validator: CdsTokenValidator, authorization: str | None
) -> None:
    refused(validator, authorization)


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT", "Bearer:", "Bearertoken"])
def test_a_scheme_other_than_bearer_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey, scheme: str
) -> None:
    refused(validator, f"{scheme} {sign(ec_key, iss=ISS, aud=AUD)}")


def test_a_token_without_a_scheme_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey
) -> None:
    refused(validator, sign(ec_key, iss=ISS, aud=AUD))


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "..",
        "eyJhbGciOiJFUzM4NCJ9.e30",  # two segments
        "not-base64!.not-base64!.x",
        "W10.e30.c2ln",  # header is a JSON list
        "e30.W10.c2ln",  # header has no alg
        "Bearer two words",
        "x" * 20_000,
    ],
)
def test_a_garbage_token_is_refused(validator: CdsTokenValidator, token: str) -> None:
    refused(validator, bearer(token))


# --- the algorithm, before any key is looked up ----------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(validator: CdsTokenValidator, alg: str) -> None:
    token = forge({"alg": alg, "typ": "JWT", "kid": "ec-1"}, claims(iss=ISS, aud=AUD))
    assert "alg" in refused(validator, bearer(token))


@pytest.mark.parametrize("alg", ["HS256", "HS384"])
def test_an_hmac_signed_with_the_public_key_is_refused(
    validator: CdsTokenValidator, rsa_key: SigningKey, alg: str
) -> None:
    """The key-confusion attack: MAC the token with the RSA public key's PEM as secret."""
    pem = rsa_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": alg, "typ": "JWT", "kid": "rsa-1"}
    token = forge(header, claims(iss=ISS, aud=AUD), hmac_secret=pem)
    assert "alg" in refused(validator, bearer(token))


def test_rs256_is_refused(validator: CdsTokenValidator, rsa_key: SigningKey) -> None:
    token = sign(rsa_key, iss=ISS, aud=AUD, headers={"alg": "RS256"})
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert "alg" in refused(validator, bearer(token))


def test_es256_is_refused(make_config: Callable[..., dict[str, Any]]) -> None:
    es256 = new_ec256_key("ec256-1")
    config = make_config(CDS_ISSUERS={ISS: {"jwks": jwks(new_ec_key("ec-9"), es256)}})
    token = sign(es256, iss=ISS, aud=AUD)
    assert "alg" in refused(CdsTokenValidator.from_config(config), bearer(token))


@pytest.mark.parametrize(
    "alg", ["PS256", "PS384", "RS512", "ES512", "EdDSA", "HS512", "", None, 384, ["ES384"]]
)
def test_any_other_alg_is_refused(validator: CdsTokenValidator, alg: object) -> None:
    token = forge({"alg": alg, "typ": "JWT", "kid": "ec-1"}, claims(iss=ISS, aud=AUD))
    assert "alg" in refused(validator, bearer(token))


def test_a_ps384_signature_by_a_trusted_rsa_key_is_refused(
    validator: CdsTokenValidator, rsa_key: SigningKey
) -> None:
    token = sign(rsa_key, iss=ISS, aud=AUD, headers={"alg": "PS384"})
    assert "alg" in refused(validator, bearer(token))


def test_a_missing_alg_is_refused(validator: CdsTokenValidator) -> None:
    token = forge({"typ": "JWT", "kid": "ec-1"}, claims(iss=ISS, aud=AUD))
    assert "alg" in refused(validator, bearer(token))


# --- kid and typ -------------------------------------------------------------------------


def test_a_token_without_kid_is_refused(validator: CdsTokenValidator, ec_key: SigningKey) -> None:
    token = jwt.encode(claims(iss=ISS, aud=AUD), ec_key.private_key, algorithm="ES384")
    assert "kid" not in jwt.get_unverified_header(token)
    assert "kid" in refused(validator, bearer(token))


def test_an_empty_kid_is_refused(validator: CdsTokenValidator, ec_key: SigningKey) -> None:
    refused(validator, bearer(sign(ec_key, iss=ISS, aud=AUD, headers={"kid": ""})))


def test_an_unknown_kid_is_refused(validator: CdsTokenValidator, ec_key: SigningKey) -> None:
    token = sign(ec_key, iss=ISS, aud=AUD, headers={"kid": "ec-404"})
    assert "kid" in refused(validator, bearer(token))


def test_a_kid_of_a_key_of_the_other_type_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey
) -> None:
    """An ES384 token naming the RSA key's kid: no EC key has that kid."""
    refused(validator, bearer(sign(ec_key, iss=ISS, aud=AUD, headers={"kid": "rsa-1"})))


@pytest.mark.parametrize("typ", ["at+jwt", "JWS", "application/jwt", "", 1])
def test_a_typ_other_than_jwt_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey, typ: object
) -> None:
    token = forge(
        {"alg": "ES384", "typ": typ, "kid": "ec-1"}, claims(iss=ISS, aud=AUD)
    )  # the signature does not matter: typ is checked before it
    assert "typ" in refused(validator, bearer(token))
    if isinstance(typ, str) and typ:
        signed = sign(ec_key, iss=ISS, aud=AUD, headers={"typ": typ})
        assert "typ" in refused(validator, bearer(signed))


def test_a_token_without_typ_is_refused(validator: CdsTokenValidator, ec_key: SigningKey) -> None:
    """CDS Hooks 2.0 marks the typ header REQUIRED (fixed value JWT)."""
    token = sign(ec_key, iss=ISS, aud=AUD, headers={"typ": None})
    assert "typ" not in jwt.get_unverified_header(token)
    assert "typ" in refused(validator, bearer(token))


# --- issuer and signature ----------------------------------------------------------------


@pytest.mark.parametrize("iss", ["https://evil.example", "https://ehr.example.org/", ""])
def test_an_issuer_not_on_the_allowlist_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey, iss: str
) -> None:
    assert "iss" in refused(validator, bearer(sign(ec_key, iss=iss, aud=AUD)))


@pytest.mark.parametrize("iss", [None, 5, [ISS]])
def test_an_issuer_that_is_not_a_string_is_refused(
    validator: CdsTokenValidator, iss: object
) -> None:
    """Built by hand (PyJWT will not sign such a token); refused before the signature."""
    payload = claims(iss=ISS, aud=AUD) | {"iss": iss}
    token = forge({"alg": "ES384", "typ": "JWT", "kid": "ec-1"}, payload)
    assert "iss" in refused(validator, bearer(token))


def test_a_signature_by_another_key_with_the_same_kid_is_refused(
    validator: CdsTokenValidator,
) -> None:
    for impostor in (new_ec_key("ec-1"), new_rsa_key("rsa-1")):
        assert "signature does not verify" in refused(
            validator, bearer(sign(impostor, iss=ISS, aud=AUD))
        )


def test_a_tampered_payload_is_refused(validator: CdsTokenValidator, ec_key: SigningKey) -> None:
    header, _, signature = sign(ec_key, iss=ISS, aud=AUD).split(".")
    other = sign(ec_key, iss=ISS, aud=AUD, claims={"sub": "admin"}).split(".")[1]
    refused(validator, bearer(f"{header}.{other}.{signature}"))


def test_a_token_of_a_trusted_issuer_signed_by_a_key_it_does_not_list_is_refused(
    validator: CdsTokenValidator,
) -> None:
    refused(validator, bearer(sign(new_ec_key("ec-2"), iss=ISS, aud=AUD)))


# --- audience ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "aud",
    [
        DISCOVERY,  # a token for another endpoint of the same service
        "https://cds.example.org/cds-services/nelm-eligibility/",
        "http://cds.example.org/cds-services/nelm-eligibility",
        "https://other.example/cds-services/nelm-eligibility",
        ["https://other.example/a", DISCOVERY],
        "",
        [],
    ],
)
def test_a_wrong_audience_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey, aud: str | list[str]
) -> None:
    refused(validator, bearer(sign(ec_key, iss=ISS, aud=aud)))


def _app_with(validator: CdsTokenValidator, config: dict[str, Any]) -> Flask:
    """A minimal app making the call the CDS Hooks routes make."""
    app = Flask(__name__)
    app.config.from_mapping(config)
    app.extensions["nelm_cds_tokens"] = validator

    @app.get("/cds-services")
    def discovery() -> dict[str, Any]:
        audience = public_base_url(current_app.config) + request.path
        try:
            current_app.extensions["nelm_cds_tokens"].validate(
                request.headers.get("Authorization"), audience=audience
            )
        except CdsTokenError:
            abort(401)
        return {"services": []}

    return app


def test_an_audience_built_from_the_host_header_is_refused(
    make_config: Callable[..., dict[str, Any]], ec_key: SigningKey
) -> None:
    config = make_config()
    client = _app_with(CdsTokenValidator.from_config(config), config).test_client()
    forged_host = sign(ec_key, iss=ISS, aud="http://attacker.example/cds-services")
    answer = client.get(
        "/cds-services", headers={"Host": "attacker.example", "Authorization": bearer(forged_host)}
    )
    assert answer.status_code == 401
    right = sign(ec_key, iss=ISS, aud=DISCOVERY)
    answer = client.get(
        "/cds-services", headers={"Host": "attacker.example", "Authorization": bearer(right)}
    )
    assert answer.status_code == 200


# --- times -------------------------------------------------------------------------------


def test_an_expired_token_is_refused(validator: CdsTokenValidator, ec_key: SigningKey) -> None:
    token = sign(ec_key, iss=ISS, aud=AUD, iat=int(time.time()) - 400, lifetime=300)
    assert "expired" in refused(validator, bearer(token))


def test_a_token_issued_in_the_future_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey
) -> None:
    token = sign(ec_key, iss=ISS, aud=AUD, iat=int(time.time()) + 120)
    assert "iat" in refused(validator, bearer(token))


def test_a_token_not_yet_valid_is_refused(validator: CdsTokenValidator, ec_key: SigningKey) -> None:
    token = sign(ec_key, iss=ISS, aud=AUD, claims={"nbf": int(time.time()) + 120})
    assert "nbf" in refused(validator, bearer(token))


def test_a_token_living_longer_than_the_maximum_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey
) -> None:
    assert "lifetime" in refused(validator, bearer(sign(ec_key, iss=ISS, aud=AUD, lifetime=301)))
    assert validator.validate(bearer(sign(ec_key, iss=ISS, aud=AUD, lifetime=300)), AUD)


def test_the_maximum_lifetime_is_configurable(
    make_config: Callable[..., dict[str, Any]], ec_key: SigningKey
) -> None:
    strict = CdsTokenValidator.from_config(make_config(CDS_MAX_TOKEN_LIFETIME_SECONDS=60))
    refused(strict, bearer(sign(ec_key, iss=ISS, aud=AUD, lifetime=61)))
    assert strict.validate(bearer(sign(ec_key, iss=ISS, aud=AUD, lifetime=60)), AUD)


def test_a_token_expiring_before_it_was_issued_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey
) -> None:
    now = int(time.time())
    token = sign(ec_key, iss=ISS, aud=AUD, claims={"iat": now, "exp": now - 10})
    refused(validator, bearer(token))


@pytest.mark.parametrize("claim", ["exp", "iat", "jti", "iss", "aud"])
def test_a_token_missing_a_required_claim_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey, claim: str
) -> None:
    refused(validator, bearer(sign(ec_key, iss=ISS, aud=AUD, omit=(claim,))))


@pytest.mark.parametrize("claim", ["exp", "iat"])
@pytest.mark.parametrize("value", ["9999999999", True, None, [1], float("inf")])
def test_a_time_claim_that_is_not_a_number_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey, claim: str, value: object
) -> None:
    refused(validator, bearer(sign(ec_key, iss=ISS, aud=AUD, claims={claim: value})))


@pytest.mark.parametrize("jti", ["", 7, None, "x" * 2000])
def test_a_jti_that_is_not_a_usable_string_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey, jti: object
) -> None:
    refused(validator, bearer(sign(ec_key, iss=ISS, aud=AUD, claims={"jti": jti})))


class FixedClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("skew", [0, 60])
def test_the_clock_skew_is_honoured_to_the_second(
    make_config: Callable[..., dict[str, Any]], ec_key: SigningKey, skew: int
) -> None:
    issued = 1_700_000_000
    clock = FixedClock(issued)
    checker = CdsTokenValidator.from_config(make_config(CDS_CLOCK_SKEW_SECONDS=skew), clock=clock)

    def token(iat: int = issued) -> str:
        return bearer(sign(ec_key, iss=ISS, aud=AUD, iat=iat, lifetime=300))

    expiry = issued + 300
    clock.now = expiry + skew - 1  # the last second the token is good
    assert checker.validate(token(), AUD)
    clock.now = expiry + skew
    assert "expired" in refused(checker, token())

    clock.now = issued
    assert checker.validate(token(iat=issued + skew), AUD)  # issued "skew" seconds ahead
    assert "iat" in refused(checker, token(iat=issued + skew + 1))


# --- replay ------------------------------------------------------------------------------


def test_a_replayed_token_is_refused(validator: CdsTokenValidator, ec_key: SigningKey) -> None:
    token = bearer(sign(ec_key, iss=ISS, aud=AUD))
    assert validator.validate(token, AUD)
    assert "jti" in refused(validator, token)


def test_a_jti_reused_in_a_new_token_is_refused(
    validator: CdsTokenValidator, ec_key: SigningKey
) -> None:
    now = int(time.time())
    assert validator.validate(bearer(sign(ec_key, iss=ISS, aud=AUD, jti="n-1", iat=now)), AUD)
    again = sign(ec_key, iss=ISS, aud=DISCOVERY, jti="n-1", iat=now - 1)
    assert "jti" in refused(validator, bearer(again), audience=DISCOVERY)


def test_a_refused_token_uses_up_no_jti(validator: CdsTokenValidator, ec_key: SigningKey) -> None:
    refused(validator, bearer(sign(ec_key, iss=ISS, aud=DISCOVERY, jti="n-2")))
    assert validator.validate(bearer(sign(ec_key, iss=ISS, aud=AUD, jti="n-2")), AUD)


def test_the_same_jti_from_two_issuers_is_no_replay(
    make_config: Callable[..., dict[str, Any]], ec_key: SigningKey
) -> None:
    other = "https://other-ehr.example.org"
    issuers = {ISS: {"jwks": jwks(ec_key)}, other: {"jwks": jwks(ec_key)}}
    checker = CdsTokenValidator.from_config(make_config(CDS_ISSUERS=issuers))
    assert checker.validate(bearer(sign(ec_key, iss=ISS, aud=AUD, jti="same")), AUD)
    assert checker.validate(bearer(sign(ec_key, iss=other, aud=AUD, jti="same")), AUD)


def test_jti_may_be_absent_when_not_required(
    make_config: Callable[..., dict[str, Any]], ec_key: SigningKey
) -> None:
    lenient = CdsTokenValidator.from_config(make_config(CDS_REQUIRE_JTI=False))
    token = bearer(sign(ec_key, iss=ISS, aud=AUD, omit=("jti",)))
    assert lenient.validate(token, AUD)
    assert lenient.validate(token, AUD)  # nothing to replay-check without a jti
    with_jti = bearer(sign(ec_key, iss=ISS, aud=AUD))
    assert lenient.validate(with_jti, AUD)
    refused(lenient, with_jti)  # a jti that is there is still checked


# --- jku ---------------------------------------------------------------------------------


def test_an_allowlisted_jku_header_is_accepted_for_an_issuer_with_configured_keys(
    make_config: Callable[..., dict[str, Any]], ec_key: SigningKey
) -> None:
    # CDS clients such as the public sandbox always send a jku; with configured keys it
    # is never fetched, and the configured key still has to verify the signature.
    checker = CdsTokenValidator.from_config(
        make_config(CDS_JKU_ALLOWLIST="https://sandbox.example/.well-known/")
    )
    jku = "https://sandbox.example/.well-known/jwks.json"
    token = sign(ec_key, iss=ISS, aud=AUD, headers={"jku": jku})
    assert checker.validate(bearer(token), AUD)["iss"] == ISS


@pytest.mark.parametrize(
    "jku",
    [
        "https://evil.example/jwks.json",
        "https://sandbox.example/other/jwks.json",
        "http://sandbox.example/.well-known/jwks.json",
        42,
        "",
    ],
)
def test_a_jku_header_off_the_allowlist_is_refused_even_with_configured_keys(
    make_config: Callable[..., dict[str, Any]], ec_key: SigningKey, jku: object
) -> None:
    checker = CdsTokenValidator.from_config(
        make_config(CDS_JKU_ALLOWLIST="https://sandbox.example/.well-known/")
    )
    token = sign(ec_key, iss=ISS, aud=AUD, headers={"jku": jku})
    assert "jku" in refused(checker, bearer(token))


def test_a_jku_header_does_not_bring_in_the_attackers_key(
    validator: CdsTokenValidator, ec_key: SigningKey
) -> None:
    attacker = new_ec_key(ec_key.kid)  # same kid, another key, "published" at the jku
    token = sign(attacker, iss=ISS, aud=AUD, headers={"jku": "https://evil.example/jwks.json"})
    refused(validator, bearer(token))


# --- logs --------------------------------------------------------------------------------


def test_tokens_never_reach_the_log(
    validator: CdsTokenValidator, ec_key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = [
        sign(ec_key, iss=ISS, aud=AUD),
        sign(ec_key, iss=ISS, aud=DISCOVERY),
        sign(ec_key, iss="https://evil.example", aud=AUD),
        forge({"alg": "none", "typ": "JWT", "kid": "ec-1"}, claims(iss=ISS, aud=AUD)),
    ]
    for token in tokens:
        try:
            validator.validate(bearer(token), audience=AUD)
        except CdsTokenError as error:
            logging.getLogger("service.cdshooks").info("refused: %s", error)
    for token in tokens:
        for part in token.split("."):
            if part:
                assert part not in caplog.text


# --- configuration -----------------------------------------------------------------------


def test_the_defaults_build_a_validator_that_trusts_no_one(ec_key: SigningKey) -> None:
    checker = CdsTokenValidator.from_config(CDS_SECURITY_DEFAULTS)
    assert "iss" in refused(checker, bearer(sign(ec_key, iss=ISS, aud=AUD)))


def test_a_jwks_file_is_read_at_start_up(
    make_config: Callable[..., dict[str, Any]], rsa_key: SigningKey, tmp_path: Path
) -> None:
    path = tmp_path / "ehr-jwks.json"
    path.write_text(json.dumps(jwks(rsa_key)), encoding="utf-8")
    checker = CdsTokenValidator.from_config(
        make_config(CDS_ISSUERS={ISS: {"jwks_file": str(path)}})
    )
    path.unlink()
    assert checker.validate(bearer(sign(rsa_key, iss=ISS, aud=AUD)), AUD)


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, ec_key: SigningKey
) -> None:
    monkeypatch.setenv("NELM_CDS_CDS_ISSUERS", json.dumps({ISS: {"jwks": jwks(ec_key)}}))
    monkeypatch.setenv("NELM_CDS_PUBLIC_BASE_URL", f"{BASE}/")
    monkeypatch.setenv("NELM_CDS_CDS_REQUIRE_JTI", "false")
    monkeypatch.setenv("NELM_CDS_CDS_CLOCK_SKEW_SECONDS", "5")
    app = Flask(__name__)
    app.config.from_mapping(CDS_SECURITY_DEFAULTS)
    app.config.from_prefixed_env("NELM_CDS")
    checker = CdsTokenValidator.from_config(app.config)
    assert public_base_url(app.config) == BASE
    assert checker.clock_skew == 5
    assert checker.validate(bearer(sign(ec_key, iss=ISS, aud=AUD, omit=("jti",))), AUD)


ISSUER_ERRORS: list[tuple[object, str]] = [
    ("{not json", "not valid JSON"),
    ('["a list"]', "JSON object"),
    ({ISS: {}}, "exactly one"),
    ({ISS: {"jwks": {"keys": []}, "jku": "https://ehr.example.org/jwks"}}, "exactly one"),
    ({ISS: {"jwk": {}}}, "exactly one"),
    ({ISS: "https://ehr.example.org/jwks"}, "exactly one"),
    ({"": {"jwks": {"keys": []}}}, "non-empty"),
    ({ISS: {"jwks": []}}, "'keys' list"),
    ({ISS: {"jwks": {"keys": []}}}, "no usable key"),
    ({ISS: {"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}}}, "no usable key"),
    ({ISS: {"jwks_file": "/nonexistent/jwks.json"}}, "cannot read"),
    ({ISS: {"jku": 42}}, "jku must be a URL"),
]


@pytest.mark.parametrize(("issuers", "expected"), ISSUER_ERRORS)
def test_a_bad_issuer_table_names_the_setting(
    make_config: Callable[..., dict[str, Any]], issuers: object, expected: str
) -> None:
    with pytest.raises(SettingError, match="NELM_CDS_CDS_ISSUERS") as caught:
        CdsTokenValidator.from_config(make_config(CDS_ISSUERS=issuers))
    assert expected in str(caught.value)


def test_issuer_keys_of_the_wrong_kind_are_not_trusted(
    make_config: Callable[..., dict[str, Any]],
) -> None:
    es256 = new_ec256_key("a")
    small_rsa = {"kty": "RSA", "kid": "b", "n": "sXch", "e": "AQAB"}
    wrong_use = {**new_ec_key("c").public_jwk, "use": "enc"}
    hs_alg = {**new_rsa_key("d").public_jwk, "alg": "HS256"}
    with pytest.raises(SettingError, match="no usable key"):
        CdsTokenValidator.from_config(
            make_config(
                CDS_ISSUERS={
                    ISS: {"jwks": {"keys": [es256.public_jwk, small_rsa, wrong_use, hs_alg]}}
                }
            )
        )


def test_a_private_key_in_the_config_is_not_used(
    make_config: Callable[..., dict[str, Any]],
) -> None:
    from jwt.algorithms import ECAlgorithm

    key = new_ec_key("p")
    private = {**ECAlgorithm.to_jwk(key.private_key, as_dict=True), "kid": "p"}
    with pytest.raises(SettingError, match="no usable key"):
        CdsTokenValidator.from_config(make_config(CDS_ISSUERS={ISS: {"jwks": {"keys": [private]}}}))


def test_a_jku_outside_the_allowlist_fails_at_start_up(
    make_config: Callable[..., dict[str, Any]],
) -> None:
    issuers = {ISS: {"jku": "https://ehr.example.org/jwks.json"}}
    for allowlist in (None, "https://other.example/", "https://ehr.example.org/keys/"):
        with pytest.raises(SettingError, match="NELM_CDS_CDS_JKU_ALLOWLIST"):
            CdsTokenValidator.from_config(
                make_config(CDS_ISSUERS=issuers, CDS_JKU_ALLOWLIST=allowlist)
            )
    http = {ISS: {"jku": "http://ehr.example.org/jwks.json"}}
    with pytest.raises(SettingError, match="plain http"):
        CdsTokenValidator.from_config(
            make_config(CDS_ISSUERS=http, CDS_JKU_ALLOWLIST="http://ehr.example.org/")
        )


def test_a_jku_under_the_allowlist_is_accepted_at_start_up(
    make_config: Callable[..., dict[str, Any]],
) -> None:
    issuers = {ISS: {"jku": "https://ehr.example.org/keys/jwks.json"}}
    checker = CdsTokenValidator.from_config(
        make_config(
            CDS_ISSUERS=issuers, CDS_JKU_ALLOWLIST="https://x.example, https://ehr.example.org/keys"
        )
    )
    assert checker.issuers[ISS].jku == "https://ehr.example.org/keys/jwks.json"


SETTING_ERRORS: list[tuple[str, object]] = [
    ("CDS_JKU_ALLOWLIST", "ftp://ehr.example.org/"),
    ("CDS_CLOCK_SKEW_SECONDS", -1),
    ("CDS_CLOCK_SKEW_SECONDS", "a minute"),
    ("CDS_CLOCK_SKEW_SECONDS", True),
    ("CDS_MAX_TOKEN_LIFETIME_SECONDS", 0),
    ("CDS_MAX_TOKEN_LIFETIME_SECONDS", "5.5"),
    ("CDS_JWKS_TIMEOUT_SECONDS", 0),
    ("CDS_JWKS_TIMEOUT_SECONDS", "nan"),
    ("CDS_JWKS_CACHE_SECONDS", "soon"),
    ("CDS_JWKS_MIN_REFRESH_SECONDS", -5),
    ("CDS_REQUIRE_JTI", "maybe"),
    ("PUBLIC_BASE_URL", "ftp://cds.example.org"),
    ("PUBLIC_BASE_URL", "cds.example.org"),
    ("PUBLIC_BASE_URL", "https://cds.example.org/?x=1"),
    ("PUBLIC_BASE_URL", "https://user@cds.example.org"),
    ("PUBLIC_BASE_URL", "https://cds.example.org:99999"),
    ("PUBLIC_BASE_URL", 8080),
    ("REDIS_URL", "http://127.0.0.1:6379"),
    ("REDIS_URL", 6379),
]


@pytest.mark.parametrize(("name", "value"), SETTING_ERRORS)
def test_a_bad_setting_is_named(
    make_config: Callable[..., dict[str, Any]], name: str, value: object
) -> None:
    with pytest.raises(SettingError, match=f"NELM_CDS_{name}"):
        CdsTokenValidator.from_config(make_config(**{name: value}))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "http://127.0.0.1:8080"),
        ("", "http://127.0.0.1:8080"),
        ("https://cds.example.org/", "https://cds.example.org"),
        ("https://cds.example.org/nelm//", "https://cds.example.org/nelm"),
        (" http://localhost:5000 ", "http://localhost:5000"),
    ],
)
def test_the_public_base_url_loses_its_trailing_slash(value: str | None, expected: str) -> None:
    assert public_base_url({"PUBLIC_BASE_URL": value}) == expected


def test_the_public_base_url_has_a_default() -> None:
    assert public_base_url({}) == "http://127.0.0.1:8080"
