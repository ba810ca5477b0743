"""Verify a signed JWT from a trusted issuer: the checks CDS Hooks client tokens and REST
API access tokens share.

In order, :meth:`JwtVerifier.verify` requires:

1. a compact JWS of at most :data:`MAX_TOKEN_CHARS` characters;
2. header ``alg`` in the policy's algorithms, checked before any key is looked up
   (``none`` and HS* are never accepted);
3. header ``kid``, a non-empty string;
4. header ``typ`` among the policy's accepted values (absent only if the policy allows);
5. claim ``iss`` (read unverified, only to choose the keys) among the trusted issuers;
6. header ``jku``, when present: equal to the issuer's configured ``jku``, or on the
   ``jku`` allowlist. Keys are never fetched from a URL a token names, so the signature
   must still match a configured (or configured-and-fetched) key;
7. a key of that issuer with that ``kid`` whose type fits ``alg``, and a valid signature;
8. ``aud`` equal to the audience (a string, or a list holding it);
9. ``exp`` (and ``iat`` when the policy requires it) numbers; now < ``exp`` + skew;
   ``iat`` <= now + skew; ``nbf`` (if any) <= now + skew; ``iat`` < ``exp``, and
   ``exp`` - ``iat`` at most the policy's maximum lifetime when it has one.

Any failure raises :class:`~service.auth.keys.TokenError` whose message is for the log:
it never holds the token or a part of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from service.auth.keys import KeySource, TokenError
from service.fhir.allowlist import Allowlist

__all__ = [
    "MAX_TOKEN_CHARS",
    "JwtVerifier",
    "TokenPolicy",
    "TrustedIssuer",
    "bearer_token",
    "refusal_reason",
    "shown",
]

MAX_TOKEN_CHARS = 16 * 1024


def shown(value: object) -> str:
    """Return a short repr of an untrusted value, for a log message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer the service trusts: its ``iss``, its keys, and its ``jku`` if the keys
    are fetched from one (a token's ``jku`` header may then equal it)."""

    iss: str
    keys: KeySource
    jku: str | None = None


@dataclass(frozen=True)
class TokenPolicy:
    """What a kind of token must look like."""

    algorithms: frozenset[str]
    typ_values: frozenset[str]
    """Accepted ``typ`` header values, upper-cased; ``""`` in it allows an absent typ."""
    clock_skew: float
    max_lifetime: float | None
    require_iat: bool = True


def bearer_token(authorization: str | None) -> str | None:
    """Return the token of an ``Authorization: Bearer`` header, ``None`` when there is no
    such header (absent, empty, or another scheme); raise :class:`TokenError` when it is
    a Bearer header whose token is empty, too long or not one word."""
    if not authorization or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_CHARS or any(c.isspace() for c in token):
        raise TokenError("the bearer token is empty, too long or not one word")
    return token


def _number_claim(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if value is None:
        raise TokenError(f"claim {name} is missing")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenError(f"claim {name} is not a number")
    return float(value)


def refusal_reason(error: Exception, token: str, audience: str) -> str:
    """Return, for the log, why PyJWT refused a token (never a part of the token)."""
    if isinstance(error, jwt.InvalidAudienceError):
        return f"aud does not hold {audience!r}"
    if isinstance(error, jwt.InvalidSignatureError):
        return "the signature does not verify with the issuer's key for this kid"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"claim {error.claim} is missing"
    if isinstance(error, jwt.DecodeError):
        return "not a well-formed JWT"
    return f"token refused: {type(error).__name__}"


Explain = Callable[[Exception, str, str], str]
"""``(PyJWT's error, token, audience) -> reason for the log`` (never the token)."""


class JwtVerifier:
    """Verify JWTs of ``issuers`` under ``policy``. Thread-safe.

    ``explain`` words PyJWT's refusals for the log (default :func:`refusal_reason`).
    """

    def __init__(
        self,
        issuers: Mapping[str, TrustedIssuer],
        policy: TokenPolicy,
        *,
        jku_allowlist: Allowlist,
        clock: Callable[[], float],
        explain: Explain = refusal_reason,
    ) -> None:
        self.issuers = dict(issuers)
        self.policy = policy
        self._jku_allowlist = jku_allowlist
        self._clock = clock
        self._explain = explain

    def verify(self, token: str, *, audience: str) -> tuple[TrustedIssuer, dict[str, Any], float]:
        """Return the issuer, the verified claims and ``exp``; raise :class:`TokenError`."""
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenError("the token is too long")
        try:
            header = jwt.get_unverified_header(token)
            issuer, alg, kid = self._issuer_and_key_id(token, header)
            key = issuer.keys.key(kid, alg)
            required = ["iss", "aud", "exp", *(["iat"] if self.policy.require_iat else [])]
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer.iss,
                options={
                    "require": required,
                    "verify_exp": False,  # checked below, with our clock and skew
                    "verify_iat": False,
                    "verify_nbf": False,
                    "strict_aud": False,
                    "enforce_minimum_key_length": True,
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            # ValueError/TypeError: odd values PyJWT did not foresee; refuse, never 500.
            # "from None": no PyJWT message or token fragment rides along into a traceback.
            raise TokenError(self._explain(exc, token, audience)) from None
        return issuer, claims, self._check_times(claims)

    def _issuer_and_key_id(
        self, token: str, header: Mapping[str, Any]
    ) -> tuple[TrustedIssuer, str, str]:
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.policy.algorithms:
            accepted = ", ".join(sorted(self.policy.algorithms))
            raise TokenError(f"alg {shown(alg)} refused (only {accepted})")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError("kid missing")
        typ = header.get("typ", "")
        if not isinstance(typ, str) or typ.upper() not in self.policy.typ_values:
            raise TokenError(f"typ {shown(header.get('typ'))} refused")
        unverified = jwt.decode(token, options={"verify_signature": False})
        iss = unverified.get("iss")
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise TokenError(f"iss {shown(iss)} is not a trusted issuer")
        if "jku" in header:
            self._check_jku(issuer, header["jku"])
        return issuer, alg, kid

    def _check_jku(self, issuer: TrustedIssuer, jku: object) -> None:
        """A ``jku`` header must be the issuer's own, or allowlisted; it is never fetched."""
        if issuer.jku is not None:
            if jku != issuer.jku:
                raise TokenError(f"jku {shown(jku)} is not the one set for {issuer.iss}")
            return
        if not isinstance(jku, str) or jku not in self._jku_allowlist:
            raise TokenError(f"jku {shown(jku)} is not on the jku allowlist")

    def _check_times(self, claims: Mapping[str, Any]) -> float:
        now, skew = self._clock(), self.policy.clock_skew
        exp = _number_claim(claims, "exp")
        if now >= exp + skew:
            raise TokenError("token expired")
        if "nbf" in claims and _number_claim(claims, "nbf") > now + skew:
            raise TokenError("nbf is in the future")
        if "iat" not in claims:
            return exp
        iat = _number_claim(claims, "iat")
        if iat > now + skew:
            raise TokenError("iat is in the future")
        if exp <= iat:
            raise TokenError("exp is not after iat")
        limit = self.policy.max_lifetime
        if limit is not None and exp - iat > limit:
            raise TokenError(f"lifetime {exp - iat:.0f} s exceeds {limit} s")
        return exp
