"""The public base URL: where EHRs and browsers reach the service.

CDS Hooks token audiences, card links, clinician-page links and SMART redirect URIs
are all built from it, never from the ``Host`` header. ``PUBLIC_BASE_URL`` sets it; by
default it is the address the service is bound to, ``http://<HOST>:<PORT>`` (a
wildcard bind, ``0.0.0.0`` or ``::``, becomes ``127.0.0.1``), so changing
``NELM_CDS_PORT`` moves the links with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from service.settings import SettingError, setting_name, text_setting

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "bound_base_url", "public_base_url"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
_WILDCARDS = frozenset({"0.0.0.0", "::", "[::]", ""})


def bound_base_url(config: Mapping[str, Any]) -> str:
    """Return ``http://<HOST>:<PORT>`` from the bind settings (defaults 127.0.0.1:8080)."""
    host = str(config.get("HOST") or DEFAULT_HOST).strip()
    if host in _WILDCARDS:
        host = DEFAULT_HOST
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = config.get("PORT", DEFAULT_PORT)
    if isinstance(port, bool) or not str(port).strip().isdigit() or not 0 < int(port) < 65536:
        raise SettingError(f"{setting_name('PORT')} must be a port number (1-65535)")
    return f"http://{host}:{int(port)}"


def public_base_url(config: Mapping[str, Any]) -> str:
    """Return ``PUBLIC_BASE_URL`` without its trailing slash, else :func:`bound_base_url`.

    Raise :class:`SettingError` naming the setting when it is not an http(s) URL with a
    host, or holds credentials, a query or a fragment.
    """
    value = text_setting(config, "PUBLIC_BASE_URL") or bound_base_url(config)
    url = value.rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise SettingError(f"{setting_name('PUBLIC_BASE_URL')} is not a URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingError(f"{setting_name('PUBLIC_BASE_URL')} must be an http(s) URL with a host")
    if parts.query or parts.fragment or "@" in parts.netloc or "?" in url or "#" in url:
        raise SettingError(
            f"{setting_name('PUBLIC_BASE_URL')} cannot hold credentials, a query or a fragment"
        )
    return url
