"""Sign CDS Hooks 2.0 client JWTs (CDS Hooks 2.0, "Trusting CDS Clients").

Header: ``alg`` (ES384 for an EC P-384 key, RS384 for RSA), ``typ`` ``JWT``, ``kid``,
and ``jku`` when given. Claims: ``iss``, ``sub`` (the client id, default the issuer),
``aud`` the exact URL called, ``iat`` now, ``exp`` ``iat`` + lifetime (at most five
minutes, as the specification recommends), and a fresh random ``jti`` every call.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

__all__ = ["ClientKey", "read_client_key", "sign_call"]

MAX_LIFETIME_SECONDS = 300


@dataclass(frozen=True)
class ClientKey:
    """Who the client says it is (``iss``, ``kid``) and the private key it signs with."""

    iss: str
    kid: str
    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = field(repr=False)
    jku: str | None = None
    sub: str | None = None

    @property
    def alg(self) -> str:
        """Return ES384 for an EC key, RS384 for an RSA key."""
        return "ES384" if isinstance(self.private_key, ec.EllipticCurvePrivateKey) else "RS384"


def read_client_key(path: Path) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    """Read an unencrypted PEM private key (EC P-384 or RSA of 2048 bits or more).

    Raises :class:`ValueError` with a one-line reason.
    """
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not an unencrypted PEM private key") from exc
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1":
        return key
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
        return key
    raise ValueError(f"{path}: needs an EC P-384 key (ES384) or an RSA key of 2048+ bits (RS384)")


def sign_call(
    key: ClientKey, audience: str, *, lifetime: int = 120, now: float | None = None
) -> str:
    """Return a fresh JWT for one call to ``audience`` (the exact URL called)."""
    if not 0 < lifetime <= MAX_LIFETIME_SECONDS:
        raise ValueError(f"lifetime must be 1-{MAX_LIFETIME_SECONDS} seconds")
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": key.iss,
        "sub": key.sub or key.iss,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": str(uuid.uuid4()),
    }
    headers: dict[str, Any] = {"kid": key.kid, "typ": "JWT"}
    if key.jku:
        headers["jku"] = key.jku
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers=headers)
