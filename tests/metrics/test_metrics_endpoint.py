"""GET /metrics in-process: the Prometheus text format, requests per route template and
status, evaluation time, access settings, and no patient data in any label."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from service.app import create_app
from service.settings import SettingError
from tests.metrics.scrape import label_values, sample

TOKEN = "metrics-token-0123456789abcdef0123456789"


@pytest.fixture
def client() -> FlaskClient:
    return create_app({"TESTING": True}).test_client()


def scrape(client: FlaskClient, **headers: str) -> str:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "version=" in response.headers["Content-Type"]
    return response.get_data(as_text=True)


def test_requests_are_counted_by_route_template_method_and_status(client: FlaskClient) -> None:
    route = "/api/patients/<patient_id>/evaluation"
    before = scrape(client)
    client.get("/api/patients/demo-transplant/evaluation")
    client.get("/api/patients/demo-g3/evaluation")
    client.get("/api/patients/no-such-patient-4711/evaluation")
    after = scrape(client)
    ok = {"method": "GET", "route": route, "status": "200"}
    missing = {"method": "GET", "route": route, "status": "404"}
    assert (
        sample(after, "nelm_http_requests_total", **ok)
        - sample(before, "nelm_http_requests_total", **ok)
        == 2
    )
    assert (
        sample(after, "nelm_http_requests_total", **missing)
        - sample(before, "nelm_http_requests_total", **missing)
        == 1
    )
    count = "nelm_http_request_duration_seconds_count"
    assert sample(after, count, **ok) - sample(before, count, **ok) == 2
    assert sample(after, "nelm_http_request_duration_seconds_bucket", le="+Inf", **ok) >= 2


def test_each_evaluation_is_timed(client: FlaskClient) -> None:
    before = sample(scrape(client), "nelm_evaluation_duration_seconds_count")
    client.get("/api/patients/demo-resection/evaluation")
    client.post("/api/patients/demo-resection/risk-assessment?dry-run=true")
    after = scrape(client)
    assert sample(after, "nelm_evaluation_duration_seconds_count") - before == 2
    assert sample(after, "nelm_evaluation_duration_seconds_sum") > 0


def test_no_patient_data_reaches_a_label(client: FlaskClient) -> None:
    marker = "patient-7f3a9c"
    client.get(f"/api/patients/{marker}/evaluation?at=2026-11-22")
    client.get(f"/patients/{marker}/evaluation")
    client.get(f"/{marker}?q={marker}")
    client.open(f"/api/patients/{marker}/evaluation", method="BREW")
    text = scrape(client)
    assert marker not in text
    routes = {v for v in label_values(text) if v.startswith("/")}
    assert all("<" in v or v.count("/") <= 3 for v in routes), routes
    assert "(unmatched)" in label_values(text)
    assert "BREW" not in label_values(text)  # unknown methods are "other"


def test_metrics_are_open_by_default_and_can_ask_for_a_token() -> None:
    guarded = create_app({"TESTING": True, "METRICS": "token", "METRICS_TOKEN": TOKEN})
    client = guarded.test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="nelm-cds-metrics"'
    assert refused.mimetype == "application/problem+json"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert "nelm_http_requests_total" in scrape(client, Authorization=f"Bearer {TOKEN}")


def test_metrics_can_be_turned_off() -> None:
    client = create_app({"TESTING": True, "METRICS": "off"}).test_client()
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"METRICS": "public"}, "NELM_CDS_METRICS"),
        ({"METRICS": "token"}, "NELM_CDS_METRICS_TOKEN"),
        ({"METRICS": "token", "METRICS_TOKEN": "short"}, "NELM_CDS_METRICS_TOKEN"),
    ],
)
def test_bad_metrics_settings_are_named_at_start_up(settings: dict[str, str], named: str) -> None:
    with pytest.raises(SettingError, match=named):
        create_app({"TESTING": True, **settings})
