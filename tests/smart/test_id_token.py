"""The SMART launch's id_token is validated as OpenID Connect says: signature by the
issuer's discovered JWKS, iss, aud, exp, nonce; fhirUser names the clinician. And the
EHR's style settings are taken only when plainly safe."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from service.fhir import Allowlist
from service.smart.id_token import IdTokenError, IdTokenValidator
from service.smart.style import _checked, style_css
from tests.auth.issuer_server import IssuerServer, serving_issuer
from tests.cdshooks.jwt_factory import new_rsa_key

CLIENT = "nelm-cds"
NONCE = "n" * 32


@pytest.fixture(scope="module")
def idp() -> Iterator[IssuerServer]:
    with serving_issuer() as server:
        yield server


def id_token(idp: IssuerServer, *, kid: bool = True, key: Any = None, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": idp.issuer,
        "sub": "user-1",
        "aud": CLIENT,
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        "fhirUser": "Practitioner/dr-1",
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    signing = key or idp.rs256
    headers = {"kid": signing.kid} if kid else {}
    return jwt.encode(body, signing.private_key, algorithm="RS256", headers=headers)


def validate(idp: IssuerServer, token: str, **kw: Any) -> Any:
    validator = IdTokenValidator(Allowlist([idp.issuer], allow_http=True))
    return validator.validate(
        token,
        issuers=kw.get("issuers", {idp.issuer}),
        client_id=kw.get("client_id", CLIENT),
        nonce=kw.get("nonce", NONCE),
    )


def test_a_valid_id_token_names_the_clinician(idp: IssuerServer) -> None:
    identity = validate(idp, id_token(idp))
    assert identity.fhir_user == "Practitioner/dr-1"
    assert identity.subject == "user-1"


def test_a_token_without_kid_is_tried_against_the_issuer_s_keys(idp: IssuerServer) -> None:
    # the SMART reference launcher signs its id_tokens without a kid
    assert validate(idp, id_token(idp, kid=False)).fhir_user == "Practitioner/dr-1"


def test_smart_1_profile_stands_for_fhir_user(idp: IssuerServer) -> None:
    token = id_token(idp, fhirUser=None, profile="Practitioner/dr-2")
    assert validate(idp, token).fhir_user == "Practitioner/dr-2"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"aud": "someone-else"}, "not valid"),
        ({"exp": int(time.time()) - 3600}, "not valid"),
        ({"nonce": "another"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"iss": "https://evil.example"}, "iss"),
        ({"iat": int(time.time()) + 3600}, "not valid"),
    ],
)
def test_an_id_token_failing_a_check_is_refused(
    idp: IssuerServer, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(IdTokenError, match=message):
        validate(idp, id_token(idp, **change))


def test_a_signature_by_another_key_is_refused(idp: IssuerServer) -> None:
    stranger = new_rsa_key(idp.rs256.kid)  # same kid, another key
    with pytest.raises(IdTokenError, match="signature|not valid"):
        validate(idp, id_token(idp, key=stranger))


def test_unsigned_and_mac_tokens_are_refused(idp: IssuerServer) -> None:
    body = {"iss": idp.issuer, "aud": CLIENT, "sub": "u", "nonce": NONCE, "exp": 2**31}
    for token in (
        jwt.encode(body, None, algorithm="none"),
        jwt.encode(body, "secret-secret-secret-secret-32b!", algorithm="HS256"),
    ):
        with pytest.raises(IdTokenError, match="not allowed"):
            validate(idp, token)


def test_an_issuer_off_the_allowlist_is_never_asked_for_keys(idp: IssuerServer) -> None:
    validator = IdTokenValidator(Allowlist(["https://ehr.example/fhir"]))
    with pytest.raises(IdTokenError, match="allowlist"):
        validator.validate(id_token(idp), issuers={idp.issuer}, client_id=CLIENT, nonce=NONCE)


# --- SMART style ------------------------------------------------------------------------------


def test_only_plainly_safe_style_values_are_kept() -> None:
    kept = _checked(
        {
            "color_background": "#edeae3",
            "color_highlight": "#69b5ce",
            "color_text": "red; } body { display: none",
            "font_family_body": "Georgia, Times, 'Times New Roman', serif",
            "dim_border_radius": "6px",
            "dim_font_size": "13px; x",
            "unknown": "#000",
        }
    )
    assert kept == {
        "color_background": "#edeae3",
        "color_highlight": "#69b5ce",
        "font_family_body": "Georgia, Times, 'Times New Roman', serif",
        "dim_border_radius": "6px",
    }
    css = style_css(kept)
    assert "--link: #69b5ce;" in css
    assert "background: #edeae3;" in css
    assert "}" in css
