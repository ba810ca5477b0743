"""Browser fixtures: the app served on 127.0.0.1 and Debian's headless Chromium driven by
Playwright (never a browser Playwright downloads: ``playwright install`` is not run).

Needs the Debian package ``chromium`` and the PyPI package ``playwright``. When either is
missing the tests fail, saying what to install: a page nobody looked at must not pass.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import FHIR_SERVICE_SETTINGS
from tests.pages.helpers import FHIR_BASE, SECRET, make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Return Debian's Chromium; fail (not skip) when it is not installed."""
    if not CHROMIUM.exists() or not shutil.which(str(CHROMIUM)):
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's Chromium "
            "(apt-get install -y chromium); Playwright's own browser download is not used"
        )
    return CHROMIUM


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a background thread; yield its base URL."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{http.server_port}"
    app.config["PUBLIC_BASE_URL"] = base  # the page prints its own address
    thread = threading.Thread(target=http.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield base
    finally:
        http.shutdown()
        thread.join(timeout=10)
        http.server_close()


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """The app on the embedded demo store (its pages are open)."""
    with serving(make_app()) as base:
        yield base


@pytest.fixture(scope="session")
def locked_server() -> Iterator[str]:
    """The app reading patients from a FHIR server (never reached here): its pages need a
    signed link or a SMART launch."""
    with serving(
        make_app(
            **{**FHIR_SERVICE_SETTINGS, "FHIR_BASE_URL": FHIR_BASE, "PAGE_LINK_SECRET": SECRET}
        )
    ) as base:
        yield base


@pytest.fixture(scope="session")
def browser(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Yield a persistent Chromium context with a fresh profile directory."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need Playwright for Python: pip install playwright")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            locale="en-GB",
            timezone_id="UTC",
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Return the screenshot folder (``test-artifacts/`` is gitignored), created."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
