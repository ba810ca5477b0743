"""Check the JWT a CDS client sends on every CDS Hooks call (CDS Hooks 2.0, "Trusting CDS
Clients"); any failure means 401 with no detail.

Exceptions::

    Exception
    ├── CdsTokenError       the token is refused (message for the log only: never sent
    │                       to the client, never holding the token)
    └── ValueError
        └── SettingError    bad configuration, naming the setting (at start-up; from
                            :mod:`service.settings`)

(``CdsTokenError`` is :class:`service.auth.keys.TokenError`: the JWT and key handling is
shared with the REST API's tokens in :mod:`service.auth`.) Nothing here logs a token or
any part of one.

In order, :meth:`CdsTokenValidator.validate` requires:

1. an ``Authorization: Bearer <token>`` header (scheme case-insensitive);
2. header ``alg`` ES384 or RS384, checked before any key is looked up (``none``, HS*,
   RS256, ES256, PS* and the rest are refused);
3. header ``kid``, a non-empty string;
4. header ``typ`` equal to ``JWT`` (case-insensitive). An absent ``typ`` is refused: the
   CDS Hooks 2.0 header table marks ``typ`` REQUIRED with the fixed value ``JWT``;
5. claim ``iss`` (read unverified, only to choose the keys) on ``CDS_ISSUERS``;
6. header ``jku``: for an issuer whose keys come from a configured ``jku``, a ``jku``
   header must equal it; for an issuer configured with an inline or file JWK Set it must
   lie under ``CDS_JKU_ALLOWLIST`` (common CDS clients always send one: the CDS Hooks
   Sandbox's must be listed). Keys are never fetched from a URL a token names, so the
   signature must still match a configured key;
7. a key of that issuer with that ``kid`` whose type fits ``alg``, and a valid signature;
8. ``aud`` equal to the ``audience`` argument (a string, or a list holding it): the
   endpoint's URL built from ``PUBLIC_BASE_URL``, never from the Host header;
9. ``exp`` and ``iat`` numbers; now < ``exp`` + skew; ``iat`` <= now + skew; ``nbf``
   (if any) <= now + skew; ``iat`` < ``exp`` <= ``iat`` + ``CDS_MAX_TOKEN_LIFETIME_SECONDS``;
10. ``jti``, a non-empty string (unless ``CDS_REQUIRE_JTI`` is false), never seen before
    for that issuer: recorded until ``exp`` + skew in the replay cache
    (:mod:`service.auth.replay`), which the app shares between its workers (and, with
    ``REDIS_URL``, its replicas). Checked last, so a refused token uses up no ``jti``.

Settings (Flask config, environment ``NELM_CDS_<KEY>``; defaults in
:data:`CDS_SECURITY_DEFAULTS`):

- ``CDS_ISSUERS``: JSON object (or dict) ``{"<iss>": {"jwks": {...}} | {"jwks_file":
  "path"} | {"jku": "https://..."}}``. Empty: every call is refused.
- ``CDS_JKU_ALLOWLIST``: comma-separated URL prefixes a configured ``jku``, or the
  ``jku`` header of a token from an issuer with configured keys, must lie under (same
  rules as the FHIR allowlist: https, or http to loopback only).
- ``CDS_CLOCK_SKEW_SECONDS`` (60), ``CDS_MAX_TOKEN_LIFETIME_SECONDS`` (300),
  ``CDS_JWKS_TIMEOUT_SECONDS`` (3), ``CDS_JWKS_CACHE_SECONDS`` (300),
  ``CDS_JWKS_MIN_REFRESH_SECONDS`` (10: least time between two fetches of a jku set),
  ``CDS_REQUIRE_JTI`` (true), ``REDIS_URL`` (none), ``PUBLIC_BASE_URL`` (default: the
  bound host and port, see :mod:`service.public_url`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from service.auth.issuers import KEY_FETCH_DEFAULTS, jku_allowlist, key_fetching, trusted_issuers
from service.auth.keys import SharedDocuments, TokenError
from service.auth.replay import ReplayCache, replay_cache_from_config, replay_key
from service.auth.tokens import JwtVerifier, TokenPolicy, TrustedIssuer, bearer_token
from service.cdshooks.refusals import refusal_reason
from service.config import defaults
from service.public_url import public_base_url
from service.settings import flag_setting, number_setting

__all__ = [
    "CDS_ALGORITHMS",
    "CDS_SECURITY_DEFAULTS",
    "CdsTokenError",
    "CdsTokenValidator",
    "TrustedIssuer",
]

log = logging.getLogger(__name__)

CdsTokenError = TokenError
"""A CDS client's token was refused (the message is for the log only)."""

CDS_ALGORITHMS = frozenset({"ES384", "RS384"})
"""The only signing algorithms accepted (CDS Hooks recommends exactly these two)."""

CDS_SECURITY_DEFAULTS: dict[str, Any] = {
    **defaults(
        "CDS_ISSUERS",
        "CDS_JKU_ALLOWLIST",
        "CDS_CLOCK_SKEW_SECONDS",
        "CDS_MAX_TOKEN_LIFETIME_SECONDS",
        "CDS_REQUIRE_JTI",
        "PUBLIC_BASE_URL",  # default: the bound host and port (service.public_url)
        "REDIS_URL",
    ),
    **KEY_FETCH_DEFAULTS,
}

MAX_JTI_CHARS = 1024


class CdsTokenValidator:
    """Validate CDS clients' bearer JWTs; build with :meth:`from_config`. Thread-safe."""

    def __init__(
        self,
        verifier: JwtVerifier,
        *,
        replay_cache: ReplayCache,
        require_jti: bool = True,
    ) -> None:
        self._verifier = verifier
        self.issuers = verifier.issuers
        self.replay_cache = replay_cache
        self.clock_skew = verifier.policy.clock_skew
        self.max_lifetime = verifier.policy.max_lifetime
        self.require_jti = require_jti

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        replay_cache: ReplayCache | None = None,
        shared_keys: SharedDocuments | None = None,
        extra_issuers: Mapping[str, TrustedIssuer] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> CdsTokenValidator:
        """Build from Flask config; raise :class:`SettingError` naming a bad setting.

        Inline and file JWK Sets are read now; ``jku`` sets on first use. Without a
        ``replay_cache`` one is built from ``REDIS_URL`` (else in memory, this process
        only). The replay store is not contacted until the first token (an unreachable
        one refuses tokens, it does not stop the service from starting).
        ``extra_issuers`` are trusted besides the configured ones (the development
        client in demo mode); configured ones win.
        """
        public_base_url(config)  # fail at start-up, not on the first call
        allowlist = jku_allowlist(config, "CDS_JKU_ALLOWLIST")
        issuers = {
            **(extra_issuers or {}),
            **trusted_issuers(
                config,
                "CDS_ISSUERS",
                algorithms=CDS_ALGORITHMS,
                allowlist=allowlist,
                allowlist_name="CDS_JKU_ALLOWLIST",
                fetching=key_fetching(config, shared_keys),
            ),
        }
        skew = number_setting(
            config,
            "CDS_CLOCK_SKEW_SECONDS",
            integer=True,
            zero_allowed=True,
            default=CDS_SECURITY_DEFAULTS["CDS_CLOCK_SKEW_SECONDS"],
        )
        lifetime = number_setting(
            config,
            "CDS_MAX_TOKEN_LIFETIME_SECONDS",
            integer=True,
            zero_allowed=False,
            default=CDS_SECURITY_DEFAULTS["CDS_MAX_TOKEN_LIFETIME_SECONDS"],
        )
        require_jti = flag_setting(config, "CDS_REQUIRE_JTI", default=True)
        if replay_cache is None:
            replay_cache = replay_cache_from_config(config, clock=clock)
        if not issuers:
            log.warning("NELM_CDS_CDS_ISSUERS is empty: every CDS Hooks call will get 401")
        log.info(
            "CDS Hooks tokens: %d trusted issuer(s), replay cache %s", len(issuers), replay_cache
        )
        policy = TokenPolicy(
            algorithms=CDS_ALGORITHMS,
            typ_values=frozenset({"JWT"}),
            clock_skew=skew,
            max_lifetime=lifetime,
        )
        verifier = JwtVerifier(
            issuers, policy, jku_allowlist=allowlist, clock=clock, explain=refusal_reason
        )
        return cls(verifier, replay_cache=replay_cache, require_jti=require_jti)

    def close(self) -> None:
        """Release the replay cache's connections."""
        self.replay_cache.close()

    def validate(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """Return the verified claims of the bearer JWT in ``authorization`` (the raw
        ``Authorization`` header) for the endpoint URL ``audience``; raise
        :class:`CdsTokenError` for any failure."""
        if not authorization:
            raise CdsTokenError("no Authorization header")
        token = bearer_token(authorization)
        if token is None:
            raise CdsTokenError("no Bearer token in the Authorization header")
        issuer, claims, exp = self._verifier.verify(token, audience=audience)
        self._check_replay(issuer.iss, claims, exp)
        return claims

    def _check_replay(self, iss: str, claims: Mapping[str, Any], exp: float) -> None:
        jti = claims.get("jti")
        if jti is None and not self.require_jti:
            return
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_CHARS:
            raise CdsTokenError("jti missing, empty or too long")
        if not self.replay_cache.first_use(replay_key(iss, jti), exp + self.clock_skew):
            raise CdsTokenError(f"jti already used (iss {iss})")
