"""PKCE (RFC 7636) with the S256 method: a random verifier and its challenge."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

__all__ = ["METHOD", "new_verifier", "s256_challenge"]

METHOD = "S256"
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def new_verifier() -> str:
    """Return a new ``code_verifier``: 86 URL-safe characters from 64 random bytes."""
    return secrets.token_urlsafe(64)


def s256_challenge(verifier: str) -> str:
    """Return ``BASE64URL(SHA256(verifier))`` without padding (43 characters).

    Raises :class:`ValueError` when ``verifier`` is not 43-128 unreserved characters.
    """
    if not _VERIFIER.fullmatch(verifier):
        raise ValueError("a PKCE code_verifier is 43-128 characters of A-Z a-z 0-9 - . _ ~")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
