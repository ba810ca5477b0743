"""Print CDS Hooks cards for a person at a terminal."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["render_cards", "render_services"]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def render_services(discovery: Mapping[str, Any]) -> str:
    """Return one line per CDS Service of a discovery answer."""
    services = discovery.get("services")
    lines = []
    for service in services if isinstance(services, list) else []:
        if isinstance(service, dict):
            lines.append(
                f"  {_text(service.get('id'))} (hook {_text(service.get('hook'))}): "
                f"{_text(service.get('title'))}"
            )
    return "\n".join(lines) or "  (no services)"


def _render_card(card: Mapping[str, Any]) -> list[str]:
    indicator = _text(card.get("indicator")).upper() or "CARD"
    lines = [f"[{indicator}] {_text(card.get('summary'))}"]
    source = card.get("source")
    if isinstance(source, dict) and _text(source.get("label")):
        lines.append(f"  source: {source['label']}")
    detail = _text(card.get("detail"))
    for paragraph in detail.splitlines():
        wrapped = textwrap.wrap(paragraph, width=96, subsequent_indent="      ") or [""]
        lines.extend(f"  {line}" for line in wrapped)
    links = card.get("links")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict):
            kind = _text(link.get("type")) or "absolute"
            lines.append(f"  link ({kind}): {_text(link.get('label'))} -> {_text(link.get('url'))}")
    suggestions = card.get("suggestions")
    for suggestion in suggestions if isinstance(suggestions, list) else []:
        if isinstance(suggestion, dict):
            lines.append(f"  suggestion: {_text(suggestion.get('label'))}")
    return lines


def render_cards(cards: Sequence[Any]) -> str:
    """Return the cards as readable text (``no card`` when the list is empty)."""
    if not cards:
        return "no card (the service has nothing to say for this patient)"
    blocks = ["\n".join(_render_card(card)) for card in cards if isinstance(card, dict)]
    return "\n\n".join(blocks)
