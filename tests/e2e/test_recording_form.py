"""Recording the MDT's findings in a real browser against a real FHIR server (sekmet):
the form is pre-filled from the record, a submission writes the Observations, and the
page evaluates again; screenshots at desktop and side-panel width."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service.fhir import Allowlist, FhirClient
from service.seed import seed_demo_patients
from service.smart.context import EXTENSION, SmartContext, session_cookie_name
from tests.e2e.conftest import serving
from tests.integration.sekmet import FhirServer, running_sekmet
from tests.pages.helpers import SECRET, make_app

PATIENT = "demo-transplant"
SESSION = "e2e-session-" + "x" * 32
SCOPE = "launch openid fhirUser patient/*.rs patient/Observation.c"


@pytest.fixture(scope="module")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    with running_sekmet(tmp_path_factory.mktemp("sekmet-form")) as server:
        seed_demo_patients(server.base_url)
        yield server


@pytest.fixture(scope="module")
def site(fhir_server: FhirServer) -> Iterator[str]:
    app = make_app(
        FHIR_BASE_URL=fhir_server.base_url,
        FHIR_ALLOWLIST=fhir_server.base_url,
        PAGE_LINK_SECRET=SECRET,
        AUDIT_HMAC_KEY="a" * 40,
        API_AUTH="none",
    )
    launch = SmartContext(
        patient_id=PATIENT,
        fhir_base_url=fhir_server.base_url,
        access_token="e2e-token",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        scope=SCOPE,
        fhir_user="Practitioner/dr-hepatology",
    )
    app.extensions[EXTENSION] = _Sessions(launch)
    with serving(app) as base:
        yield base


class _Sessions:
    """Stands in for the SMART flow's sessions: one launch, already completed."""

    def __init__(self, launch: SmartContext) -> None:
        self._launch = launch

    def context(self, session_id: str) -> SmartContext | None:
        return self._launch if session_id == SESSION else None


@pytest.fixture
def tab(browser: Any, site: str) -> Iterator[Any]:
    page = browser.new_page()
    browser.add_cookies([{"name": session_cookie_name(PATIENT), "value": SESSION, "url": site}])
    try:
        yield page
    finally:
        page.close()
        browser.clear_cookies()


def burdens(server: FhirServer) -> list[Any]:
    client = FhirClient(server.base_url, allowlist=Allowlist([server.base_url]))
    with client:
        found = client.search("Observation", {"patient": PATIENT})
    return [
        r.get("valueQuantity", {}).get("value")
        for r in found
        if any(c.get("code") == "hepatic-tumour-burden" for c in r["code"].get("coding", []))
    ]


@pytest.mark.parametrize("width", [1400, 420])
def test_the_form_is_prefilled_and_fits(tab: Any, site: str, artifacts: Path, width: int) -> None:
    tab.set_viewport_size({"width": width, "height": 900})
    tab.goto(f"{site}/patients/{PATIENT}/evaluation")
    form = tab.locator("form.mdt-form")
    assert form.is_visible()
    assert tab.locator("#field-hepatic-tumour-burden").input_value() != ""
    assert tab.locator("input[name=metastatic-pattern][value=type-iii]").is_checked()
    tab.locator("#record").screenshot(path=str(artifacts / "screenshots" / f"form-{width}.png"))
    assert tab.evaluate("document.documentElement.scrollWidth") <= width


def test_recording_a_finding_re_evaluates_the_patient(
    tab: Any, site: str, fhir_server: FhirServer, artifacts: Path
) -> None:
    tab.set_viewport_size({"width": 1400, "height": 900})
    tab.goto(f"{site}/patients/{PATIENT}/evaluation")
    milan = tab.locator(".set-chip").first
    assert "Milan-NET: eligible" in milan.inner_text()
    before = burdens(fhir_server)

    tab.locator("#field-hepatic-tumour-burden").fill("60")
    tab.get_by_role("button", name="Record and evaluate again").click()
    tab.wait_for_load_state()

    assert "recorded=1" in tab.url
    assert "Recorded 1 finding" in tab.locator(".notice").inner_text()
    assert "Milan-NET: not eligible" in tab.locator(".set-chip").first.inner_text()
    assert tab.locator("#field-hepatic-tumour-burden").input_value() == "60"
    assert burdens(fhir_server) == [*before, 60]
    tab.screenshot(path=str(artifacts / "screenshots" / "form-after-1400.png"), full_page=True)

    # the browser's back-and-resend does not write twice
    tab.go_back()
    tab.get_by_role("button", name="Record and evaluate again").click()
    tab.wait_for_load_state()
    assert burdens(fhir_server).count(60) == 1


def test_an_invalid_answer_is_shown_in_the_form(tab: Any, site: str) -> None:
    tab.set_viewport_size({"width": 420, "height": 900})
    tab.goto(f"{site}/patients/{PATIENT}/evaluation")
    tab.locator("#field-future-liver-remnant").fill("140")
    tab.get_by_role("button", name="Record and evaluate again").click()
    tab.wait_for_load_state()
    error = tab.locator("#error-future-liver-remnant")
    assert error.is_visible()
    assert "0 to 100" in error.inner_text()
    assert tab.locator("#field-future-liver-remnant").input_value() == "140"
