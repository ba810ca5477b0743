"""Make renderer SVG safe to inline under a strict Content-Security-Policy.

A page whose CSP has no ``'unsafe-inline'`` for styles ignores ``style="..."``
attributes and ``<style>`` elements (and any script). SVG's presentation attributes
(``fill="#fff"``) are not styles in the CSP sense, so every style declaration is moved
into the attribute of the same name; the CSS ``font`` shorthand is split into
``font-size``/``font-family``/``font-weight``/``font-style``. Scripts, event-handler
attributes, metadata and foreign references are removed; ids get a prefix so several
charts can share one page; definitions (clip paths) move to the front, where every
SVG reader finds them; the root gets ``role="img"``, a ``<title>`` and a ``<desc>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

__all__ = ["inline_safe_svg"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

_PRESENTATION = frozenset(
    {
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-opacity",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-miterlimit",
        "opacity",
        "font-size",
        "font-family",
        "font-weight",
        "font-style",
        "text-anchor",
        "dominant-baseline",
        "clip-rule",
        "display",
        "visibility",
        "color",
        "letter-spacing",
        "word-spacing",
        "text-decoration",
    }
)
_DROP = frozenset(
    {
        f"{{{SVG_NS}}}script",
        f"{{{SVG_NS}}}style",
        f"{{{SVG_NS}}}metadata",
        f"{{{SVG_NS}}}foreignObject",
    }
)
_URL_REF = re.compile(r"url\(#([^)]+)\)")
_FONT_SIZE = re.compile(r"^\d+(?:\.\d+)?(?:px|pt|em|%)$")
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,40}")
_HREFS = (f"{{{XLINK_NS}}}href", "href")


def _declarations(style: str) -> list[tuple[str, str]]:
    out = []
    for part in style.split(";"):
        name, sep, value = part.partition(":")
        if sep and name.strip() and value.strip():
            out.append((name.strip().lower(), value.strip()))
    return out


def _font(value: str) -> list[tuple[str, str]]:
    """Split the ``font`` shorthand matplotlib writes (``[style] [weight] size family``)."""
    words = value.split(" ")
    out: list[tuple[str, str]] = []
    for index, word in enumerate(words):
        if _FONT_SIZE.match(word):
            out.append(("font-size", word))
            family = " ".join(words[index + 1 :]).strip()
            if family:
                out.append(("font-family", family))
            break
        if word in ("italic", "oblique"):
            out.append(("font-style", word))
        elif word in ("bold", "bolder", "lighter") or word.isdigit():
            out.append(("font-weight", word))
    return out


def _move_styles(element: ET.Element) -> None:
    style = element.attrib.pop("style", None)
    if style is None:
        return
    for name, value in _declarations(style):
        for attribute, item in _font(value) if name == "font" else [(name, value)]:
            if attribute in _PRESENTATION:
                element.set(attribute, item)


def _prefix_ids(root: ET.Element, prefix: str) -> None:
    for element in root.iter():
        if "id" in element.attrib:
            element.set("id", f"{prefix}_{element.attrib['id']}")
        for name, value in list(element.attrib.items()):
            if name in _HREFS:
                if value.startswith("#"):
                    element.set(name, f"#{prefix}_{value[1:]}")
                else:
                    del element.attrib[name]  # never reference anything outside the chart
            elif "url(#" in value:
                element.set(name, _URL_REF.sub(lambda m: f"url(#{prefix}_{m.group(1)})", value))


def _strip(root: ET.Element) -> None:
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in _DROP:
                parent.remove(child)
        for name in [n for n in parent.attrib if n.lower().startswith("on")]:
            del parent.attrib[name]


def inline_safe_svg(markup: str, *, id_prefix: str, title: str, description: str) -> str:
    """Return ``markup`` (an SVG document) as an inline-safe ``<svg>`` element string.

    ``id_prefix`` (a letter, then letters, digits or ``_``) must be unique on the page.
    """
    if not _PREFIX.fullmatch(id_prefix):
        raise ValueError("id_prefix must be a letter followed by letters, digits or _")
    root = ET.fromstring(markup)
    had_style = root.find(f".//{{{SVG_NS}}}style") is not None
    _strip(root)
    for element in root.iter():
        _move_styles(element)
    if had_style:  # matplotlib's only rule: *{stroke-linejoin: round; stroke-linecap: butt}
        root.set("stroke-linejoin", "round")
        root.set("stroke-linecap", "butt")
    _prefix_ids(root, id_prefix)
    for defs in [child for child in root if child.tag == f"{{{SVG_NS}}}defs"]:
        root.remove(defs)  # definitions first: some readers resolve references in order
        if len(defs):
            root.insert(0, defs)
    title_element = ET.Element(f"{{{SVG_NS}}}title", {"id": f"{id_prefix}-title"})
    title_element.text = title
    desc_element = ET.Element(f"{{{SVG_NS}}}desc", {"id": f"{id_prefix}-desc"})
    desc_element.text = description
    root.insert(0, desc_element)
    root.insert(0, title_element)
    root.set("role", "img")
    root.set("aria-labelledby", f"{id_prefix}-title {id_prefix}-desc")
    root.set("class", "chart")
    return ET.tostring(root, encoding="unicode")
