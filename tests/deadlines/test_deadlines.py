"""One overall deadline per request for all FHIR work, against a real (scripted) server:
paging, retries, silent and trickling answers all end by the deadline, and the caller
gets 504 (REST) or 412 (CDS Hooks) saying so in words."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask

from service.app import create_app
from tests.cdshooks.jwt_factory import SigningKey, jwks, new_ec_key, sign
from tests.conftest import FHIR_SERVICE_SETTINGS
from tests.deadlines.scripted_server import Call, ScriptedServer, scripted_server

DEADLINE = 2.0
SLACK = 2.0  # every answer within the deadline plus this
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"}
EVALUATION = "/api/patients/p1/evaluation?at=2026-11-22"
CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]+(Error|Exception|Timeout)\b")


def bundle(
    entries: list[dict[str, Any]], *, next_url: str | None = None, total: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in entries],
    }
    if next_url is not None:
        body["link"] = [{"relation": "next", "url": next_url}]
    if total is not None:
        body["total"] = total
    return body


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running


def rest_app(server: ScriptedServer, **overrides: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            **FHIR_SERVICE_SETTINGS,
            "FHIR_BASE_URL": server.base_url,
            "FHIR_DEADLINE_SECONDS": DEADLINE,
            "FHIR_CONNECT_TIMEOUT": 1.0,
            "FHIR_READ_TIMEOUT": 10.0,
            **overrides,
        }
    )


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def patient_then(search: Callable[[Call], None]) -> Callable[[Call], None]:
    def answer(call: Call) -> None:
        if call.route.endswith("/Patient/p1"):
            call.send_json(200, PATIENT)
        else:
            search(call)

    return answer


def assert_in_words(body: dict[str, Any]) -> None:
    assert not CLASS_NAME.search(body["message"]), body["message"]
    assert "Traceback" not in str(body)


# --- REST --------------------------------------------------------------------------------


def test_a_paging_server_is_cut_at_the_deadline(server: ScriptedServer) -> None:
    """Twenty pages at 1 s each would take 20 s; the call answers by the deadline."""

    def page(call: Call) -> None:
        number = int(call.query.get("page", ["1"])[0])
        next_url = f"{server.base_url}/{call.route.rsplit('/', 1)[-1]}?page={number + 1}"
        call.send_json(200, bundle([], next_url=next_url if number < 20 else None), delay=1.0)

    server.answer = patient_then(page)
    response, seconds = timed(lambda: rest_app(server).test_client().get(EVALUATION))
    assert response.status_code == 504
    assert seconds < DEADLINE + SLACK
    body = response.get_json()
    assert body["error"] == "fhir_server_timeout"
    assert f"within the {DEADLINE:g} s deadline" in body["message"]
    assert_in_words(body)


def test_a_trickled_answer_is_cut_at_the_deadline(server: ScriptedServer) -> None:
    """One byte every 0.2 s never trips the 10 s read timeout; the deadline ends it."""
    server.answer = lambda call: call.trickle(200, PATIENT, every=0.2)
    response, seconds = timed(lambda: rest_app(server).test_client().get(EVALUATION))
    assert response.status_code == 504
    assert seconds < DEADLINE + SLACK


def test_trickled_headers_are_cut_at_the_deadline(server: ScriptedServer) -> None:
    def slow_headers(call: Call) -> None:
        call.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(100):
            if call.server.stop.wait(0.2):
                return
            try:
                call.wfile.write(b"X-Slow: 1\r\n")
                call.wfile.flush()
            except OSError:
                return

    server.answer = slow_headers
    response, seconds = timed(lambda: rest_app(server).test_client().get(EVALUATION))
    assert response.status_code == 504
    assert seconds < DEADLINE + SLACK


def test_concurrent_calls_to_a_silent_server_each_answer_by_their_deadline(
    server: ScriptedServer,
) -> None:
    server.answer = lambda call: call.silence(30)
    app = rest_app(server)

    def one() -> tuple[int, float]:
        response, seconds = timed(lambda: app.test_client().get(EVALUATION))
        return response.status_code, seconds

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: one(), range(8)))
    assert {status for status, _ in results} == {504}
    assert max(seconds for _, seconds in results) < DEADLINE + SLACK


def test_a_retry_whose_wait_would_pass_the_deadline_is_not_made(server: ScriptedServer) -> None:
    server.answer = lambda call: call.send_json(
        503, {"resourceType": "OperationOutcome", "issue": []}, headers={"Retry-After": "5"}
    )
    response, seconds = timed(lambda: rest_app(server).test_client().get(EVALUATION))
    assert response.status_code == 502
    assert "unavailable (HTTP 503)" in response.get_json()["message"]
    assert seconds < 1.5
    assert len([c for c in server.calls if "/Patient/" in c[1]]) == 1


def test_a_retry_that_fits_is_made(server: ScriptedServer) -> None:
    tries: list[int] = []

    def flaky(call: Call) -> None:
        if call.route.endswith("/Patient/p1") and not tries:
            tries.append(1)
            call.send_json(503, {}, headers={"Retry-After": "1"})
        elif call.route.endswith("/Patient/p1"):
            call.send_json(200, PATIENT)
        else:
            call.send_json(200, bundle([]))

    server.answer = flaky
    response, seconds = timed(lambda: rest_app(server).test_client().get(EVALUATION))
    assert response.status_code == 200
    assert 0.9 <= seconds < DEADLINE


def test_the_servers_operation_outcome_is_passed_on_in_words(server: ScriptedServer) -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "security", "diagnostics": "consent refused"}],
    }
    server.answer = lambda call: call.send_json(400, outcome)
    response = rest_app(server).test_client().get(EVALUATION)
    assert response.status_code == 502
    body = response.get_json()
    assert body["message"] == (
        "the FHIR server rejected the request (HTTP 400); it said: consent refused"
    )
    assert body["outcome"] == outcome
    assert_in_words(body)


@pytest.mark.parametrize(
    "answer",
    [
        lambda call: call.send_json(401, {}),
        lambda call: call.send_json(500, {}),
        lambda call: call.send_json(200, {"resourceType": "Observation"}),
        lambda call: call.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n<htm"),
        lambda call: None,  # the connection closes without an answer
    ],
    ids=["401", "500", "wrong-type", "cut-off", "no-answer"],
)
def test_every_fhir_failure_is_told_in_words(
    server: ScriptedServer, answer: Callable[[Call], None]
) -> None:
    server.answer = answer
    response = rest_app(server).test_client().get(EVALUATION)
    assert response.status_code in (502, 504)
    assert_in_words(response.get_json())


def test_readiness_names_the_failure_in_words(server: ScriptedServer) -> None:
    server.answer = lambda call: call.send_json(500, {})
    body = rest_app(server).test_client().get("/readyz").get_json()
    assert body["status"] == "not_ready"
    assert_in_words({"message": body["detail"]})


# --- CDS Hooks ---------------------------------------------------------------------------

CDS_ISSUER = "https://ehr.example.org"
BASE = "http://localhost"
SERVICE = "/cds-services/nelm-eligibility"


@pytest.fixture(scope="module")
def cds_key() -> SigningKey:
    return new_ec_key("ehr-1")


def hook(server: ScriptedServer, key: SigningKey, **overrides: Any) -> tuple[Any, float]:
    app = create_app(
        {
            "TESTING": True,
            "PUBLIC_BASE_URL": BASE,
            "CDS_ISSUERS": {CDS_ISSUER: {"jwks": jwks(key)}},
            "FHIR_ALLOWLIST": server.base_url,
            "CDS_DEADLINE_SECONDS": DEADLINE,
            "FHIR_READ_TIMEOUT": 10.0,
            **overrides,
        }
    )
    body = {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": server.base_url,
        "context": {"patientId": "p1", "userId": "Practitioner/1"},
    }
    headers = {"Authorization": f"Bearer {sign(key, iss=CDS_ISSUER, aud=BASE + SERVICE)}"}
    return timed(lambda: app.test_client().post(SERVICE, json=body, headers=headers))


def test_a_hook_whose_fhir_server_pages_slowly_answers_412_by_its_deadline(
    server: ScriptedServer, cds_key: SigningKey
) -> None:
    def page(call: Call) -> None:
        number = int(call.query.get("page", ["1"])[0])
        next_url = f"{server.base_url}/{call.route.rsplit('/', 1)[-1]}?page={number + 1}"
        call.send_json(200, bundle([], next_url=next_url), delay=0.8)

    server.answer = patient_then(page)
    response, seconds = hook(server, cds_key)
    assert response.status_code == 412
    assert seconds < DEADLINE + SLACK
    message = response.get_json()["message"]
    assert f"did not deliver the data within the {DEADLINE:g} s deadline" in message
    assert_in_words(response.get_json())


def test_a_hooks_412_carries_the_servers_operation_outcome(
    server: ScriptedServer, cds_key: SigningKey
) -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "forbidden", "details": {"text": "scope missing"}}],
    }
    server.answer = lambda call: call.send_json(403, outcome)
    response, _ = hook(server, cds_key)
    assert response.status_code == 412
    body = response.get_json()
    assert "it said: scope missing" in body["message"]
    assert body["outcome"] == outcome
    assert_in_words(body)


def test_the_deadline_settings_are_checked_at_start_up(server: ScriptedServer) -> None:
    from service.settings import SettingError

    for name, value in [
        ("FHIR_DEADLINE_SECONDS", 0),
        ("CDS_DEADLINE_SECONDS", 60),
        ("FHIR_DEADLINE_SECONDS", "soon"),
    ]:
        with pytest.raises(SettingError, match=f"NELM_CDS_{name}"):
            rest_app(server, **{name: value})
