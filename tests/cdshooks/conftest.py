"""CDS Hooks test fixtures: an app with real JWT keys, signed headers, prefetch builders.

Tokens are real ES384 JWTs from ``jwt_factory``, checked by the real validator against
an inline JWK Set; every call signs a fresh token (a ``jti`` is accepted once).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.app import create_app
from service.cdshooks import routes
from service.seed import seed_demo_patients
from tests.cdshooks.jwt_factory import SigningKey, jwks, new_ec_key, sign
from tests.integration.sekmet import FhirServer, SekmetError, running_sekmet

BASE = "http://localhost"
ISSUER = "https://ehr.example.org"
SERVICE = "/cds-services/nelm-eligibility"
FEEDBACK = f"{SERVICE}/feedback"
AT = date(2026, 11, 22)
DEMO = Path(__file__).resolve().parents[2] / "service" / "data" / "demo"
HOOK_INSTANCE = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"

Headers = Callable[..., dict[str, str]]
AppFactory = Callable[..., Flask]


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    """The CDS client's P-384 key (its public half is configured as trusted)."""
    return new_ec_key("ehr-1")


def build_app(config: dict[str, Any]) -> Flask:
    """Create the app; add the CDS Hooks blueprint if ``create_app`` does not yet."""
    app = create_app(config)
    if "cds_hooks" not in app.blueprints:
        routes.init_app(app)
    return app


@pytest.fixture
def make_app(signing_key: SigningKey, tmp_path: Path) -> AppFactory:
    """Return a factory of apps trusting ``signing_key``; keyword args override config."""

    def factory(**overrides: Any) -> Flask:
        config: dict[str, Any] = {
            "TESTING": True,
            "PUBLIC_BASE_URL": BASE,
            "CDS_ISSUERS": json.dumps({ISSUER: {"jwks": jwks(signing_key)}}),
            "FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
            "FHIR_ALLOWLIST": "https://ehr.example.org/fhir",
            "FHIR_CONNECT_TIMEOUT": 1.0,
            "FHIR_READ_TIMEOUT": 1.0,
            "FHIR_RETRIES": 0,
            **overrides,
        }
        return build_app(config)

    return factory


@pytest.fixture
def app(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The app with the default test config, evaluating hook calls as of 2026-11-22."""
    monkeypatch.setattr(routes, "today", lambda: AT)
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(signing_key: SigningKey) -> Headers:
    """Return ``Authorization`` headers with a fresh token for the endpoint ``path``."""

    def headers(path: str, **kwargs: Any) -> dict[str, str]:
        token = sign(signing_key, iss=ISSUER, aud=kwargs.pop("aud", BASE + path), **kwargs)
        return {"Authorization": f"Bearer {token}"}

    return headers


# --- prefetch built from the demo patients ---------------------------------------------


def demo_resources(patient_id: str) -> list[dict[str, Any]]:
    """Return the resources of a demo patient (a transaction Bundle on disk)."""
    bundle = json.loads((DEMO / f"{patient_id}.json").read_text(encoding="utf-8"))
    return [copy.deepcopy(entry["resource"]) for entry in bundle["entry"]]


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a searchset Bundle as a FHIR server answers a search."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {"fullUrl": f"{ISSUER}/fhir/{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }


def full_prefetch(patient_id: str) -> dict[str, Any]:
    """Return the four prefetch keys filled from a demo patient."""
    resources = demo_resources(patient_id)

    def of(kind: str) -> list[dict[str, Any]]:
        return [r for r in resources if r["resourceType"] == kind]

    return {
        "patient": of("Patient")[0],
        "observations": searchset(of("Observation")),
        "conditions": searchset(of("Condition")),
        "procedures": searchset(of("Procedure")),
    }


def hook_body(patient_id: str, prefetch: Any = None, **fields: Any) -> Any:
    """Return a patient-view request body (``fields`` add or replace top-level fields)."""
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": HOOK_INSTANCE,
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    body.update(fields)
    return body


# --- a real FHIR server ----------------------------------------------------------------


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    """Start sekmet-fhir on 127.0.0.1 for the session, seeded with the demo patients."""
    try:
        with running_sekmet(tmp_path_factory.mktemp("sekmet-cds")) as server:
            seed_demo_patients(server.base_url)
            yield server
    except SekmetError as exc:
        pytest.fail(str(exc))
