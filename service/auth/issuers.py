"""Read a table of trusted token issuers from a setting (``CDS_ISSUERS``, ``API_ISSUERS``).

The setting is a JSON object (or a dict) ``{"<iss>": <key source>}`` where the key
source is exactly one of:

- ``{"jwks": {"keys": [...]}}``: a JWK Set inline;
- ``{"jwks_file": "/path/jwks.json"}``: a JWK Set in a file, read at start-up;
- ``{"jku": "https://..."}``: a JWK Set URL, which must lie under the ``jku`` allowlist;
- ``{"discovery": true}`` (where allowed): OpenID Connect discovery. The keys are at
  the ``jwks_uri`` of ``<iss>/.well-known/openid-configuration``, whose ``issuer`` must
  equal ``<iss>``; read on first use, so the service starts while the identity provider
  is down. A JSON array of issuer URLs is short for discovery on each.

Remote sets are fetched lazily and cached (see :class:`~service.auth.keys.RemoteKeys`).
Bad entries raise :class:`~service.settings.SettingError` naming the setting and issuer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.auth.keys import (
    RemoteKeys,
    SharedDocuments,
    StaticKeys,
    TokenError,
    download_json,
    parse_jwks,
)
from service.auth.tokens import TrustedIssuer
from service.config import defaults
from service.fhir.allowlist import Allowlist, parse_url
from service.fhir.errors import FhirUrlNotAllowedError
from service.settings import SettingError, number_setting, setting_name, text_setting

__all__ = [
    "KEY_FETCH_DEFAULTS",
    "KeyFetching",
    "discovered_jwks_uri",
    "jku_allowlist",
    "key_fetching",
    "trusted_issuers",
]

WELL_KNOWN_OIDC = "/.well-known/openid-configuration"
MAX_DISCOVERY_BYTES = 64 * 1024

KEY_FETCH_DEFAULTS: dict[str, Any] = defaults(
    "CDS_JWKS_TIMEOUT_SECONDS",
    "CDS_JWKS_CACHE_SECONDS",
    "CDS_JWKS_MIN_REFRESH_SECONDS",
)
"""How remote key sets (``jku``, discovered ``jwks_uri``) of CDS clients and of the REST
API's authorization servers are fetched: timeout, cache time, least time between two
fetches. The names are historical: they apply to both."""


@dataclass(frozen=True)
class KeyFetching:
    """How remote key sets are fetched and kept."""

    timeout: float
    cache_seconds: float
    min_refresh_seconds: float
    shared: SharedDocuments | None = None


def _seconds(config: Mapping[str, Any], name: str, *, zero_allowed: bool) -> Any:
    return number_setting(
        config, name, integer=False, zero_allowed=zero_allowed, default=KEY_FETCH_DEFAULTS[name]
    )


def key_fetching(config: Mapping[str, Any], shared: SharedDocuments | None = None) -> KeyFetching:
    """Return how remote JWK Sets are fetched (the ``CDS_JWKS_*`` settings)."""
    return KeyFetching(
        timeout=_seconds(config, "CDS_JWKS_TIMEOUT_SECONDS", zero_allowed=False),
        cache_seconds=_seconds(config, "CDS_JWKS_CACHE_SECONDS", zero_allowed=False),
        min_refresh_seconds=_seconds(config, "CDS_JWKS_MIN_REFRESH_SECONDS", zero_allowed=True),
        shared=shared,
    )


def jku_allowlist(config: Mapping[str, Any], name: str) -> Allowlist:
    """Return the URL prefixes of setting ``name`` (comma-separated; https, or http to
    loopback) that a ``jku`` may lie under."""
    listed = text_setting(config, name) or ""
    try:
        return Allowlist(entry.strip() for entry in listed.split(",") if entry.strip())
    except ValueError as exc:
        raise SettingError(f"{setting_name(name)}: {exc}") from exc


def _table(config: Mapping[str, Any], name: str, allow_discovery: bool) -> dict[str, Any]:
    value = config.get(name)
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise SettingError(f"{setting_name(name)} is not valid JSON: {exc}") from exc
    if allow_discovery and isinstance(value, list):
        return {iss: {"discovery": True} for iss in value}
    if not isinstance(value, Mapping):
        raise SettingError(f"{setting_name(name)} must be a JSON object of issuer: key source")
    return dict(value)


def _static_keys(
    name: str, iss: str, data: object, where: str, algorithms: frozenset[str]
) -> StaticKeys:
    try:
        keys = parse_jwks(data, algorithms)
    except ValueError as exc:
        raise SettingError(f"{setting_name(name)}: issuer {iss!r}: {where}: {exc}") from exc
    if not keys:
        accepted = ", ".join(sorted(algorithms))
        raise SettingError(
            f"{setting_name(name)}: issuer {iss!r}: {where} has no usable key (public, with "
            f"a kid, for {accepted}; RSA of 2048 bits or more)"
        )
    return StaticKeys(keys, where=f"the {where} of {iss}")


def _read_jwks_file(name: str, iss: str, path: object) -> object:
    if not isinstance(path, str) or not path:
        raise SettingError(f"{setting_name(name)}: issuer {iss!r}: jwks_file must be a path")
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingError(
            f"{setting_name(name)}: issuer {iss!r}: cannot read jwks_file {path}"
        ) from exc
    except ValueError as exc:
        raise SettingError(
            f"{setting_name(name)}: issuer {iss!r}: jwks_file {path} is not JSON"
        ) from exc


def discovered_jwks_uri(issuer: str, *, timeout: float) -> str:
    """Return the ``jwks_uri`` of ``issuer``'s OpenID Connect discovery document; raise
    :class:`TokenError` when it cannot be had, names another issuer, or is not safe."""
    document = download_json(
        issuer.rstrip("/") + WELL_KNOWN_OIDC, timeout=timeout, limit=MAX_DISCOVERY_BYTES
    )
    if not isinstance(document, dict):
        raise TokenError("the discovery document is not a JSON object")
    if document.get("issuer") != issuer:
        raise TokenError("the discovery document names another issuer")
    uri = document.get("jwks_uri")
    if not isinstance(uri, str):
        raise TokenError("the discovery document has no jwks_uri")
    try:
        parse_url(uri, base=False)
    except FhirUrlNotAllowedError as exc:
        raise TokenError(f"the jwks_uri is not a safe URL ({exc.message})") from exc
    return uri


def _remote(url: str | Any, algorithms: frozenset[str], fetching: KeyFetching) -> RemoteKeys:
    return RemoteKeys(
        url,
        algorithms=algorithms,
        timeout=fetching.timeout,
        cache_seconds=fetching.cache_seconds,
        min_refresh_seconds=fetching.min_refresh_seconds,
        shared=fetching.shared,
    )


def trusted_issuers(
    config: Mapping[str, Any],
    name: str,
    *,
    algorithms: frozenset[str],
    allowlist: Allowlist,
    allowlist_name: str,
    fetching: KeyFetching,
    allow_discovery: bool = False,
) -> dict[str, TrustedIssuer]:
    """Return the issuers of setting ``name``; raise :class:`SettingError` for a bad one."""
    sources = ("jwks", "jwks_file", "jku", *(("discovery",) if allow_discovery else ()))
    issuers: dict[str, TrustedIssuer] = {}
    for iss, source in _table(config, name, allow_discovery).items():
        where = f"{setting_name(name)}: issuer {iss!r}"
        if not isinstance(iss, str) or not iss.strip():
            raise SettingError(f"{setting_name(name)}: an issuer must be a non-empty string")
        given = sorted(source) if isinstance(source, Mapping) else []
        if not isinstance(source, Mapping) or len(given) != 1 or given[0] not in sources:
            named = ", ".join(repr(s) for s in sources)
            raise SettingError(f"{where} needs exactly one of {named}")
        if "jwks" in source:
            keys = _static_keys(name, iss, source["jwks"], "jwks", algorithms)
            issuers[iss] = TrustedIssuer(iss, keys)
        elif "jwks_file" in source:
            data = _read_jwks_file(name, iss, source["jwks_file"])
            issuers[iss] = TrustedIssuer(
                iss, _static_keys(name, iss, data, "jwks_file", algorithms)
            )
        elif "jku" in source:
            jku = source["jku"]
            if not isinstance(jku, str):
                raise SettingError(f"{where}: jku must be a URL")
            try:
                allowlist.check(jku, base=False)
            except FhirUrlNotAllowedError as exc:
                raise SettingError(
                    f"{where}: jku {jku} is refused ({exc.message}); "
                    f"list its prefix in {setting_name(allowlist_name)}"
                ) from exc
            issuers[iss] = TrustedIssuer(iss, _remote(jku, algorithms, fetching), jku=jku)
        else:
            if source["discovery"] is not True:
                raise SettingError(f"{where}: discovery must be true")
            try:
                parse_url(iss.rstrip("/") + WELL_KNOWN_OIDC, base=False)
            except FhirUrlNotAllowedError as exc:
                raise SettingError(f"{where}: not an https issuer URL ({exc.message})") from exc
            timeout = fetching.timeout

            def resolve(issuer: str = iss, timeout: float = timeout) -> str:
                return discovered_jwks_uri(issuer, timeout=timeout)

            issuers[iss] = TrustedIssuer(iss, _remote(resolve, algorithms, fetching))
    return issuers
