"""Check the JWT a CDS client sends on every CDS Hooks call (CDS Hooks 2.0, "Trusting CDS
Clients"); any failure means 401 with no detail.

Exceptions::

    Exception
    ├── CdsTokenError       the token is refused (message for the log only: never sent
    │                       to the client, never holding the token)
    └── ValueError
        └── SettingError    bad configuration, naming the setting (at start-up)

(``CdsTokenError`` lives in :mod:`service.cdshooks.jwks` to avoid an import cycle; import
it from here.) Nothing here logs a token or any part of one.

In order, :meth:`CdsTokenValidator.validate` requires:

1. an ``Authorization: Bearer <token>`` header (scheme case-insensitive);
2. header ``alg`` ES384 or RS384, checked before any key is looked up (``none``, HS*,
   RS256, ES256, PS* and the rest are refused);
3. header ``kid``, a non-empty string;
4. header ``typ`` equal to ``JWT`` (case-insensitive). An absent ``typ`` is refused: the
   CDS Hooks 2.0 header table marks ``typ`` REQUIRED with the fixed value ``JWT``;
5. claim ``iss`` (read unverified, only to choose the keys) on ``CDS_ISSUERS``;
6. header ``jku``: for an issuer whose keys come from a configured ``jku``, a ``jku``
   header must equal it; for an issuer configured with an inline or file JWK Set it is
   ignored (common CDS clients always send one). Keys are never fetched from a URL a
   token names, so the signature must still match a configured key;
7. a key of that issuer with that ``kid`` whose type fits ``alg``, and a valid signature;
8. ``aud`` equal to the ``audience`` argument (a string, or a list holding it): the
   endpoint's URL built from ``PUBLIC_BASE_URL``, never from the Host header;
9. ``exp`` and ``iat`` numbers; now < ``exp`` + skew; ``iat`` <= now + skew; ``nbf``
   (if any) <= now + skew; ``iat`` < ``exp`` <= ``iat`` + ``CDS_MAX_TOKEN_LIFETIME_SECONDS``;
10. ``jti``, a non-empty string (unless ``CDS_REQUIRE_JTI`` is false), never seen before
    for that issuer: recorded until ``exp`` + skew, in memory, or in Redis when
    ``REDIS_URL`` is set (shared by replicas). Checked last, so a refused token uses
    up no ``jti``.

Settings (Flask config, environment ``NELM_CDS_<KEY>``; defaults in
:data:`CDS_SECURITY_DEFAULTS`):

- ``CDS_ISSUERS``: JSON object (or dict) ``{"<iss>": {"jwks": {...}} | {"jwks_file":
  "path"} | {"jku": "https://..."}}``. Empty: every call is refused.
- ``CDS_JKU_ALLOWLIST``: comma-separated URL prefixes a configured ``jku`` must lie
  under (same rules as the FHIR allowlist: https, or http to loopback only).
- ``CDS_CLOCK_SKEW_SECONDS`` (60), ``CDS_MAX_TOKEN_LIFETIME_SECONDS`` (300),
  ``CDS_JWKS_TIMEOUT_SECONDS`` (3), ``CDS_JWKS_CACHE_SECONDS`` (300),
  ``CDS_JWKS_MIN_REFRESH_SECONDS`` (10: least time between two fetches of a jku set),
  ``CDS_REQUIRE_JTI`` (true), ``REDIS_URL`` (none), ``PUBLIC_BASE_URL`` (default: the
  bound host and port, see :mod:`service.public_url`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from service.cdshooks.jwks import (
    ALGORITHMS,
    CdsTokenError,
    KeySource,
    RemoteKeys,
    StaticKeys,
    parse_jwks,
)
from service.cdshooks.refusals import refusal_reason
from service.cdshooks.replay import (
    MemoryReplayCache,
    RedisReplayCache,
    ReplayCache,
    replay_key,
)
from service.fhir.allowlist import Allowlist
from service.fhir.errors import FhirUrlNotAllowedError
from service.public_url import public_base_url
from service.settings import (
    SettingError,
    flag_setting,
    number_setting,
    setting_name,
    text_setting,
)

__all__ = [
    "CDS_SECURITY_DEFAULTS",
    "CdsTokenError",
    "CdsTokenValidator",
    "TrustedIssuer",
    "public_base_url",
]

log = logging.getLogger(__name__)

CDS_SECURITY_DEFAULTS: dict[str, Any] = {
    "CDS_ISSUERS": None,
    "CDS_JKU_ALLOWLIST": None,
    "CDS_CLOCK_SKEW_SECONDS": 60,
    "CDS_MAX_TOKEN_LIFETIME_SECONDS": 300,
    "CDS_JWKS_TIMEOUT_SECONDS": 3,
    "CDS_JWKS_CACHE_SECONDS": 300,
    "CDS_JWKS_MIN_REFRESH_SECONDS": 10,
    "CDS_REQUIRE_JTI": True,
    "PUBLIC_BASE_URL": None,  # default: the bound host and port (service.public_url)
    "REDIS_URL": None,
}

MAX_TOKEN_CHARS = 16 * 1024
MAX_JTI_CHARS = 1024
_SOURCES = ("jwks", "jwks_file", "jku")


def _shown(value: object) -> str:
    """Return a short repr of an untrusted value, for a log message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- settings -------------------------------------------------------------------------


def _jku_allowlist(config: Mapping[str, Any]) -> Allowlist:
    listed = text_setting(config, "CDS_JKU_ALLOWLIST") or ""
    try:
        return Allowlist(entry.strip() for entry in listed.split(",") if entry.strip())
    except ValueError as exc:
        raise SettingError(f"{setting_name('CDS_JKU_ALLOWLIST')}: {exc}") from exc


def _issuer_table(config: Mapping[str, Any]) -> dict[str, Any]:
    name = setting_name("CDS_ISSUERS")
    value = config.get("CDS_ISSUERS")
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise SettingError(f"{name} is not valid JSON: {exc}") from exc
    if not isinstance(value, Mapping):
        raise SettingError(f"{name} must be a JSON object of issuer: key source")
    return dict(value)


def _static_keys(iss: str, data: object, where: str) -> StaticKeys:
    name = setting_name("CDS_ISSUERS")
    try:
        keys = parse_jwks(data)
    except ValueError as exc:
        raise SettingError(f"{name}: issuer {iss!r}: {where}: {exc}") from exc
    if not keys:
        raise SettingError(
            f"{name}: issuer {iss!r}: {where} has no usable key (ES384 with EC P-384, or "
            "RS384 with RSA of 2048 bits or more, public, with a kid)"
        )
    return StaticKeys(keys, where=f"the {where} of {iss}")


def _read_jwks_file(iss: str, path: object) -> object:
    name = setting_name("CDS_ISSUERS")
    if not isinstance(path, str) or not path:
        raise SettingError(f"{name}: issuer {iss!r}: jwks_file must be a path")
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingError(f"{name}: issuer {iss!r}: cannot read jwks_file {path}") from exc
    except ValueError as exc:
        raise SettingError(f"{name}: issuer {iss!r}: jwks_file {path} is not JSON") from exc


@dataclass(frozen=True)
class TrustedIssuer:
    """A CDS client the service trusts: its ``iss``, its keys, and its ``jku`` if the
    keys are fetched from one (a token's ``jku`` header must then equal it)."""

    iss: str
    keys: KeySource
    jku: str | None = None


def _issuers(config: Mapping[str, Any]) -> dict[str, TrustedIssuer]:
    name = setting_name("CDS_ISSUERS")
    table = _issuer_table(config)
    allowlist = _jku_allowlist(config)
    timeout = number_setting(
        config,
        "CDS_JWKS_TIMEOUT_SECONDS",
        integer=False,
        zero_allowed=False,
        default=CDS_SECURITY_DEFAULTS["CDS_JWKS_TIMEOUT_SECONDS"],
    )
    cache_seconds = number_setting(
        config,
        "CDS_JWKS_CACHE_SECONDS",
        integer=False,
        zero_allowed=False,
        default=CDS_SECURITY_DEFAULTS["CDS_JWKS_CACHE_SECONDS"],
    )
    min_refresh = number_setting(
        config,
        "CDS_JWKS_MIN_REFRESH_SECONDS",
        integer=False,
        zero_allowed=True,
        default=CDS_SECURITY_DEFAULTS["CDS_JWKS_MIN_REFRESH_SECONDS"],
    )
    issuers: dict[str, TrustedIssuer] = {}
    for iss, source in table.items():
        if not isinstance(iss, str) or not iss.strip():
            raise SettingError(f"{name}: an issuer must be a non-empty string")
        given = sorted(source) if isinstance(source, Mapping) else []
        if not isinstance(source, Mapping) or len(given) != 1 or given[0] not in _SOURCES:
            raise SettingError(
                f"{name}: issuer {iss!r} needs exactly one of 'jwks', 'jwks_file' or 'jku'"
            )
        if "jwks" in source:
            issuers[iss] = TrustedIssuer(iss, _static_keys(iss, source["jwks"], "jwks"))
        elif "jwks_file" in source:
            data = _read_jwks_file(iss, source["jwks_file"])
            issuers[iss] = TrustedIssuer(iss, _static_keys(iss, data, "jwks_file"))
        else:
            jku = source["jku"]
            if not isinstance(jku, str):
                raise SettingError(f"{name}: issuer {iss!r}: jku must be a URL")
            try:
                allowlist.check(jku, base=False)
            except FhirUrlNotAllowedError as exc:
                raise SettingError(
                    f"{name}: issuer {iss!r}: jku {jku} is refused ({exc.message}); "
                    f"list its prefix in {setting_name('CDS_JKU_ALLOWLIST')}"
                ) from exc
            keys = RemoteKeys(
                jku, timeout=timeout, cache_seconds=cache_seconds, min_refresh_seconds=min_refresh
            )
            issuers[iss] = TrustedIssuer(iss, keys, jku=jku)
    return issuers


def _replay_cache(config: Mapping[str, Any], clock: Callable[[], float]) -> ReplayCache:
    url = text_setting(config, "REDIS_URL")
    if url is None:
        return MemoryReplayCache(clock=clock)
    try:
        return RedisReplayCache(url, clock=clock)
    except ValueError as exc:
        raise SettingError(f"{setting_name('REDIS_URL')}: {exc}") from exc


# --- validation -----------------------------------------------------------------------


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise CdsTokenError("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise CdsTokenError("the Authorization scheme is not Bearer")
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_CHARS or any(c.isspace() for c in token):
        raise CdsTokenError("the bearer token is empty, too long or not one word")
    return token


def _number_claim(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if value is None:
        raise CdsTokenError(f"claim {name} is missing")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CdsTokenError(f"claim {name} is not a number")
    return float(value)


class CdsTokenValidator:
    """Validate CDS clients' bearer JWTs; build with :meth:`from_config`. Thread-safe."""

    def __init__(
        self,
        issuers: Mapping[str, TrustedIssuer],
        *,
        replay_cache: ReplayCache,
        clock_skew: float = 60,
        max_lifetime: float = 300,
        require_jti: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuers = dict(issuers)
        self.replay_cache = replay_cache
        self.clock_skew = clock_skew
        self.max_lifetime = max_lifetime
        self.require_jti = require_jti
        self._clock = clock

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        clock: Callable[[], float] = time.time,
        extra_issuers: Mapping[str, TrustedIssuer] | None = None,
    ) -> CdsTokenValidator:
        """Build from Flask config; raise :class:`SettingError` naming a bad setting.

        Inline and file JWK Sets are read now; ``jku`` sets on first use. Redis is not
        contacted until the first token (an unreachable Redis refuses tokens, it does not
        stop the service from starting). ``extra_issuers`` are trusted besides the
        configured ones (the development client in demo mode); configured ones win.
        """
        public_base_url(config)  # fail at start-up, not on the first call
        issuers = {**(extra_issuers or {}), **_issuers(config)}
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
        replay_cache = _replay_cache(config, clock)
        if not issuers:
            log.warning("NELM_CDS_CDS_ISSUERS is empty: every CDS Hooks call will get 401")
        log.info(
            "CDS Hooks tokens: %d trusted issuer(s), replay cache %s",
            len(issuers),
            type(replay_cache).__name__,
        )
        return cls(
            issuers,
            replay_cache=replay_cache,
            clock_skew=skew,
            max_lifetime=lifetime,
            require_jti=require_jti,
            clock=clock,
        )

    def close(self) -> None:
        """Release the replay cache's connections."""
        self.replay_cache.close()

    def validate(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """Return the verified claims of the bearer JWT in ``authorization`` (the raw
        ``Authorization`` header) for the endpoint URL ``audience``; raise
        :class:`CdsTokenError` for any failure."""
        token = _bearer(authorization)
        try:
            header = jwt.get_unverified_header(token)
            issuer, alg, kid = self._issuer_and_key_id(token, header)
            key = issuer.keys.key(kid, alg)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer.iss,
                options={
                    "require": ["iss", "aud", "exp", "iat"],
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
            raise CdsTokenError(refusal_reason(exc, token, audience)) from None
        exp = self._check_times(claims)
        self._check_replay(issuer.iss, claims, exp)
        return claims

    def _issuer_and_key_id(
        self, token: str, header: Mapping[str, Any]
    ) -> tuple[TrustedIssuer, str, str]:
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALGORITHMS:
            raise CdsTokenError(f"alg {_shown(alg)} refused (only ES384 and RS384)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise CdsTokenError("kid missing")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.upper() != "JWT":
            raise CdsTokenError(f"typ {_shown(typ)} refused (must be JWT)")
        unverified = jwt.decode(token, options={"verify_signature": False})
        iss = unverified.get("iss")
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise CdsTokenError(f"iss {_shown(iss)} is not a trusted CDS client")
        if issuer.jku is not None and "jku" in header and header["jku"] != issuer.jku:
            raise CdsTokenError(f"jku {_shown(header['jku'])} is not the one set for {iss}")
        return issuer, alg, kid

    def _check_times(self, claims: Mapping[str, Any]) -> float:
        now, skew = self._clock(), self.clock_skew
        exp, iat = _number_claim(claims, "exp"), _number_claim(claims, "iat")
        if now >= exp + skew:
            raise CdsTokenError("token expired")
        if iat > now + skew:
            raise CdsTokenError("iat is in the future")
        if "nbf" in claims and _number_claim(claims, "nbf") > now + skew:
            raise CdsTokenError("nbf is in the future")
        if exp <= iat:
            raise CdsTokenError("exp is not after iat")
        if exp - iat > self.max_lifetime:
            raise CdsTokenError(f"lifetime {exp - iat:.0f} s exceeds {self.max_lifetime} s")
        return exp

    def _check_replay(self, iss: str, claims: Mapping[str, Any], exp: float) -> None:
        jti = claims.get("jti")
        if jti is None and not self.require_jti:
            return
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_CHARS:
            raise CdsTokenError("jti missing, empty or too long")
        if not self.replay_cache.first_use(replay_key(iss, jti), exp + self.clock_skew):
            raise CdsTokenError(f"jti already used (iss {iss})")
