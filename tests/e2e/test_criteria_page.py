"""The criteria documentation page in a real browser, at desktop and EHR side-panel width,
with full-page screenshots kept in ``test-artifacts/screenshots/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.criteria import DEFAULT_SETS
from service.criteria.sources import SOURCES

WIDE, SIDE_PANEL = 1400, 420


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """Yield a new tab that records console errors and every URL it requests."""
    tab = browser.new_page()
    tab.console_errors = []
    tab.requested = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            tab.console_errors.append(message.text)

    tab.on("console", on_console)
    tab.on("request", lambda r: tab.requested.append(r.url))
    try:
        yield tab
    finally:
        tab.close()


def open_criteria(page: Any, server: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto(f"{server}/criteria")
    assert response is not None
    assert response.status == 200


@pytest.mark.parametrize("width", [WIDE, SIDE_PANEL])
def test_the_criteria_page_renders_every_set_and_criterion_readably(
    page: Any, server: str, artifacts: Path, width: int
) -> None:
    open_criteria(page, server, width)
    page.screenshot(path=str(artifacts / "screenshots" / f"criteria-{width}.png"), full_page=True)

    assert page.locator("h1").inner_text() == "Eligibility criteria and their sources"
    assert page.locator(".mdt-statement").is_visible()
    for criteria_set in DEFAULT_SETS:
        section = page.locator(f"#{criteria_set.id}")
        assert section.locator("h2").first.is_visible()
        assert section.locator(".doc-criterion").count() == len(criteria_set.criteria)
        assert section.locator(".attributes tbody tr").count() == 14
    assert page.locator(".doc-source").count() == len(SOURCES)

    # nothing wider than the window: no sideways scrolling in an EHR side panel
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    # styled by its own stylesheets, nothing fetched elsewhere, no CSP complaint
    border = page.locator(".rule--unknown").first.evaluate(
        "e => getComputedStyle(e).borderTopStyle"
    )
    assert border == "dashed"
    assert page.console_errors == []
    assert all(url.startswith(server) for url in page.requested), page.requested


def rule_boxes(page: Any) -> list[dict[str, float]]:
    rules = page.locator("#milan-net-low_grade .rule")
    return [rules.nth(i).bounding_box() for i in range(rules.count())]


def test_at_desktop_width_the_three_rules_of_a_criterion_stand_side_by_side(
    page: Any, server: str
) -> None:
    open_criteria(page, server, WIDE)
    boxes = rule_boxes(page)
    assert len(boxes) == 3
    assert len({round(box["y"]) for box in boxes}) == 1
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]


def test_in_a_side_panel_the_rules_stack_in_reading_order(page: Any, server: str) -> None:
    open_criteria(page, server, SIDE_PANEL)
    boxes = rule_boxes(page)
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
    assert all(box["x"] + box["width"] <= SIDE_PANEL for box in boxes)


def test_the_clinician_pages_criteria_link_opens_the_criteria_page(page: Any, server: str) -> None:
    page.set_viewport_size({"width": WIDE, "height": 900})
    page.goto(f"{server}/patients/demo-transplant/evaluation?at=2026-11-22")
    page.get_by_role("link", name="criteria definitions and sources").click()
    page.wait_for_load_state()
    assert page.url == f"{server}/criteria"
    assert page.locator("h1").inner_text() == "Eligibility criteria and their sources"
