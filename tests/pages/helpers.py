"""Helpers for the clinician-page tests: the app, an HTML tree, the demo expectations."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask import Flask

from service.app import create_app
from service.pages import init_app
from tests.conftest import FHIR_SERVICE_SETTINGS

TESTS = Path(__file__).resolve().parents[1]
DEMO_EXPECTED = TESTS / "fixtures" / "demo_expected"
DEMO_PATIENTS = sorted(p.name.removesuffix(".expected.json") for p in DEMO_EXPECTED.iterdir())
AT = "2026-11-22"
FHIR_BASE = "https://fhir.example.test/r4"
SELF = "https://cds.example.test"
SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
SET_STATUS_TEXT = {
    "eligible": "Eligible",
    "ineligible": "Not eligible",
    "indeterminate": "Indeterminate",
}
CRITERION_STATUS_TEXT = {"met": "Met", "not_met": "Not met", "unknown": "Unknown"}


def make_app(**config: Any) -> Flask:
    """Create the app with ``config``; register the page if ``create_app`` does not yet."""
    app = create_app({"TESTING": True, "PUBLIC_BASE_URL": SELF, **config})
    if "pages" not in app.blueprints:
        init_app(app)
    return app


def fhir_app(**config: Any) -> Flask:
    """Create the app reading patients from ``FHIR_BASE`` (played by ``responses``)."""
    defaults: dict[str, Any] = {
        **FHIR_SERVICE_SETTINGS,
        "FHIR_BASE_URL": FHIR_BASE,
        "PAGE_LINK_SECRET": SECRET,
        "FHIR_RETRIES": 0,
        "FHIR_CONNECT_TIMEOUT": 0.5,
        "FHIR_READ_TIMEOUT": 0.5,
    }
    return make_app(**{**defaults, **config})


def expected(patient_id: str) -> dict[str, Any]:
    """Return the expected statuses of a demo patient as of ``AT``."""
    data: dict[str, Any] = json.loads(
        (DEMO_EXPECTED / f"{patient_id}.expected.json").read_text(encoding="utf-8")
    )
    return data


# --- a small HTML tree (stdlib only) ----------------------------------------------------

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
)


@dataclass
class Node:
    """An element: its tag, attributes, children and text."""

    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list, repr=False)
    parts: list[str | Node] = field(default_factory=list, repr=False)

    def text(self) -> str:
        """Return the element's text, whitespace collapsed."""
        return " ".join(self._raw_text().split())

    def _raw_text(self) -> str:
        return "".join(p if isinstance(p, str) else p._raw_text() for p in self.parts)

    def iter(self) -> list[Node]:
        """Return this element and every element under it, in document order."""
        found = [self]
        for child in self.children:
            found.extend(child.iter())
        return found

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        """Return elements with ``tag`` (any when None) whose attributes contain ``attrs``
        (``class_`` matches one class among several)."""
        matches = []
        for node in self.iter():
            if tag is not None and node.tag != tag:
                continue
            if all(_attr_matches(node, name, value) for name, value in attrs.items()):
                matches.append(node)
        return matches

    def by_id(self, element_id: str) -> Node:
        """Return the one element with this id."""
        found = self.find_all(id=element_id)
        assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
        return found[0]


def _attr_matches(node: Node, name: str, value: str) -> bool:
    if name == "class_":
        return value in node.attrs.get("class", "").split()
    return node.attrs.get(name) == value


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        parent = self.stack[-1]
        parent.children.append(node)
        parent.parts.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].parts.append(data)


def parse_html(text: str) -> Node:
    """Parse an HTML page (strictly nested, as our templates write it) into a tree."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root
