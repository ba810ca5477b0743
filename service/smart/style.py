"""The EHR's SMART style settings (``smart_style_url``): fetched, checked, and as CSS.

SMART App Launch lets the EHR say how apps should look (colours, fonts, sizes) in a JSON
document at ``smart_style_url``. The service fetches it once per launch, only from the
launch's own FHIR server origin (nothing else on a token response's say), keeps the
values that are plainly a colour, a length or a font list, and serves them as a small
stylesheet for that session (the page's Content-Security-Policy allows only its own
stylesheets; nothing from the EHR is inlined). A document that cannot be had or read
leaves the page's own look.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

from service.auth.keys import TokenError, download_json
from service.smart.context import STYLE_KEYS

__all__ = ["smart_style", "style_css"]

log = logging.getLogger(__name__)

_COLOUR = re.compile(r"#[0-9A-Fa-f]{3,8}")
_LENGTH = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,2})?(?:px|rem|em)")
_FONTS = re.compile(r"[A-Za-z0-9 ,'\"\-]{1,100}")
MAX_STYLE_BYTES = 16 * 1024


class _Settings(Protocol):
    @property
    def timeout(self) -> tuple[float, float]: ...


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _checked(document: object) -> dict[str, str]:
    if not isinstance(document, Mapping):
        return {}
    found: dict[str, str] = {}
    for key in STYLE_KEYS:
        value = document.get(key)
        if not isinstance(value, str):
            continue
        pattern = (
            _COLOUR if key.startswith("color_") else _LENGTH if key.startswith("dim_") else _FONTS
        )
        if pattern.fullmatch(value.strip()):
            found[key] = value.strip()
    return found


def smart_style(url: str | None, fhir_base_url: str, settings: _Settings) -> dict[str, str]:
    """Return the checked style settings at ``url`` (empty when none or unusable)."""
    if not url:
        return {}
    if _origin(url) != _origin(fhir_base_url):
        log.info("SMART style not fetched: smart_style_url is on another origin")
        return {}
    try:
        document = download_json(url, timeout=settings.timeout[1], limit=MAX_STYLE_BYTES)
    except TokenError as exc:
        log.info("SMART style not fetched: %s", exc)
        return {}
    return _checked(document)


def style_css(style: Mapping[str, str]) -> str:
    """Return the page's CSS for checked style settings (overrides of its variables)."""
    rules = []
    colours = {
        "color_text": "--text",
        "color_highlight": "--link",
        "color_error": "--no-line",
        "color_success": "--ok-line",
    }
    variables = [f"  {name}: {style[key]};" for key, name in colours.items() if key in style]
    if variables:
        rules.append(":root {\n" + "\n".join(variables) + "\n}")
    body = []
    if "color_background" in style:
        body.append(f"  background: {style['color_background']};")
    if "font_family_body" in style:
        body.append(f"  font-family: {style['font_family_body']};")
    if body:
        rules.append("@media screen {\n body {\n" + "\n".join(body) + "\n }\n}")
    if "font_family_heading" in style:
        rules.append(f"h1, h2, h3 {{ font-family: {style['font_family_heading']}; }}")
    return "\n".join(rules) + "\n"
