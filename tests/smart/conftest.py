"""SMART launch fixtures: a test EHR on 127.0.0.1, the app, and a browser that follows
the redirects (the Flask test client for the service, ``requests`` for the EHR)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask, jsonify, request
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue
from werkzeug.test import TestResponse

from service.app import create_app
from service.smart import routes as smart
from service.smart.context import current_smart_context
from tests.smart.authorization_server import CLIENT_ID, Ehr, serving_ehr

BASE = "http://localhost"
CALLBACK = f"{BASE}/smart/callback"
CONTEXT_ROUTE = "/test/smart-context"
DEMO_PATIENTS = (
    "demo-transplant",
    "demo-resection",
    "demo-missing",
    "demo-g3",
    "demo-extrahepatic",
)

AppFactory = Callable[..., Flask]


def build_app(config: dict[str, Any]) -> Flask:
    """Create the app; add the SMART blueprint if ``create_app`` does not yet."""
    app = create_app(config)
    if "smart" not in app.blueprints:
        smart.init_app(app)
    return app


def add_context_route(app: Flask) -> None:
    """Add a test-only page that shows what :func:`current_smart_context` gives."""

    @app.get(CONTEXT_ROUTE)
    def show_context() -> ResponseReturnValue:
        # the page of a patient asks for that patient's session; here, any patient
        patients = request.args.getlist("patient") or list(DEMO_PATIENTS)
        context = next(
            (c for p in patients if (c := current_smart_context(p)) is not None),
            current_smart_context(),
        )
        if context is None:
            return jsonify(context=None)
        return jsonify(
            context={
                "patient_id": context.patient_id,
                "fhir_base_url": context.fhir_base_url,
                "expires_at": context.expires_at.isoformat(),
            }
        )


@pytest.fixture
def ehr() -> Iterator[Ehr]:
    """A fresh test EHR (authorization server + FHIR server) for each test."""
    with serving_ehr(redirect_uri=CALLBACK) as server:
        yield server


@pytest.fixture
def make_app(ehr: Ehr, tmp_path: Path) -> AppFactory:
    """Return a factory of apps that trust ``ehr``; keyword args override config."""

    def factory(**overrides: Any) -> Flask:
        config: dict[str, Any] = {
            "TESTING": True,
            "PUBLIC_BASE_URL": BASE,
            "FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
            "FHIR_ALLOWLIST": ehr.fhir_base,
            "FHIR_CONNECT_TIMEOUT": 2.0,
            "FHIR_READ_TIMEOUT": 2.0,
            "FHIR_RETRIES": 0,
            "SMART_CLIENT_ID": CLIENT_ID,
            **overrides,
        }
        app = build_app(config)
        add_context_route(app)
        return app

    return factory


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """The browser's HTTP to the EHR (redirects are followed by hand)."""
    with requests.Session() as session:
        yield session


@dataclass
class Launch:
    """Each hop of one launch, as the browser saw it."""

    launch: TestResponse
    authorize: requests.Response | None
    callback: TestResponse | None

    @property
    def locations(self) -> list[str]:
        hops = [self.launch.headers.get("Location")]
        if self.authorize is not None:
            hops.append(self.authorize.headers.get("Location"))
        if self.callback is not None:
            hops.append(self.callback.headers.get("Location"))
        return [hop for hop in hops if hop]


def callback_path(location: str) -> str:
    """Return the path and query of a redirect to the service's callback."""
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return f"{parts.path}?{parts.query}"


def authorize(http: requests.Session, launch: TestResponse) -> requests.Response:
    """Follow the service's redirect to the EHR's authorization endpoint."""
    assert launch.status_code == 302, launch.get_data(as_text=True)
    response = http.get(launch.headers["Location"], allow_redirects=False, timeout=5)
    response.close()
    return response


def run_launch(
    client: FlaskClient,
    http: requests.Session,
    ehr: Ehr,
    *,
    patient_id: str = "demo-transplant",
    iss: str | None = None,
) -> Launch:
    """Launch from ``ehr`` as a browser would: launch URL → authorize → callback."""
    launch = client.get(
        "/smart/launch",
        query_string={"iss": iss or ehr.fhir_base, "launch": ehr.new_launch(patient_id)},
    )
    if launch.status_code != 302:
        return Launch(launch, None, None)
    answer = authorize(http, launch)
    assert answer.status_code == 302, answer.text
    return Launch(launch, answer, client.get(callback_path(answer.headers["Location"])))


def session_cookie(client: Any) -> Any:
    """Return the launch's session cookie (one per patient: ``nelm_smart_<hash>``), or
    ``None``."""
    found = [
        cookie
        for (_, _, name), cookie in client._cookies.items()
        if name.startswith("nelm_smart_") and name != "nelm_smart_launch"
    ]
    assert len(found) <= 1, [c.key for c in found]
    return found[0] if found else None
