"""Build the data source from the Flask config; bad settings fail naming the setting.

With no ``FHIR_BASE_URL`` the service runs on the embedded demo store. With one, it
reads patients from that FHIR server, which must be on ``FHIR_ALLOWLIST`` (default:
the base URL alone), authenticated by a static bearer ``FHIR_TOKEN`` or by SMART
Backend Services (``FHIR_CLIENT_ID`` + ``FHIR_PRIVATE_KEY_FILE`` + ``FHIR_KEY_ID``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from service.config import defaults
from service.config.model import MAX_DEADLINE_SECONDS
from service.config.readers import (
    SettingError,
    flag_setting,
    number_setting,
    setting_name,
    text_setting,
)
from service.demo_store import DemoStore
from service.fhir import Allowlist, Auth, BearerToken, FhirClient, SmartBackendServices
from service.mappers import Terminology
from service.sources import DemoSource, FhirSource, PatientSource

__all__ = [
    "SettingError",
    "allowlist_from",
    "build_source",
    "fhir_auth",
    "fhir_timeouts",
    "flag_setting",
    "number_setting",
    "setting_name",
    "text_setting",
]

SOURCE_DEFAULTS: dict[str, Any] = defaults(
    "FHIR_BASE_URL",
    "FHIR_ALLOWLIST",
    "FHIR_TOKEN",
    "FHIR_CLIENT_ID",
    "FHIR_PRIVATE_KEY_FILE",
    "FHIR_KEY_ID",
    "FHIR_ALG",
    "FHIR_TOKEN_URL",
    "FHIR_SCOPE",
    "FHIR_CONNECT_TIMEOUT",
    "FHIR_READ_TIMEOUT",
    "FHIR_RETRIES",
    "FHIR_ALLOW_HTTP",
    "FHIR_DEADLINE_SECONDS",
    "CDS_DEADLINE_SECONDS",
)


def fhir_timeouts(config: Mapping[str, Any]) -> tuple[float, float]:
    """Return the (connect, read) timeout in seconds for FHIR calls."""
    return (
        number_setting(config, "FHIR_CONNECT_TIMEOUT", integer=False, zero_allowed=False),
        number_setting(config, "FHIR_READ_TIMEOUT", integer=False, zero_allowed=False),
    )


def fhir_deadlines(config: Mapping[str, Any]) -> tuple[float, float]:
    """Return the overall deadline for one request's FHIR work, in seconds: for the REST
    API and the pages (``FHIR_DEADLINE_SECONDS``, 15), and for CDS Hooks calls
    (``CDS_DEADLINE_SECONDS``, 5). Both stay below the server's 20 s worker timeout."""
    found = []
    for name in ("FHIR_DEADLINE_SECONDS", "CDS_DEADLINE_SECONDS"):
        seconds = number_setting(
            config, name, integer=False, zero_allowed=False, default=SOURCE_DEFAULTS[name]
        )
        if seconds > MAX_DEADLINE_SECONDS:
            raise SettingError(
                f"{setting_name(name)} must be at most {MAX_DEADLINE_SECONDS} s (the "
                "server's worker timeout is 20 s)"
            )
        found.append(float(seconds))
    return found[0], found[1]


def allowlist_from(config: Mapping[str, Any]) -> Allowlist:
    """Return the FHIR allowlist: ``FHIR_ALLOWLIST`` (comma-separated base URLs), else
    the configured base URL, else nothing."""
    listed = text_setting(config, "FHIR_ALLOWLIST")
    base = text_setting(config, "FHIR_BASE_URL")
    entries = [e.strip() for e in listed.split(",") if e.strip()] if listed else []
    # The error names the variable the bad URL was written in: with no allowlist set,
    # that is the base URL (the allowlist's default), not NELM_CDS_FHIR_ALLOWLIST.
    origin = "NELM_CDS_FHIR_ALLOWLIST"
    if not entries and base:
        entries, origin = [base], "NELM_CDS_FHIR_BASE_URL"
    allow_http = flag_setting(config, "FHIR_ALLOW_HTTP")
    try:
        return Allowlist(entries, allow_http=allow_http)
    except ValueError as exc:
        raise SettingError(f"{origin}: {exc}") from exc


def _auth(config: Mapping[str, Any], timeout: tuple[float, float]) -> Auth | None:
    token = text_setting(config, "FHIR_TOKEN")
    client_id = text_setting(config, "FHIR_CLIENT_ID")
    if token and client_id:
        raise SettingError("set NELM_CDS_FHIR_TOKEN or NELM_CDS_FHIR_CLIENT_ID, not both")
    if token:
        return BearerToken(token)
    if not client_id:
        return None
    key_file, kid = (
        text_setting(config, "FHIR_PRIVATE_KEY_FILE"),
        text_setting(config, "FHIR_KEY_ID"),
    )
    if not key_file or not kid:
        raise SettingError(
            "SMART Backend Services needs NELM_CDS_FHIR_PRIVATE_KEY_FILE and NELM_CDS_FHIR_KEY_ID"
        )
    try:
        key = Path(key_file).read_bytes()
    except OSError as exc:
        raise SettingError(f"NELM_CDS_FHIR_PRIVATE_KEY_FILE: cannot read {key_file}") from exc
    try:
        return SmartBackendServices(
            client_id,
            key,
            kid=kid,
            scope=text_setting(config, "FHIR_SCOPE") or SOURCE_DEFAULTS["FHIR_SCOPE"],
            alg=text_setting(config, "FHIR_ALG") or "RS384",
            token_url=text_setting(config, "FHIR_TOKEN_URL"),  # None: discovered from the server
            timeout=timeout,
        )
    except ValueError as exc:
        raise SettingError(f"SMART Backend Services settings: {exc}") from exc


def fhir_auth(config: Mapping[str, Any], timeout: tuple[float, float]) -> Auth | None:
    """Return how to authenticate to the FHIR server (``FHIR_TOKEN`` or SMART Backend
    Services), or ``None``; :class:`SettingError` for an incomplete setup."""
    return _auth(config, timeout)


def build_source(config: Mapping[str, Any], terminology: Terminology) -> PatientSource:
    """Return the demo store, or a FHIR source for ``FHIR_BASE_URL``."""
    base_url = text_setting(config, "FHIR_BASE_URL")
    if base_url is None:
        return DemoSource(DemoStore.load())
    allowlist = allowlist_from(config)
    if base_url not in allowlist:
        raise SettingError(f"NELM_CDS_FHIR_BASE_URL {base_url} is not on NELM_CDS_FHIR_ALLOWLIST")
    timeout = fhir_timeouts(config)
    client = FhirClient(
        base_url,
        allowlist=allowlist,
        auth=_auth(config, timeout),
        timeout=timeout,
        retries=number_setting(config, "FHIR_RETRIES", integer=True, zero_allowed=True),
    )
    return FhirSource(client, terminology)
