"""Validate the OpenID Connect ``id_token`` of a SMART launch; return who the user is.

OpenID Connect Core §3.1.3.7, as it applies to a confidential or public client of the
code flow:

- the signature, with a key from the issuer's JWK Set (its ``jwks_uri`` from
  ``<iss>/.well-known/openid-configuration``): RS256/RS384/ES256/ES384/PS256 only
  (never ``none`` or a MAC); a token without ``kid`` is tried against every key of its
  algorithm (the SMART reference launcher signs without one);
- ``iss`` is the launch's FHIR server (``iss`` of the launch, as SMART defines it) or
  the ``issuer`` its discovery names, and lies on the FHIR allowlist; the JWK Set must be
  on the issuer's own origin (the service fetches nothing else on a token's say);
- ``aud`` contains the client id (and ``azp``, when several audiences, is it);
- ``exp`` is in the future and ``iat`` not in the future (with :data:`SKEW` seconds);
- ``nonce`` equals the one the launch sent.

The result's ``fhir_user`` (``fhirUser``, or SMART 1's ``profile``) names the clinician
for the audit trail and as the performer of what the page records. A key set is cached
per process for :data:`JWKS_TTL` seconds and fetched again once for an unknown key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
from jwt import PyJWK, PyJWTError

from service.auth.issuers import discovered_jwks_uri
from service.auth.keys import TokenError, download_json, parse_jwks
from service.fhir import Allowlist, FhirUrlNotAllowedError
from service.smart.store import ExpiringStore

__all__ = ["ALGORITHMS", "IdTokenError", "Identity", "IdTokenValidator"]

ALGORITHMS = frozenset({"RS256", "RS384", "ES256", "ES384", "PS256"})
SKEW = 60.0
JWKS_TTL = 300.0
MAX_ID_TOKEN_CHARS = 16_384


class IdTokenError(Exception):
    """The id_token is not valid; the message says which check failed (no token text)."""


@dataclass(frozen=True)
class Identity:
    """Who the validated id_token says the user is."""

    issuer: str
    subject: str
    fhir_user: str | None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port


class IdTokenValidator:
    """Validate id_tokens of issuers on ``allowlist``; ``clock`` is epoch seconds."""

    def __init__(
        self,
        allowlist: Allowlist,
        *,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._allowlist = allowlist
        self._timeout = timeout
        self._clock = clock
        self._keys: ExpiringStore[list[tuple[str, str, PyJWK]]] = ExpiringStore(
            max_entries=64, clock=clock
        )

    def _key_set(self, issuer: str, *, fresh: bool) -> list[tuple[str, str, PyJWK]]:
        cached = None if fresh else self._keys.get(issuer)
        if cached is not None:
            return cached
        try:
            uri = discovered_jwks_uri(issuer, timeout=self._timeout)
            if _origin(uri) != _origin(issuer):
                raise IdTokenError("the issuer's jwks_uri is on another origin")
            index = parse_jwks(download_json(uri, timeout=self._timeout), ALGORITHMS)
        except (TokenError, ValueError) as exc:
            raise IdTokenError(f"the issuer's keys cannot be had ({exc})") from exc
        keys = [(kid, alg, key) for (kid, alg), key in index.items()]
        self._keys.put(issuer, keys, ttl=JWKS_TTL)
        return keys

    def _candidates(self, issuer: str, kid: str | None, alg: str) -> list[PyJWK]:
        for fresh in (False, True):
            keys = self._key_set(issuer, fresh=fresh)
            found = [k for key_id, a, k in keys if a == alg and (kid is None or key_id == kid)]
            if found:
                return found
        raise IdTokenError(f"no {alg} key{' with that kid' if kid else ''} in the issuer's keys")

    def validate(self, token: str, *, issuers: set[str], client_id: str, nonce: str) -> Identity:
        """Return the identity of a valid ``token``; raise :class:`IdTokenError`.

        ``issuers``: the values ``iss`` may take (the launch's FHIR base, and the
        issuer its SMART configuration names, if any).
        """
        if not isinstance(token, str) or len(token) > MAX_ID_TOKEN_CHARS:
            raise IdTokenError("the id_token is missing or too long")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except PyJWTError as exc:
            raise IdTokenError("the id_token is not a JWT") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise IdTokenError(f"the id_token is signed with {str(alg)[:16]!r}, not allowed")
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or issuer.rstrip("/") not in {
            i.rstrip("/") for i in issuers
        }:
            raise IdTokenError("the id_token's iss is not the launch's issuer")
        try:
            self._allowlist.check(issuer)
        except FhirUrlNotAllowedError as exc:
            raise IdTokenError("the id_token's iss is not on the FHIR allowlist") from exc
        claims = None
        for key in self._candidates(issuer, kid if isinstance(kid, str) else None, alg):
            try:
                claims = jwt.decode(
                    token,
                    key.key,
                    algorithms=[alg],
                    audience=client_id,
                    issuer=issuer,
                    leeway=SKEW,
                    options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                )
                break
            except jwt.InvalidSignatureError:
                continue
            except PyJWTError as exc:
                raise IdTokenError(f"the id_token is not valid ({type(exc).__name__})") from exc
        if claims is None:
            raise IdTokenError("the id_token's signature does not verify")
        if claims.get("iat", 0) > self._clock() + SKEW:
            raise IdTokenError("the id_token is issued in the future")
        audience = claims.get("aud")
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
            raise IdTokenError("the id_token names several audiences without azp")
        if claims.get("nonce") != nonce:
            raise IdTokenError("the id_token's nonce is not the launch's")
        user = claims.get("fhirUser", claims.get("profile"))
        fhir_user = user[:256] if isinstance(user, str) and user.isprintable() else None
        return Identity(issuer, str(claims["sub"])[:256], fhir_user)
