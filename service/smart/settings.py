"""The SMART launch settings, read and checked once at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from service.fhir import Allowlist, FhirUrlNotAllowedError, parse_url
from service.public_url import public_base_url
from service.settings import SettingError, allowlist_from, fhir_timeouts, text_setting
from service.smart import DEFAULT_SMART_SCOPE

__all__ = ["CALLBACK_PATH", "SmartSettings"]

CALLBACK_PATH = "/smart/callback"


@dataclass(frozen=True)
class SmartSettings:
    """The SMART launch settings, checked (bad ones raise :class:`SettingError`)."""

    client_id: str | None
    client_secret: str | None = field(repr=False)
    redirect_uri: str
    scope: str
    allowlist: Allowlist
    timeout: tuple[float, float]
    https: bool
    """``PUBLIC_BASE_URL`` is https: cookies are ``Secure`` and ``SameSite=None``."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmartSettings:
        """Read ``SMART_*``, ``PUBLIC_BASE_URL`` and the FHIR allowlist and timeouts."""
        base = public_base_url(config)
        redirect_uri = text_setting(config, "SMART_REDIRECT_URI") or base + CALLBACK_PATH
        try:
            parse_url(redirect_uri, base=False, allow_http=True)
        except FhirUrlNotAllowedError as exc:
            raise SettingError(f"NELM_CDS_SMART_REDIRECT_URI: {exc.message}") from exc
        scope = " ".join((text_setting(config, "SMART_SCOPE") or DEFAULT_SMART_SCOPE).split())
        if "launch" not in scope.split():
            raise SettingError("NELM_CDS_SMART_SCOPE must include launch (EHR launch)")
        return cls(
            client_id=text_setting(config, "SMART_CLIENT_ID"),
            client_secret=text_setting(config, "SMART_CLIENT_SECRET"),
            redirect_uri=redirect_uri,
            scope=scope,
            allowlist=allowlist_from(config),
            timeout=fhir_timeouts(config),
            https=base.startswith("https://"),
        )
