"""The clinician page in a real browser: every demo patient at desktop and EHR side-panel
width, with screenshots kept in ``test-artifacts/screenshots/``, and printed to PDF."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.criteria import DEFAULT_SETS
from tests.pages.helpers import AT, DEMO_PATIENTS, SET_STATUS_TEXT, expected

WIDE, SIDE_PANEL = 1280, 400
SET_IDS = [s.id for s in DEFAULT_SETS]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """Yield a new tab that records console errors and every URL it requests."""
    tab = browser.new_page()
    tab.console_errors = []
    tab.requested = []

    def on_console(message: Any) -> None:
        # The browser asks for /favicon.ico on its own; the page names no icon.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            tab.console_errors.append(message.text)

    tab.on("console", on_console)
    tab.on("request", lambda r: tab.requested.append(r.url))
    try:
        yield tab
    finally:
        tab.close()


def open_page(page: Any, server: str, patient_id: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto(f"{server}/patients/{patient_id}/evaluation?at={AT}")
    assert response is not None
    assert response.status == 200


def boxes(page: Any) -> list[dict[str, float]]:
    return [page.locator(f"#set-{set_id}").bounding_box() for set_id in SET_IDS]


@pytest.mark.parametrize("width", [WIDE, SIDE_PANEL])
@pytest.mark.parametrize("patient_id", DEMO_PATIENTS)
def test_the_page_renders_with_its_statuses_visible(
    page: Any, server: str, artifacts: Path, patient_id: str, width: int
) -> None:
    open_page(page, server, patient_id, width)
    page.screenshot(
        path=str(artifacts / "screenshots" / f"{patient_id}-{width}.png"), full_page=True
    )

    assert page.locator("h1").inner_text().endswith(f"Patient/{patient_id}")
    assert page.locator(".mdt-statement").is_visible()
    assert "supports, not replaces" in page.locator(".mdt-statement").inner_text()
    want = expected(patient_id)["sets"]
    for set_id in SET_IDS:
        badge = page.locator(f"#set-{set_id} .set-status .badge")
        assert badge.is_visible()
        assert badge.inner_text() == SET_STATUS_TEXT[want[set_id]["status"]]
        criteria = page.locator(f"#set-{set_id} .criterion")
        assert criteria.count() == len(want[set_id]["criteria"])
    assert page.locator(".notes li").first.is_visible()
    assert page.locator(".warnings").is_visible()

    # styled by its own stylesheet, nothing fetched elsewhere, no CSP complaint
    border = page.locator(".badge").first.evaluate("e => getComputedStyle(e).borderTopStyle")
    assert border in ("solid", "dashed")
    assert page.console_errors == []
    assert all(url.startswith(server) for url in page.requested), page.requested


def test_at_desktop_width_the_four_sets_stand_side_by_side(page: Any, server: str) -> None:
    open_page(page, server, "demo-transplant", WIDE)
    found = boxes(page)
    assert len({round(box["y"]) for box in found}) == 1
    assert [box["x"] for box in found] == sorted(box["x"] for box in found)
    assert all(box["width"] >= 250 for box in found)


def test_at_side_panel_width_the_sets_stack_and_nothing_overflows(page: Any, server: str) -> None:
    open_page(page, server, "demo-missing", SIDE_PANEL)
    found = boxes(page)
    assert len({round(box["x"]) for box in found}) == 1
    assert [box["y"] for box in found] == sorted(box["y"] for box in found)
    assert page.evaluate("document.documentElement.scrollWidth") <= SIDE_PANEL
    for set_id in SET_IDS:
        assert page.locator(f"#set-{set_id} .badge").is_visible()


def test_the_page_prints_black_on_white_with_the_sets_in_sequence_and_its_address(
    page: Any, server: str, artifacts: Path
) -> None:
    open_page(page, server, "demo-g3", WIDE)
    page.emulate_media(media="print")
    found = boxes(page)
    assert len({round(box["x"]) for box in found}) == 1
    assert [box["y"] for box in found] == sorted(box["y"] for box in found)
    address = page.locator(".page-url")
    assert address.is_visible()
    assert f"{server}/patients/demo-g3/evaluation?at={AT}" in address.inner_text()
    colours = page.locator(".badge").first.evaluate(
        "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
    )
    assert colours == ["rgb(0, 0, 0)", "rgb(255, 255, 255)"]
    avoid = page.locator(".criterion").first.evaluate("e => getComputedStyle(e).breakInside")
    assert avoid == "avoid"

    pdf = artifacts / "demo-g3-print.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 10_000


def test_without_a_link_the_page_says_how_to_open_it_and_names_no_patient(
    page: Any, locked_server: str, artifacts: Path
) -> None:
    page.set_viewport_size({"width": SIDE_PANEL, "height": 700})
    response = page.goto(f"{locked_server}/patients/p1/evaluation")
    assert response is not None
    assert response.status == 401
    page.screenshot(path=str(artifacts / "screenshots" / f"unauthorized-{SIDE_PANEL}.png"))
    assert page.locator("h1").inner_text() == "Open this page from the patient's chart"
    assert "p1" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= SIDE_PANEL
