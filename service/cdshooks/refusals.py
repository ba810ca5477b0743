"""Name, for the service's log, the check a CDS client's token failed.

The 401 answer itself says nothing; the log line (info level) says which check failed
in words an integration engineer can act on. Nothing here returns the token or a part
of it: only claim values that are not secrets (``aud``, ``iss``) and the key id.
"""

from __future__ import annotations

from typing import Any

import jwt

__all__ = ["refusal_reason"]


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _unverified_claim(token: str, name: str) -> Any:
    try:
        return jwt.decode(token, options={"verify_signature": False}).get(name)
    except jwt.PyJWTError:
        return None


def refusal_reason(error: Exception, token: str, audience: str) -> str:
    """Return why PyJWT (or an odd value it did not foresee) refused ``token``."""
    if isinstance(error, jwt.InvalidAudienceError):
        return (
            f"aud {_shown(_unverified_claim(token, 'aud'))} is not this endpoint's URL "
            f"{audience!r} (NELM_CDS_PUBLIC_BASE_URL + path; the host must be the same text)"
        )
    if isinstance(error, jwt.InvalidSignatureError):
        return "the signature does not verify with the issuer's key for this kid"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"claim {error.claim} is missing"
    if isinstance(error, jwt.InvalidIssuerError):
        return f"iss {_shown(_unverified_claim(token, 'iss'))} does not match the key's issuer"
    if isinstance(error, jwt.DecodeError):
        return "not a well-formed JWT (three base64url parts with JSON header and claims)"
    if isinstance(error, jwt.InvalidKeyError):
        return "the issuer's key cannot verify this algorithm"
    return f"token refused: {type(error).__name__}"
