"""POST /cds-services/nelm-eligibility: full, partial and null prefetch, a real FHIR
server for what is missing, an unreachable one (412 in time), and malformed calls."""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.cdshooks import routes
from tests.cdshooks.conftest import (
    AT,
    BASE,
    SERVICE,
    AppFactory,
    Headers,
    full_prefetch,
    hook_body,
    searchset,
)
from tests.integration.sekmet import FhirServer

TOKEN = "opaque-fhir-access-token-for-tests"


def authorization() -> dict[str, Any]:
    return {
        "access_token": TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/Patient.rs patient/Observation.rs",
        "subject": "nelm-cds",
    }


def post(client: FlaskClient, auth: Headers, body: Any, path: str = SERVICE) -> Any:
    return client.post(path, json=body, headers=auth(path))


def only_card(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_json()
    cards = response.get_json()["cards"]
    assert len(cards) == 1
    card: dict[str, Any] = cards[0]
    return card


# --- full prefetch ---------------------------------------------------------------------


def test_full_prefetch_of_a_transplant_candidate_gives_one_warning_card(
    client: FlaskClient, auth: Headers
) -> None:
    card = only_card(
        post(client, auth, hook_body("demo-transplant", full_prefetch("demo-transplant")))
    )
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("Transplant: eligible (Milan-NET, ENETS, UNOS)")
    assert len(card["summary"]) < 140
    assert uuid.UUID(card["uuid"])
    assert card["source"]["label"]
    assert "supports, and does not replace" in card["detail"]
    assert card["links"][0]["url"] == f"{BASE}/patients/demo-transplant/evaluation"
    assert card["links"][0]["type"] == "absolute"


@pytest.mark.parametrize(
    ("patient_id", "indicator", "summary_start"),
    [
        ("demo-resection", "warning", "Transplant: not eligible, age 65"),
        ("demo-g3", "info", "Transplant: not eligible, "),
        ("demo-missing", "info", "Transplant: undecided, record "),
        ("demo-extrahepatic", "info", "Transplant: not eligible, extrahepatic metastasis"),
    ],
)
def test_full_prefetch_cards_for_the_demo_patients(
    client: FlaskClient, auth: Headers, patient_id: str, indicator: str, summary_start: str
) -> None:
    card = only_card(post(client, auth, hook_body(patient_id, full_prefetch(patient_id))))
    assert card["indicator"] == indicator
    assert card["summary"].startswith(summary_start)


def test_the_evaluation_is_as_of_today(client: FlaskClient, auth: Headers) -> None:
    card = only_card(
        post(client, auth, hook_body("demo-transplant", full_prefetch("demo-transplant")))
    )
    assert f"Evaluated as of {AT.isoformat()}" in card["detail"]


def test_a_patient_without_a_net_liver_metastasis_gets_no_card(
    client: FlaskClient, auth: Headers
) -> None:
    prefetch = full_prefetch("demo-transplant")
    prefetch["conditions"] = searchset(
        [
            c["resource"]
            for c in prefetch["conditions"]["entry"]
            if c["resource"]["id"] != "demo-transplant-liver-mets"
        ]
    )
    response = post(client, auth, hook_body("demo-transplant", prefetch))
    assert response.status_code == 200
    assert response.get_json() == {"cards": []}


def test_a_chart_with_nothing_prefetched_as_null_gets_no_card_and_no_fetch(
    client: FlaskClient, auth: Headers
) -> None:
    # null is "no data", not "missing": the unreachable fhirServer is never called.
    nulls = dict.fromkeys(("patient", "observations", "conditions", "procedures"))
    body = hook_body("p1", nulls, fhirServer="https://ehr.example.org/fhir")
    body["fhirAuthorization"] = authorization()
    response = post(client, auth, body)
    assert response.status_code == 200
    assert response.get_json() == {"cards": []}


def test_null_observations_leave_lab_criteria_unknown(client: FlaskClient, auth: Headers) -> None:
    prefetch = full_prefetch("demo-transplant")
    prefetch["observations"] = None
    card = only_card(post(client, auth, hook_body("demo-transplant", prefetch)))
    assert card["indicator"] == "info"
    assert card["summary"].startswith("Transplant: undecided")
    kinds = {s["label"] for s in card["suggestions"]}
    assert {"Order total bilirubin", "Order platelet count"} <= kinds


# --- fetching what is missing from a real FHIR server --------------------------------------


@pytest.fixture
def server_app(
    make_app: AppFactory, fhir_server: FhirServer, monkeypatch: pytest.MonkeyPatch
) -> Flask:
    monkeypatch.setattr(routes, "today", lambda: AT)
    return make_app(FHIR_ALLOWLIST=fhir_server.base_url, FHIR_READ_TIMEOUT=10.0)


@pytest.mark.integration
def test_partial_prefetch_is_completed_from_the_fhir_server(
    server_app: Flask, auth: Headers, fhir_server: FhirServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service.cdshooks.routes")
    prefetch = full_prefetch("demo-transplant")
    del prefetch["observations"], prefetch["procedures"]
    body = hook_body("demo-transplant", prefetch, fhirServer=fhir_server.base_url)
    body["fhirAuthorization"] = authorization()
    card = only_card(post(server_app.test_client(), auth, body))
    assert "fetched observations,procedures" in caplog.text
    full = only_card(
        post(
            server_app.test_client(),
            auth,
            hook_body("demo-transplant", full_prefetch("demo-transplant")),
        )
    )
    assert card["summary"] == full["summary"]
    assert card["detail"] == full["detail"]


@pytest.mark.integration
def test_no_prefetch_at_all_is_fetched_from_an_open_server_without_a_token(
    server_app: Flask, auth: Headers, fhir_server: FhirServer
) -> None:
    body = hook_body("demo-resection", fhirServer=fhir_server.base_url)
    card = only_card(post(server_app.test_client(), auth, body))
    assert card["summary"].startswith("Transplant: not eligible, age 65")
    assert card["summary"].endswith("Resection: eligible")


@pytest.mark.integration
def test_an_operation_outcome_prefetch_is_fetched_from_the_server(
    server_app: Flask, auth: Headers, fhir_server: FhirServer
) -> None:
    prefetch = full_prefetch("demo-g3")
    prefetch["observations"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}],
    }
    body = hook_body("demo-g3", prefetch, fhirServer=fhir_server.base_url)
    card = only_card(post(server_app.test_client(), auth, body))
    assert "Ki-67 28 %" in card["summary"]


@pytest.mark.integration
def test_a_patient_unknown_to_the_fhir_server_is_412(
    server_app: Flask, auth: Headers, fhir_server: FhirServer
) -> None:
    body = hook_body("nobody-here", fhirServer=fhir_server.base_url)
    response = post(server_app.test_client(), auth, body)
    assert response.status_code == 412
    assert response.get_json()["error"] == "precondition_failed"


# --- data that cannot be had: 412 -----------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server on loopback that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/fhir"
    stop.set()
    thread.join(timeout=2)
    for connection in accepted:
        connection.close()
    listener.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/fhir"


@pytest.mark.parametrize("server_kind", ["silent", "refusing"])
def test_an_unreachable_fhir_server_is_412_within_the_configured_timeout(
    make_app: AppFactory,
    auth: Headers,
    silent_server: str,
    server_kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = silent_server if server_kind == "silent" else closed_port_url()
    app = make_app(FHIR_ALLOWLIST=url, FHIR_CONNECT_TIMEOUT=0.5, FHIR_READ_TIMEOUT=0.5)
    prefetch = full_prefetch("demo-transplant")
    del prefetch["observations"], prefetch["conditions"]
    body = hook_body("demo-transplant", prefetch, fhirServer=url)
    body["fhirAuthorization"] = authorization()
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    response = post(app.test_client(), auth, body)
    elapsed = time.monotonic() - started
    assert response.status_code == 412
    assert response.get_json()["prefetch"] == ["observations", "conditions"]
    assert elapsed < 0.5 + 0.5 + 1.0  # the two fetches wait together, not one after another
    assert TOKEN not in caplog.text
    assert TOKEN not in response.get_data(as_text=True)


def test_missing_data_from_a_server_off_the_allowlist_is_412_and_not_called(
    client: FlaskClient, auth: Headers, silent_server: str
) -> None:
    body = hook_body("demo-transplant", fhirServer=silent_server)  # allowlist: ehr.example.org
    body["fhirAuthorization"] = authorization()
    started = time.monotonic()
    response = post(client, auth, body)
    assert response.status_code == 412
    assert "allowlist" in response.get_json()["message"]
    assert time.monotonic() - started < 0.5  # refused before any connection


def test_missing_data_without_fhir_server_is_412(client: FlaskClient, auth: Headers) -> None:
    response = post(client, auth, hook_body("demo-transplant", {"patient": None}))
    assert response.status_code == 412


# --- malformed calls: 400, unknown service: 404, no token: 401 -----------------------


def _without(key: str) -> dict[str, Any]:
    body: dict[str, Any] = hook_body("p1", {})
    del body[key]
    return body


MALFORMED: dict[str, Any] = {
    "not-an-object": ["patient-view"],
    "no-hook": _without("hook"),
    "another-hook": hook_body("p1", {}, hook="order-sign"),
    "no-hook-instance": _without("hookInstance"),
    "hook-instance-not-a-uuid": hook_body("p1", {}, hookInstance="call-1"),
    "no-context": _without("context"),
    "context-not-an-object": hook_body("p1", {}, context="p1"),
    "no-patient-id": hook_body("p1", {}, context={"userId": "Practitioner/1"}),
    "patient-id-not-a-fhir-id": hook_body("../../etc/passwd", {}),
    "user-id-not-a-string": hook_body("p1", {}, context={"patientId": "p1", "userId": 7}),
    "fhir-server-not-a-url": hook_body("p1", {}, fhirServer="ehr.example.org"),
    "fhir-server-not-http": hook_body("p1", {}, fhirServer="ftp://ehr.example.org/fhir"),
    "authorization-without-server": hook_body("p1", {}, fhirAuthorization=authorization()),
    "authorization-not-bearer": hook_body(
        "p1",
        {},
        fhirServer="https://ehr.example.org/fhir",
        fhirAuthorization={**authorization(), "token_type": "MAC"},
    ),
    "authorization-without-token": hook_body(
        "p1",
        {},
        fhirServer="https://ehr.example.org/fhir",
        fhirAuthorization={k: v for k, v in authorization().items() if k != "access_token"},
    ),
    "authorization-expires-in-text": hook_body(
        "p1",
        {},
        fhirServer="https://ehr.example.org/fhir",
        fhirAuthorization={**authorization(), "expires_in": "300"},
    ),
    "authorization-without-subject": hook_body(
        "p1",
        {},
        fhirServer="https://ehr.example.org/fhir",
        fhirAuthorization={k: v for k, v in authorization().items() if k != "subject"},
    ),
    "prefetch-not-an-object": hook_body("p1", ["patient"]),
    "prefetch-value-a-string": hook_body("p1", {"patient": "Patient/p1"}),
    "prefetch-of-another-type": hook_body(
        "p1", {"conditions": {"resourceType": "Observation", "id": "o"}}
    ),
    "prefetch-of-another-patient": hook_body(
        "p1", {"patient": {"resourceType": "Patient", "id": "p2"}}
    ),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_request_is_400_with_a_json_reason(
    client: FlaskClient, auth: Headers, body: Any
) -> None:
    response = post(client, auth, body)
    assert response.status_code == 400
    reason = response.get_json()
    assert reason["error"] == "invalid_hook_request"
    assert reason["message"]
    assert TOKEN not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("{not json", "application/json"), ('{"hook": "patient-view"}', "text/plain")],
    ids=["invalid-json", "not-json-content-type"],
)
def test_a_body_that_is_not_json_is_400(
    client: FlaskClient, auth: Headers, data: str, content_type: str
) -> None:
    response = client.post(SERVICE, data=data, content_type=content_type, headers=auth(SERVICE))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_hook_request"


def test_an_unknown_service_id_is_404(client: FlaskClient, auth: Headers) -> None:
    response = post(client, auth, hook_body("p1", {}), path="/cds-services/no-such-service")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_a_call_without_a_token_is_401_before_anything_else(client: FlaskClient) -> None:
    response = client.post(SERVICE, json=["not even a body"])
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json() == {"error": "unauthorized"}


def test_a_token_for_the_discovery_endpoint_is_refused_on_the_service(
    client: FlaskClient, auth: Headers
) -> None:
    response = client.post(
        SERVICE,
        json=hook_body("demo-transplant", full_prefetch("demo-transplant")),
        headers=auth("/cds-services"),
    )
    assert response.status_code == 401


def test_a_hook_call_logs_no_patient_data_and_no_token(
    client: FlaskClient, auth: Headers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = hook_body("demo-transplant", full_prefetch("demo-transplant"))
    body["fhirServer"] = "https://ehr.example.org/fhir"
    body["fhirAuthorization"] = authorization()
    only_card(post(client, auth, body))
    assert "demo-transplant" not in caplog.text
    assert TOKEN not in caplog.text


# --- deceased patients (criteria.md §7, v1.1) ------------------------------------------


@pytest.mark.parametrize(
    "elements",
    [
        pytest.param({"deceasedDateTime": "2026-01-15"}, id="deceasedDateTime before today"),
        pytest.param({"deceasedBoolean": True}, id="deceasedBoolean without a date"),
    ],
)
def test_no_card_for_a_patient_recorded_as_deceased(
    client: FlaskClient,
    auth: Headers,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    elements: dict[str, Any],
) -> None:
    monkeypatch.setattr(routes, "today", lambda: AT)
    caplog.set_level(logging.INFO, logger="service.cdshooks.routes")
    prefetch = full_prefetch("demo-transplant")
    prefetch["patient"] = prefetch["patient"] | elements
    response = post(client, auth, hook_body("demo-transplant", prefetch))
    assert response.status_code == 200
    assert response.get_json() == {"cards": []}
    assert "recorded as deceased, no card" in caplog.text
    assert "demo-transplant" not in caplog.text
    assert "2026-01-15" not in caplog.text


def test_a_card_for_a_patient_who_died_after_the_evaluation_date(
    client: FlaskClient, auth: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "today", lambda: AT)
    prefetch = full_prefetch("demo-transplant")
    prefetch["patient"] = prefetch["patient"] | {"deceasedDateTime": "2026-11-23"}
    card = only_card(post(client, auth, hook_body("demo-transplant", prefetch)))
    assert card["indicator"] == "warning"


def test_the_card_names_a_code_as_the_patients_record_does(
    client: FlaskClient, auth: Headers
) -> None:
    card = only_card(
        post(client, auth, hook_body("demo-extrahepatic", full_prefetch("demo-extrahepatic")))
    )
    assert "(Secondary carcinoid tumors of bone, C7B.03)" in card["summary"]
    assert "(Secondary carcinoid tumors of bone, C7B.03)" in card["detail"]
    assert len(card["summary"]) < 140
