"""How the FHIR client authenticates: a bearer token passed in, or SMART Backend Services.

:class:`BearerToken` is for calls made on behalf of a CDS Hooks request (the token comes
with ``fhirAuthorization``). :class:`SmartBackendServices` is for calls the service
makes on its own (client_credentials grant with a ``private_key_jwt`` client assertion
signed RS384 or ES384, per the SMART App Launch "Backend Services" specification).

Neither ever puts a token in a log line, a message or its ``repr``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from service.fhir.allowlist import parse_url
from service.fhir.errors import (
    FhirAuthError,
    FhirInvalidResponseError,
)
from service.fhir.oauth import authorization_server_call

__all__ = ["Auth", "BearerToken", "SmartBackendServices"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 300
"""Seconds a client assertion is valid: SMART allows at most five minutes."""
REFRESH_MARGIN = 60
"""A cached access token is replaced this many seconds before it expires."""

Algorithm = Literal["RS384", "ES384"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class Auth(Protocol):
    """What the FHIR client asks of an authentication method."""

    def authorization(self, base_url: str) -> str:
        """Return the ``Authorization`` header value for a request to ``base_url``."""
        ...

    def invalidate(self) -> None:
        """Forget any cached credential (the server answered 401 with it)."""
        ...


class BearerToken:
    """A bearer access token obtained elsewhere (e.g. a hook's ``fhirAuthorization``)."""

    def __init__(self, access_token: str) -> None:
        if not access_token or any(ch.isspace() for ch in access_token):
            raise ValueError("a bearer token must be non-empty and contain no whitespace")
        self._token = access_token

    def authorization(self, base_url: str) -> str:
        """Return ``Bearer <token>``, whatever the server."""
        return f"Bearer {self._token}"

    def invalidate(self) -> None:
        """Do nothing: a token passed in cannot be renewed here."""

    def __repr__(self) -> str:
        return "BearerToken(***)"


def _load_key(private_key: str | bytes | PrivateKey, alg: str) -> PrivateKey:
    if isinstance(private_key, str | bytes):
        data = private_key.encode() if isinstance(private_key, str) else private_key
        try:
            loaded = load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise ValueError("the SMART private key is not an unencrypted PEM key") from exc
    else:
        loaded = private_key
    if alg == "RS384" and isinstance(loaded, rsa.RSAPrivateKey):
        return loaded
    if alg == "ES384" and isinstance(loaded, ec.EllipticCurvePrivateKey):
        if loaded.curve.name != "secp384r1":
            raise ValueError("ES384 needs a P-384 (secp384r1) key")
        return loaded
    raise ValueError(f"the SMART private key does not fit {alg} (RS384: RSA, ES384: EC P-384)")


class SmartBackendServices:
    """SMART Backend Services: client_credentials with a signed JWT client assertion.

    ``alg`` must be ``RS384`` or ``ES384`` (anything else, e.g. ``HS256`` or ``none``,
    raises :class:`ValueError` here, at construction). ``token_url`` is discovered from
    ``{base}/.well-known/smart-configuration`` on first use when not given; it must be
    https (plain http only to loopback). The access token is cached, shared by threads,
    and fetched again :data:`REFRESH_MARGIN` seconds before ``expires_in`` runs out or
    after :meth:`invalidate`. Use one instance per FHIR server.

    Token-endpoint failures raise :class:`FhirAuthError` (refused),
    :class:`FhirUnavailableError` (unreachable, 5xx) or
    :class:`FhirInvalidResponseError` (no usable token in the answer).
    """

    def __init__(
        self,
        client_id: str,
        private_key: str | bytes | PrivateKey,
        *,
        kid: str,
        scope: str,
        alg: str = "RS384",
        token_url: str | None = None,
        jku: str | None = None,
        timeout: tuple[float, float] = (3.05, 10.0),
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if alg not in ("RS384", "ES384"):
            raise ValueError(f"SMART Backend Services signs with RS384 or ES384, not {alg!r}")
        if not client_id or not kid or not scope:
            raise ValueError("SMART Backend Services needs client_id, kid and scope")
        self._client_id = client_id
        self._key = _load_key(private_key, alg)
        self._alg: Algorithm = "RS384" if alg == "RS384" else "ES384"
        self._kid = kid
        self._jku = jku
        self._scope = scope
        self._token_url = _checked(token_url) if token_url else None
        self._timeout = timeout
        self._session = session or requests.Session()
        self._owns_session = session is None
        self._clock = clock
        self._lock = threading.Lock()
        self._base_url: str | None = None
        self._token: str | None = None
        self._expires_at = 0.0

    def __repr__(self) -> str:
        return f"SmartBackendServices(client_id={self._client_id!r}, alg={self._alg!r})"

    def authorization(self, base_url: str) -> str:
        """Return ``Bearer <token>``, fetching a token if none is cached or it is due."""
        with self._lock:
            if self._base_url is None:
                self._base_url = base_url.rstrip("/")
            elif self._base_url != base_url.rstrip("/"):
                raise ValueError("use one SmartBackendServices per FHIR server")
            if self._token is None or self._clock() >= self._expires_at:
                self._token, self._expires_at = self._fetch_token()
            return f"Bearer {self._token}"

    def invalidate(self) -> None:
        """Drop the cached token so the next request fetches a new one."""
        with self._lock:
            self._token = None

    def close(self) -> None:
        """Close the HTTP session if this object created it."""
        if self._owns_session:
            self._session.close()

    def client_assertion(self, token_url: str) -> str:
        """Return a freshly signed client assertion for ``token_url``."""
        now = int(self._clock())
        claims = {
            "iss": self._client_id,
            "sub": self._client_id,
            "aud": token_url,
            "exp": now + ASSERTION_LIFETIME,
            "iat": now,
            "jti": secrets.token_urlsafe(32),
        }
        headers = {"kid": self._kid, "typ": "JWT"}
        if self._jku:
            headers["jku"] = self._jku
        return jwt.encode(claims, self._key, algorithm=self._alg, headers=headers)

    def _fetch_token(self) -> tuple[str, float]:
        token_url = self._token_url or self._discover()
        self._token_url = token_url
        form = {
            "grant_type": "client_credentials",
            "scope": self._scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.client_assertion(token_url),
        }
        started = self._clock()
        body = self._call("POST", token_url, data=form)
        token = body.get("access_token")
        token_type = body.get("token_type", "bearer")
        if not isinstance(token, str) or not token or any(c.isspace() for c in token):
            raise FhirInvalidResponseError("the token endpoint sent no access_token", url=token_url)
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise FhirInvalidResponseError(
                "the token endpoint sent a non-bearer token", url=token_url
            )
        expires_in = body.get("expires_in")
        lifetime = expires_in if isinstance(expires_in, int | float) else ASSERTION_LIFETIME
        return token, started + float(lifetime) - REFRESH_MARGIN

    def _discover(self) -> str:
        url = f"{self._base_url}/.well-known/smart-configuration"
        body = self._call("GET", url)
        endpoint = body.get("token_endpoint")
        if not isinstance(endpoint, str):
            raise FhirInvalidResponseError("smart-configuration has no token_endpoint", url=url)
        algs = body.get("token_endpoint_auth_signing_alg_values_supported")
        if isinstance(algs, list) and algs and self._alg not in algs:
            raise FhirAuthError(
                f"the server does not accept {self._alg} client assertions", url=url
            )
        return _checked(endpoint)

    def _call(self, method: str, url: str, data: dict[str, str] | None = None) -> dict[str, Any]:
        return authorization_server_call(
            self._session, method, url, timeout=self._timeout, data=data
        )


def _checked(url: str) -> str:
    """Return ``url`` unchanged (it is the assertion's ``aud``) once it is known safe."""
    parse_url(url, base=False)
    return url
