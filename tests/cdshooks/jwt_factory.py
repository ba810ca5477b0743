"""Sign real CDS Hooks JWTs in tests: fresh EC P-384 (ES384) and RSA (RS384) keys.

key = new_ec_key("ec-1")
config = {"CDS_ISSUERS": json.dumps({"https://ehr.example.org": {"jwks": jwks(key)}})}
token = sign(key, iss="https://ehr.example.org", aud="http://localhost/cds-services")
headers = {"Authorization": f"Bearer {token}"}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

__all__ = [
    "SigningKey",
    "claims",
    "forge",
    "jwks",
    "new_ec256_key",
    "new_ec_key",
    "new_rsa_key",
    "sign",
]


@dataclass(frozen=True)
class SigningKey:
    """A private key with its kid and algorithm, and its public JWK."""

    kid: str
    alg: str
    private_key: Any
    public_jwk: dict[str, Any]


def new_ec_key(kid: str = "ec-1") -> SigningKey:
    """Return a fresh P-384 key for ES384."""
    private = ec.generate_private_key(ec.SECP384R1())
    public = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return SigningKey(kid, "ES384", private, {**public, "kid": kid, "alg": "ES384", "use": "sig"})


def new_rsa_key(kid: str = "rsa-1") -> SigningKey:
    """Return a fresh 2048-bit RSA key for RS384."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return SigningKey(kid, "RS384", private, {**public, "kid": kid, "alg": "RS384", "use": "sig"})


def jwks(*keys: SigningKey) -> dict[str, Any]:
    """Return a JWK Set of the keys' public halves."""
    return {"keys": [key.public_jwk for key in keys]}


def sign(
    key: SigningKey,
    *,
    iss: str,
    aud: str | list[str],
    lifetime: int = 300,
    iat: int | None = None,
    jti: str | None = None,
    headers: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    omit: tuple[str, ...] = (),
) -> str:
    """Return a compact JWT as a CDS client sends it (``typ`` JWT, ``kid``, ES384/RS384).

    ``headers``/``claims`` override or add fields; ``omit`` removes claims (e.g. "jti").
    """
    now = int(time.time()) if iat is None else iat
    body: dict[str, Any] = {
        "iss": iss,
        "sub": "cds-client",
        "aud": aud,
        "iat": now,
        "exp": now + lifetime,
        "jti": jti or str(uuid.uuid4()),
        **(claims or {}),
    }
    for name in omit:
        body.pop(name, None)
    header = {"typ": "JWT", "kid": key.kid, **(headers or {})}
    return jwt.encode(body, key.private_key, algorithm=key.alg, headers=header)


def new_ec256_key(kid: str = "ec256-1") -> SigningKey:
    """Return a fresh P-256 key for ES256 (an algorithm the service must refuse)."""
    private = ec.generate_private_key(ec.SECP256R1())
    public = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return SigningKey(kid, "ES256", private, {**public, "kid": kid, "alg": "ES256", "use": "sig"})


def claims(
    *, iss: str, aud: str | list[str], lifetime: int = 300, iat: int | None = None
) -> dict[str, Any]:
    """Return the claims :func:`sign` would put in a token (fresh ``jti``)."""
    now = int(time.time()) if iat is None else iat
    return {
        "iss": iss,
        "sub": "cds-client",
        "aud": aud,
        "iat": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
    }


def _segment(data: dict[str, Any]) -> bytes:
    raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def forge(
    header: dict[str, Any], payload: dict[str, Any], *, hmac_secret: bytes | None = None
) -> str:
    """Return a compact JWS built by hand, as an attacker would: unsigned (empty
    signature, for ``alg`` none) or MACed with ``hmac_secret`` using the hash that the
    header's HS* ``alg`` names (e.g. a public key's PEM bytes: the key-confusion attack).
    """
    signing_input = _segment(header) + b"." + _segment(payload)
    signature = b""
    if hmac_secret is not None:
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
        mac = hmac.new(hmac_secret, signing_input, digest[header["alg"]]).digest()
        signature = base64.urlsafe_b64encode(mac).rstrip(b"=")
    return (signing_input + b"." + signature).decode("ascii")
