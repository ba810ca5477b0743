"""The client's JWTs carry what CDS Hooks 2.0 asks for, and the service accepts them."""

from __future__ import annotations

import jwt
import pytest

from service.cdsclient.signing import ClientKey, sign_call
from tests.cdshooks.jwt_factory import new_ec_key, new_rsa_key

URL = "http://127.0.0.1:8080/cds-services/nelm-eligibility"


def _key(alg: str) -> ClientKey:
    made = new_ec_key("k1") if alg == "ES384" else new_rsa_key("k1")
    return ClientKey("https://client.example", "k1", made.private_key, jku=None)


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
def test_the_token_names_the_exact_url_and_lives_briefly(alg: str) -> None:
    key = _key(alg)
    token = sign_call(key, URL, now=1_800_000_000)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header == {"alg": alg, "typ": "JWT", "kid": "k1"}
    assert claims["aud"] == URL
    assert claims["iss"] == claims["sub"] == "https://client.example"
    assert claims["iat"] == 1_800_000_000
    assert claims["exp"] - claims["iat"] == 120
    public = key.private_key.public_key()
    assert jwt.decode(
        token,
        public,
        algorithms=[alg],
        audience=URL,
        options={"verify_exp": False, "verify_iat": False},
    )


def test_every_token_has_a_fresh_jti() -> None:
    key = _key("ES384")
    jtis = {
        jwt.decode(sign_call(key, URL), options={"verify_signature": False})["jti"]
        for _ in range(20)
    }
    assert len(jtis) == 20


def test_a_jku_is_named_in_the_header_when_given() -> None:
    key = ClientKey("i", "k", new_ec_key().private_key, jku="https://client.example/jwks.json")
    assert (
        jwt.get_unverified_header(sign_call(key, URL))["jku"] == "https://client.example/jwks.json"
    )


@pytest.mark.parametrize("lifetime", [0, 301, -5])
def test_a_lifetime_beyond_five_minutes_is_refused(lifetime: int) -> None:
    with pytest.raises(ValueError, match="lifetime"):
        sign_call(_key("ES384"), URL, lifetime=lifetime)
