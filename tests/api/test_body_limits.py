"""Limits on posted bodies: bytes (413 before reading), entries (413), nesting (400),
oversized resources and validation work (warnings, never a 5xx), and one large body
at a time per worker (429 when its turn does not come)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from service.app import create_app
from service.mappers.validation import MAX_RESOURCE_ELEMENTS, VALIDATION_BUDGET_ELEMENTS
from service.request_body import EXTENSION
from service.settings import SettingError
from tests.cdshooks.jwt_factory import jwks, new_ec_key, sign

FHIR_JSON = "application/fhir+json"
PATIENT = {"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1980-05-01"}}


def bundle(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [PATIENT, *entries]}


def bilirubin(number: int, **extra: Any) -> dict[str, Any]:
    return {
        "resource": {
            "resourceType": "Observation",
            "id": f"o{number}",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "1975-2"}]},
            "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": "2026-11-01",
            "valueQuantity": {
                "value": 0.8,
                "unit": "mg/dL",
                "system": "http://unitsofmeasure.org",
                "code": "mg/dL",
            },
            **extra,
        }
    }


def app_with(**config: Any) -> Flask:
    return create_app({"TESTING": True, **config})


def post(app: Flask, body: bytes | dict[str, Any], **kwargs: Any) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return app.test_client().post(
        "/api/evaluate?at=2026-11-22", data=data, content_type=FHIR_JSON, **kwargs
    )


def test_a_body_over_the_byte_limit_is_413_before_it_is_read() -> None:
    app = app_with(MAX_BUNDLE_BYTES=2000)
    response = post(app, bundle(*(bilirubin(n) for n in range(20))))
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"


def test_the_byte_limit_covers_hook_bodies_too() -> None:
    key = new_ec_key("ehr-1")
    issuer = "https://ehr.example.org"
    app = app_with(
        MAX_BUNDLE_BYTES=2000,
        PUBLIC_BASE_URL="http://localhost",
        CDS_ISSUERS={issuer: {"jwks": jwks(key)}},
    )
    token = sign(key, iss=issuer, aud="http://localhost/cds-services/nelm-eligibility")
    response = app.test_client().post(
        "/cds-services/nelm-eligibility",
        data=b"{" + b" " * 5000 + b"}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413


def test_more_entries_than_allowed_is_413_naming_the_setting() -> None:
    app = app_with(MAX_BUNDLE_ENTRIES=5)
    response = post(app, bundle(*(bilirubin(n) for n in range(5))))
    assert response.status_code == 413
    assert "NELM_CDS_MAX_BUNDLE_ENTRIES" in response.get_json()["message"]
    assert post(app, bundle(*(bilirubin(n) for n in range(4)))).status_code == 200


@pytest.mark.parametrize("depth", [990, 5000, 200_000])
def test_deeply_nested_json_is_400(depth: int) -> None:
    data = ('{"resourceType":"Bundle","entry":' + "[" * depth + "]" * depth + "}").encode()
    response = post(app_with(), data)
    assert response.status_code == 400
    assert "nested too deeply" in response.get_json()["message"]


def test_a_resource_with_too_many_elements_is_a_warning_not_a_failure() -> None:
    stuffed = bilirubin(1, extension=[{"url": "u"}] * MAX_RESOURCE_ELEMENTS)
    response = post(app_with(), bundle(stuffed))
    assert response.status_code == 200
    warnings = response.get_json()["warnings"]
    assert any("too large to read" in w["message"] for w in warnings)


def test_past_the_validation_budget_resources_are_warnings_not_used() -> None:
    per_resource = 400  # extensions: each one two elements
    count = VALIDATION_BUDGET_ELEMENTS // (2 * per_resource) + 5
    # Invalid at the end: the walk stops at the first fault, and is charged what it walked.
    invalid = [bilirubin(n, extension=[{"url": "u"}] * per_resource, bogus=1) for n in range(count)]
    response = post(app_with(), bundle(*invalid))
    assert response.status_code == 200
    messages = [w["message"] for w in response.get_json()["warnings"]]
    assert any("not checked" in m for m in messages)
    criterion = next(
        c
        for a in response.get_json()["assessments"]
        for c in a["criteria"]
        if "bilirubin" in c["id"]
    )
    assert criterion["status"] == "unknown"  # never decided from data it could not check


def test_a_large_body_waits_for_its_turn_then_gets_429() -> None:
    app = app_with(FHIR_DEADLINE_SECONDS=0.5)
    slot = app.extensions[EXTENSION].slot
    big = bundle(
        *(bilirubin(n, text={"status": "generated", "div": "x" * 2000}) for n in range(600))
    )
    assert slot.acquire(timeout=1)
    try:
        response = post(app, big)
    finally:
        slot.release()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "5"
    assert post(app, bundle(bilirubin(1))).status_code == 200  # small bodies never wait


@pytest.mark.parametrize(
    ("setting", "value"),
    [("MAX_BUNDLE_BYTES", 0), ("MAX_BUNDLE_BYTES", "ten"), ("MAX_BUNDLE_ENTRIES", -1)],
)
def test_bad_limits_are_named_at_start_up(setting: str, value: Any) -> None:
    with pytest.raises(SettingError, match=f"NELM_CDS_{setting}"):
        app_with(**{setting: value})
