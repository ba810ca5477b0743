"""Hook outcomes and FHIR calls in the metrics: card / no card / 412, and the FHIR
interactions a hook without prefetch makes against a real FHIR server."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.cdshooks import routes
from tests.cdshooks.conftest import (
    AT,
    SERVICE,
    AppFactory,
    Headers,
    full_prefetch,
    hook_body,
    searchset,
)
from tests.integration.sekmet import FhirServer
from tests.metrics.scrape import label_values, sample


def scrape(client: FlaskClient) -> str:
    return client.get("/metrics").get_data(as_text=True)


def outcomes(client: FlaskClient) -> dict[str, float]:
    text = scrape(client)
    return {
        outcome: sample(text, "nelm_cds_hook_calls_total", outcome=outcome)
        for outcome in ("card", "no_card", "precondition_failed")
    }


def test_each_hook_outcome_is_counted(client: FlaskClient, auth: Headers) -> None:
    before = outcomes(client)
    card = client.post(
        SERVICE,
        json=hook_body("demo-transplant", full_prefetch("demo-transplant")),
        headers=auth(SERVICE),
    )
    assert len(card.get_json()["cards"]) == 1
    no_metastasis = full_prefetch("demo-transplant")
    no_metastasis["conditions"] = searchset([])
    no_card = client.post(
        SERVICE, json=hook_body("demo-transplant", no_metastasis), headers=auth(SERVICE)
    )
    assert no_card.get_json() == {"cards": []}
    missing = client.post(SERVICE, json=hook_body("demo-transplant"), headers=auth(SERVICE))
    assert missing.status_code == 412
    after = outcomes(client)
    assert {k: after[k] - before[k] for k in after} == {
        "card": 1,
        "no_card": 1,
        "precondition_failed": 1,
    }


@pytest.fixture
def server_app(
    make_app: AppFactory, fhir_server: FhirServer, monkeypatch: pytest.MonkeyPatch
) -> Flask:
    monkeypatch.setattr(routes, "today", lambda: AT)
    return make_app(FHIR_ALLOWLIST=fhir_server.base_url, FHIR_READ_TIMEOUT=10.0)


@pytest.mark.integration
def test_fhir_calls_are_timed_by_interaction_without_the_server_or_patient(
    server_app: Flask, auth: Headers, fhir_server: FhirServer
) -> None:
    client = server_app.test_client()
    before = scrape(client)
    body = hook_body("demo-resection", fhirServer=fhir_server.base_url)
    assert client.post(SERVICE, json=body, headers=auth(SERVICE)).status_code == 200
    unknown = hook_body("nobody-here", fhirServer=fhir_server.base_url)
    assert client.post(SERVICE, json=unknown, headers=auth(SERVICE)).status_code == 412
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("nelm_fhir_request_duration_seconds_count", interaction="read") >= 2
    assert grew("nelm_fhir_request_duration_seconds_count", interaction="search") >= 3
    assert grew("nelm_fhir_request_failures_total", interaction="read", reason="not_found") >= 1
    assert grew("nelm_fhir_request_failures_total", interaction="search") == 0
    values = label_values(after)
    assert not any("demo-resection" in v or "nobody-here" in v for v in values)
    assert not any("127.0.0.1" in v for v in values)
