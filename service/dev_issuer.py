"""The development CDS client: a key pair in the instance folder, trusted in demo mode only.

So that CDS Hooks can be tried with no configuration, the service running on the
embedded demo store (synthetic patients, no FHIR server) trusts one extra issuer,
:data:`DEV_ISSUER`, whose ES384 key pair it generates on first start into the instance
folder. ``python -m service cds-call`` reads the private half from the same folder and
signs its calls with it. With a FHIR server configured the key is never read by the
service: a deployment trusts only the issuers it lists.

Files (created once, atomically, never overwritten; the private key readable by the
owner only):

- ``dev-cds-client-key.pem``: the P-384 private key (PKCS#8 PEM);
- ``dev-cds-client-jwks.json``: its public JWK Set (``kid`` = RFC 7638 thumbprint), the
  form ``NELM_CDS_CDS_ISSUERS`` takes as ``jwks_file`` (used by the compose file).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

__all__ = [
    "DEV_ISSUER",
    "JWKS_FILE",
    "PRIVATE_KEY_FILE",
    "DevKey",
    "ensure_dev_key",
    "key_id",
    "load_dev_key",
    "load_private_key",
]

DEV_ISSUER = "urn:nelm-cds:dev-cds-client"
"""The ``iss`` of the development CDS client."""
PRIVATE_KEY_FILE = "dev-cds-client-key.pem"
JWKS_FILE = "dev-cds-client-jwks.json"


@dataclass(frozen=True)
class DevKey:
    """The development client's key pair: private key, ``kid`` and public JWK Set."""

    private_key: ec.EllipticCurvePrivateKey
    kid: str
    jwks: dict[str, Any]
    folder: Path


def key_id(public_jwk: dict[str, Any]) -> str:
    """Return the RFC 7638 thumbprint (SHA-256, base64url) of an EC public JWK."""
    canonical = json.dumps(
        {name: public_jwk[name] for name in ("crv", "kty", "x", "y")},
        separators=(",", ":"),
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _public_jwks(private_key: ec.EllipticCurvePrivateKey) -> tuple[str, dict[str, Any]]:
    public: dict[str, Any] = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    kid = key_id(public)
    return kid, {"keys": [{**public, "kid": kid, "alg": "ES384", "use": "sig"}]}


def load_private_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    """Return a P-384 private key from PEM; raise :class:`ValueError` for anything else."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError("not an unencrypted PEM private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp384r1":
        raise ValueError("not an EC P-384 private key (ES384 needs one)")
    return key


def load_dev_key(folder: Path | str) -> DevKey | None:
    """Return the development key pair kept in ``folder``, or ``None`` when there is none.

    Raises :class:`ValueError` when the key file exists but is not a P-384 private key.
    """
    folder = Path(folder)
    try:
        pem = (folder / PRIVATE_KEY_FILE).read_bytes()
    except FileNotFoundError:
        return None
    private_key = load_private_key(pem)
    kid, jwks = _public_jwks(private_key)
    return DevKey(private_key, kid, jwks, folder)


def _write_once(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``data`` unless it exists; atomic, safe between processes."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        with contextlib.suppress(FileExistsError):  # another worker won the race: keep its file
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def ensure_dev_key(folder: Path | str) -> DevKey:
    """Return the development key pair in ``folder``, generating it on first use.

    Several processes may call this at once (gunicorn workers): the first file written
    wins and every caller returns that key. The public JWK Set is rewritten from the
    private key when missing.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    found = load_dev_key(folder)
    if found is None:
        private_key = ec.generate_private_key(ec.SECP384R1())
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_once(folder / PRIVATE_KEY_FILE, pem, 0o600)
        found = load_dev_key(folder)
        if found is None:  # pragma: no cover - the file was just linked into place
            raise OSError(f"cannot create {folder / PRIVATE_KEY_FILE}")
    jwks_path = folder / JWKS_FILE
    if not jwks_path.exists():
        _write_once(jwks_path, (json.dumps(found.jwks, indent=2) + "\n").encode(), 0o644)
    return found
