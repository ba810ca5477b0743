"""Sign real CDS Hooks JWTs in tests: fresh EC P-384 (ES384) and RSA (RS384) keys.

key = new_ec_key("ec-1")
config = {"CDS_ISSUERS": json.dumps({"https://ehr.example.org": {"jwks": jwks(key)}})}
token = sign(key, iss="https://ehr.example.org", aud="http://localhost/cds-services")
headers = {"Authorization": f"Bearer {token}"}
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

__all__ = ["SigningKey", "jwks", "new_ec_key", "new_rsa_key", "sign"]


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
