"""The REST API as an OAuth 2.0 resource server: who may call it, with which scopes.

Every ``/api`` route that touches patient data requires ``Authorization: Bearer <JWT
access token>`` from an issuer in ``API_ISSUERS`` (same forms as ``CDS_ISSUERS``, plus
OpenID Connect discovery, see :mod:`service.auth.issuers`), checked by
:class:`~service.auth.tokens.JwtVerifier`: algorithm RS256, RS384, ES256, ES384 or PS256;
``typ`` absent, ``JWT`` or ``at+jwt``; ``aud`` holding ``API_AUDIENCE`` (default: the
public base URL); ``exp`` and ``iat`` (and ``nbf``) within ``API_CLOCK_SKEW_SECONDS``.
Scopes come from ``scope`` (space-separated) or ``scp`` (a list, or space-separated):
:data:`EVALUATIONS_READ` to evaluate and list patients, :data:`RISK_ASSESSMENTS_WRITE`
to write back. Access tokens are bearer tokens meant to be reused until they expire, so
there is no ``jti`` replay check here (unlike CDS Hooks tokens, which are per call).

Refusals follow RFC 6750: no token, 401 with ``WWW-Authenticate: Bearer realm=...``; a
bad token, 401 with ``error="invalid_token"``; a token without the scope, 403 with
``error="insufficient_scope"``. The reason goes to the log, never to the caller.

Whether tokens are required at all (``API_AUTH``): with issuers configured, always;
with none on the embedded demo store (synthetic patients), the API is open; with none
and a FHIR server, the service refuses to start, unless ``API_AUTH=none`` says to serve
it open (then a warning at every start).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.auth.issuers import jku_allowlist, key_fetching, trusted_issuers
from service.auth.keys import SharedDocuments, TokenError
from service.auth.tokens import JwtVerifier, TokenPolicy, bearer_token, shown
from service.config import defaults
from service.public_url import public_base_url
from service.settings import SettingError, number_setting, setting_name, text_setting

__all__ = [
    "API_ALGORITHMS",
    "API_AUTH_DEFAULTS",
    "EVALUATIONS_READ",
    "REALM",
    "RISK_ASSESSMENTS_WRITE",
    "ApiAccessError",
    "ApiTokenValidator",
    "Principal",
]

log = logging.getLogger(__name__)

EVALUATIONS_READ = "nelm/evaluations.read"
RISK_ASSESSMENTS_WRITE = "nelm/risk-assessments.write"
REALM = "nelm-cds"
API_ALGORITHMS = frozenset({"RS256", "RS384", "ES256", "ES384", "PS256"})

API_AUTH_DEFAULTS: dict[str, Any] = defaults(
    "API_AUTH",
    "API_ISSUERS",
    "API_AUDIENCE",
    "API_JKU_ALLOWLIST",
    "API_CLOCK_SKEW_SECONDS",
)
"""``API_AUTH``: ``none`` to serve the API without tokens (explicit; else tokens are
required whenever issuers are set or a FHIR server is). ``API_ISSUERS``: trusted
authorization servers. ``API_AUDIENCE``: the ``aud`` a token must hold (default
``PUBLIC_BASE_URL``). ``API_JKU_ALLOWLIST``: where a configured ``jku`` may point.
``API_CLOCK_SKEW_SECONDS``: leeway on ``exp``/``nbf``/``iat``."""

_TYP_VALUES = frozenset({"", "JWT", "AT+JWT", "APPLICATION/AT+JWT"})


@dataclass(frozen=True)
class Principal:
    """Who called: the token's ``sub``, its client (``client_id`` or ``azp``), its
    issuer and scopes. Safe to put in the audit log (no token)."""

    subject: str | None
    client_id: str | None
    issuer: str | None
    scopes: frozenset[str]


ANONYMOUS = Principal(None, None, None, frozenset())


class ApiAccessError(Exception):
    """A call is refused: ``status`` 401 or 403 and the RFC 6750 ``error`` code (``None``
    when no token was sent). The message is for the log only."""

    def __init__(self, message: str, *, status: int, error: str | None, scope: str | None = None):
        super().__init__(message)
        self.status = status
        self.error = error
        self.scope = scope

    @property
    def www_authenticate(self) -> str:
        """Return the ``WWW-Authenticate`` header value (RFC 6750 §3)."""
        value = f'Bearer realm="{REALM}"'
        if self.error is not None:
            value += f', error="{self.error}"'
        if self.scope is not None:
            value += f', scope="{self.scope}"'
        return value


def _text_claim(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value[:256] if isinstance(value, str) and value else None


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    found: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, list):
            found.update(item for item in value if isinstance(item, str) and item)
    return frozenset(found)


class ApiTokenValidator:
    """Check REST API access tokens; build with :meth:`from_config`. Thread-safe.

    ``verifier`` ``None`` means the API is open (no token is asked for).
    """

    def __init__(self, verifier: JwtVerifier | None, *, audience: str) -> None:
        self._verifier = verifier
        self.audience = audience

    @property
    def required(self) -> bool:
        """Say whether calls need a token."""
        return self._verifier is not None

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        demo: bool,
        shared_keys: SharedDocuments | None = None,
        clock: Callable[[], float] = time.time,
    ) -> ApiTokenValidator:
        """Build from Flask config; raise :class:`SettingError` naming a bad setting, or
        when the API would serve a FHIR server's patients unauthenticated (``demo``:
        the embedded demo store is the data source)."""
        mode = (text_setting(config, "API_AUTH") or "jwt").lower()
        if mode not in ("jwt", "none"):
            raise SettingError(f"{setting_name('API_AUTH')} must be jwt or none")
        skew = number_setting(
            config,
            "API_CLOCK_SKEW_SECONDS",
            integer=True,
            zero_allowed=True,
            default=API_AUTH_DEFAULTS["API_CLOCK_SKEW_SECONDS"],
        )
        audience = text_setting(config, "API_AUDIENCE") or public_base_url(config)
        allowlist = jku_allowlist(config, "API_JKU_ALLOWLIST")
        issuers = trusted_issuers(
            config,
            "API_ISSUERS",
            algorithms=API_ALGORITHMS,
            allowlist=allowlist,
            allowlist_name="API_JKU_ALLOWLIST",
            fetching=key_fetching(config, shared_keys),
            allow_discovery=True,
        )
        if mode == "none" and issuers:
            raise SettingError(
                f"{setting_name('API_AUTH')}=none and {setting_name('API_ISSUERS')} are both "
                "set: choose one (tokens from the issuers, or an open API)"
            )
        if mode == "none":
            log.warning(
                "NELM_CDS_API_AUTH=none: the REST API answers anyone who can reach it, "
                "with patient data; never do this outside a closed test network"
            )
            return cls(None, audience=audience)
        if not issuers:
            if demo:
                log.info("REST API open: embedded demo store and no NELM_CDS_API_ISSUERS")
                return cls(None, audience=audience)
            raise SettingError(
                f"{setting_name('API_ISSUERS')} is empty: the REST API would serve the FHIR "
                f"server's patients without authentication (set it, or set "
                f"{setting_name('API_AUTH')}=none explicitly)"
            )
        policy = TokenPolicy(
            algorithms=API_ALGORITHMS, typ_values=_TYP_VALUES, clock_skew=skew, max_lifetime=None
        )
        log.info("REST API tokens: %d trusted issuer(s), audience %s", len(issuers), audience)
        return cls(
            JwtVerifier(issuers, policy, jku_allowlist=allowlist, clock=clock), audience=audience
        )

    def authorize(self, authorization: str | None, scope: str) -> Principal:
        """Return who calls, if the ``Authorization`` header carries a valid token with
        ``scope``; raise :class:`ApiAccessError` (401 or 403) otherwise."""
        if self._verifier is None:
            return ANONYMOUS
        try:
            token = bearer_token(authorization)
        except TokenError as exc:
            raise ApiAccessError(str(exc), status=401, error="invalid_token") from None
        if token is None:
            raise ApiAccessError("no bearer token", status=401, error=None)
        try:
            issuer, claims, _ = self._verifier.verify(token, audience=self.audience)
        except TokenError as exc:
            raise ApiAccessError(str(exc), status=401, error="invalid_token") from None
        principal = Principal(
            subject=_text_claim(claims, "sub"),
            client_id=_text_claim(claims, "client_id") or _text_claim(claims, "azp"),
            issuer=issuer.iss,
            scopes=_scopes(claims),
        )
        if scope not in principal.scopes:
            raise ApiAccessError(
                f"scope {scope} missing (client {shown(principal.client_id)})",
                status=403,
                error="insufficient_scope",
                scope=scope,
            )
        return principal
