"""The clinician page in a real browser, as a hepatologist meets it: an eligible, an
indeterminate, a G3 and a deceased patient at desktop (1400 px) and EHR side-panel
(420 px) width, and printed to A4. Screenshots and PDFs are kept in
``test-artifacts/`` for a person to look at."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.demo_store import DemoStore
from service.mappers import load_bundle_json
from service.sources import DemoSource
from tests.e2e.conftest import serving
from tests.pages.helpers import AT, make_app

WIDE, SIDE_PANEL = 1400, 420
PATIENTS = {
    "demo-transplant": "eligible",
    "demo-missing": "indeterminate",
    "demo-g3": "g3",
    "demo-deceased": "deceased",
}


def deceased_store() -> DemoStore:
    """The demo store plus a deceased copy of the transplant candidate."""
    store = DemoStore.load()
    demo = Path(__file__).resolve().parents[2] / "service" / "data" / "demo"
    text = (demo / "demo-transplant.json").read_text(encoding="utf-8")
    bundle = load_bundle_json(text.replace("demo-transplant", "demo-deceased"))
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["deceasedDateTime"] = "2026-10-01"
    return DemoStore({**store.bundles, "demo-deceased": bundle})


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    app = make_app()
    app.extensions["nelm_source"] = DemoSource(deceased_store())
    with serving(app) as base:
        yield base


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


def open_page(page: Any, base: str, patient_id: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto(f"{base}/patients/{patient_id}/evaluation?at={AT}")
    assert response is not None
    assert response.status == 200


@pytest.mark.parametrize("width", [WIDE, SIDE_PANEL])
@pytest.mark.parametrize("patient_id", list(PATIENTS))
def test_identity_verdict_and_next_step_are_on_the_first_screen(
    page: Any, site: str, artifacts: Path, patient_id: str, width: int
) -> None:
    open_page(page, site, patient_id, width)
    page.screenshot(
        path=str(artifacts / "screenshots" / f"{PATIENTS[patient_id]}-{width}.png"),
        full_page=True,
    )
    # who, the verdict and the reason, and the next step: all within the first screen
    name = page.locator(".identity-name")
    assert name.is_visible()
    assert name.bounding_box()["y"] < 60
    assert "Record no." in page.locator(".identity").inner_text()
    sentences = page.locator(".pathway-sentence")
    assert sentences.count() == 2
    first_screen = 900
    assert sentences.nth(1).bounding_box()["y"] < first_screen
    next_step = page.locator("#next-title")
    assert next_step.bounding_box()["y"] < first_screen * (1 if width == WIDE else 1.6)

    # fits the panel, styled by its own stylesheets, nothing fetched elsewhere
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.console_errors == []
    assert all(url.startswith(site) for url in page.requested), page.requested
    assert page.locator("svg.chart").count() >= (0 if patient_id == "demo-missing" else 3)


def test_the_matrix_details_open_without_javascript(page: Any, site: str) -> None:
    open_page(page, site, "demo-g3", SIDE_PANEL)
    details = page.locator("#criterion-low_grade details")
    body = details.locator(".why-body")
    assert not body.is_visible()
    details.locator("summary").click()
    assert body.is_visible()
    assert "Ki-67 28 %" in body.inner_text()


def test_a_deceased_patient_is_marked_as_such(page: Any, site: str) -> None:
    open_page(page, site, "demo-deceased", WIDE)
    assert "Deceased 2026-10-01" in page.locator(".identity").inner_text()
    assert page.locator(".deceased-note").is_visible()


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [p for p in text.split("\f") if p.strip()]


@pytest.mark.parametrize("patient_id", list(PATIENTS))
def test_the_printout_is_a4_with_the_identity_on_every_page_and_every_detail_open(
    page: Any, site: str, artifacts: Path, patient_id: str
) -> None:
    if not shutil.which("pdftotext"):
        pytest.fail("reading the printout needs pdftotext (apt-get install poppler-utils)")
    open_page(page, site, patient_id, WIDE)
    pdf = artifacts / f"{PATIENTS[patient_id]}-print.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "pts (A4)" in info.stdout
    pages = pdf_pages(pdf)
    name = page.locator(".identity-name").inner_text().split("\n")[-1].removeprefix("Patient: ")
    record_number = page.locator(".identity-facts dd").nth(2).inner_text()
    for number, text in enumerate(pages, start=1):
        assert name in text, f"page {number} has no patient name"
        assert record_number in text, f"page {number} has no record number"
    everything = " ".join(" ".join(p.split()) for p in pages)
    # a reason that sits in a closed <details> on screen is printed
    hidden = page.locator(".why-reason").first
    assert not hidden.is_visible()
    assert " ".join(hidden.text_content().split())[:40] in everything
    assert f"/patients/{patient_id}/evaluation?at={AT}" in everything
    assert len(pages) <= 8


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


def test_in_the_side_panel_each_set_heading_fits_on_one_line(page: Any, site: str) -> None:
    open_page(page, site, "demo-transplant", SIDE_PANEL)
    headings = page.locator(".matrix thead th.col-set")
    shown = [h.locator(".col-short").inner_text() for h in headings.all()]
    assert shown == ["Milan", "ENETS", "UNOS", "Resect."]
    for heading in headings.all():
        short = heading.locator(".col-short")
        assert heading.evaluate("e => e.scrollWidth <= e.clientWidth"), heading.inner_text()
        # one line: no taller than the text's own line box
        line = short.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
        assert short.bounding_box()["height"] <= line * 1.2, heading.inner_text()


def test_on_paper_each_set_name_stands_over_its_column(page: Any, site: str) -> None:
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.goto(f"{site}/patients/demo-transplant/evaluation?at={AT}")
    page.emulate_media(media="print")
    headings = page.locator(".matrix thead th.col-set").all()
    cells = page.locator("#criterion-age_under_55 > td").all()
    assert len(headings) == len(cells) == 4
    for heading, cell in zip(headings, cells, strict=True):
        box, column = heading.bounding_box(), cell.bounding_box()
        assert abs(box["x"] - column["x"]) < 2, heading.inner_text()
        full_name = heading.locator(".col-long").inner_text()
        assert full_name in ("Milan-NET", "ENETS", "UNOS", "Resection")
        # the full set name on one line
        assert box["height"] < 30, heading.inner_text()
    page.emulate_media(media="screen")


def test_in_the_side_panel_chart_labels_are_readable(page: Any, site: str) -> None:
    open_page(page, site, "demo-transplant", SIDE_PANEL)
    charts = page.locator("svg.chart").all()
    assert len(charts) >= 3
    for chart in charts:
        # the labels are drawn at the chart's font size, scaled with its viewBox
        shown = chart.evaluate(
            "e => e.getBoundingClientRect().width / e.viewBox.baseVal.width"
            " * parseFloat(e.getAttribute('font-size'))"
        )
        assert shown >= 9, f"chart labels {shown:.1f} px high at {SIDE_PANEL} px"
