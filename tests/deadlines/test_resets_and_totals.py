"""Against a real (scripted) server: an idempotent read is tried once more when a pooled
connection was reset, a POST never is; a search that delivers fewer results than its
``Bundle.total`` is asked again code by code, and when that cannot complete it the
caller gets an error (REST 502, CDS 412), never an evaluation of partial data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from service.app import create_app
from service.fhir import Allowlist, FhirClient, FhirUnavailableError
from service.fhir.errors import FhirIncompleteError
from service.mappers import DEFAULT_TERMINOLOGY
from tests.cdshooks.jwt_factory import jwks, new_ec_key, sign
from tests.conftest import FHIR_SERVICE_SETTINGS
from tests.deadlines.scripted_server import Call, ScriptedServer, scripted_server

PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"}
LOINC = "http://loinc.org"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running


def client_for(server: ScriptedServer, **options: Any) -> FhirClient:
    return FhirClient(server.base_url, allowlist=Allowlist([server.base_url]), **options)


# --- a reset connection ----------------------------------------------------------------------


def test_a_read_on_a_connection_the_server_dropped_is_tried_once_more(
    server: ScriptedServer,
) -> None:
    def drop_the_second(call: Call) -> None:
        if len(server.calls) == 2:
            call.close_connection = True  # closed without an answer: a reset keep-alive
            return
        call.send_json(200, PATIENT)

    server.answer = drop_the_second
    with client_for(server) as client:
        assert client.read("Patient", "p1") == PATIENT  # opens a keep-alive connection
        assert client.read("Patient", "p1") == PATIENT  # reuses it: dropped, tried again
    assert len(server.calls) == 3


def test_a_read_dropped_twice_fails_as_unavailable(server: ScriptedServer) -> None:
    def drop(call: Call) -> None:
        call.close_connection = True

    server.answer = drop
    with client_for(server) as client, pytest.raises(FhirUnavailableError):
        client.read("Patient", "p1")
    assert len(server.calls) == 2  # one try, one retry


def test_a_post_on_a_dropped_connection_is_not_tried_again(server: ScriptedServer) -> None:
    def drop(call: Call) -> None:
        call.close_connection = True

    server.answer = drop
    with client_for(server) as client, pytest.raises(FhirUnavailableError):
        client.transaction({"resourceType": "Bundle", "type": "transaction"})
    assert len(server.calls) == 1  # it may have been processed: never sent twice


# --- Bundle.total --------------------------------------------------------------------------------


def observation(number: int, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"o{number}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": "Patient/p1"},
    }


BILIRUBIN, PLATELETS = "1975-2", "777-3"
ALL = [observation(1, BILIRUBIN), observation(2, BILIRUBIN), observation(3, PLATELETS)]
BOTH_CODES = f"{LOINC}|{BILIRUBIN},{LOINC}|{PLATELETS}"


def searchset(resources: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "entry": [
            {"fullUrl": f"urn:x:{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }


def short_server(*, narrowed_complete: bool) -> Any:
    """A server that cuts a multi-code search at two results, without a next link."""

    def answer(call: Call) -> None:
        route = call.route
        if route.endswith("/Patient/p1"):
            call.send_json(200, PATIENT)
        elif route.endswith("/Observation"):
            codes = call.query["code"][0].split(",")
            matching = [o for o in ALL if f"{LOINC}|{o['code']['coding'][0]['code']}" in codes]
            kept = matching if narrowed_complete and len(codes) == 1 else matching[:1]
            call.send_json(200, searchset(kept, total=len(matching)))
        else:
            call.send_json(200, searchset([], total=0))

    return answer


def test_a_short_search_is_completed_code_by_code(server: ScriptedServer) -> None:
    server.answer = short_server(narrowed_complete=True)
    with client_for(server) as client:
        found = client.search("Observation", [("patient", "p1"), ("code", BOTH_CODES)])
    assert sorted(r["id"] for r in found) == ["o1", "o2", "o3"]


def test_a_search_that_stays_short_is_an_error(server: ScriptedServer) -> None:
    server.answer = short_server(narrowed_complete=False)
    with (
        client_for(server) as client,
        pytest.raises(FhirIncompleteError, match="announced 3 results but delivered 1"),
    ):
        client.search("Observation", [("patient", "p1"), ("code", BOTH_CODES)])


def test_a_short_search_without_a_code_list_is_an_error_at_once(server: ScriptedServer) -> None:
    server.answer = lambda call: call.send_json(200, searchset([], total=5))
    with client_for(server) as client, pytest.raises(FhirIncompleteError):
        client.search("Condition", [("patient", "p1")])
    assert len(server.calls) == 1


def test_a_fetch_of_a_patient_is_completed_code_by_code(server: ScriptedServer) -> None:
    server.answer = short_server(narrowed_complete=True)
    with client_for(server) as client:
        record = client.fetch_patient("p1", DEFAULT_TERMINOLOGY)
    observations = [e for e in record.resources if e.reference.startswith("Observation/")]
    assert sorted(e.reference for e in observations) == [
        "Observation/o1",
        "Observation/o2",
        "Observation/o3",
    ]


def test_the_rest_api_never_evaluates_partial_data(server: ScriptedServer) -> None:
    server.answer = short_server(narrowed_complete=False)
    app = create_app({"TESTING": True, **FHIR_SERVICE_SETTINGS, "FHIR_BASE_URL": server.base_url})
    response = app.test_client().get("/api/patients/p1/evaluation?at=2026-11-22")
    assert response.status_code == 502
    message = response.get_json()["message"]
    assert "incomplete" in message
    assert "announced" in message


def test_a_hook_never_evaluates_partial_data(server: ScriptedServer) -> None:
    server.answer = short_server(narrowed_complete=False)
    key = new_ec_key("ehr-1")
    app = create_app(
        {
            "TESTING": True,
            "PUBLIC_BASE_URL": "http://localhost",
            "CDS_ISSUERS": {"https://ehr.example.org": {"jwks": jwks(key)}},
            "FHIR_ALLOWLIST": server.base_url,
        }
    )
    token = sign(
        key, iss="https://ehr.example.org", aud="http://localhost/cds-services/nelm-eligibility"
    )
    body = {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": server.base_url,
        "context": {"patientId": "p1", "userId": "Practitioner/1"},
    }
    response = app.test_client().post(
        "/cds-services/nelm-eligibility", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 412
    assert "incomplete" in response.get_json()["message"]


def test_a_prefetched_bundle_shorter_than_its_total_is_fetched_again() -> None:
    from service.cdshooks.discovery import prefetch_templates
    from service.cdshooks.prefetch import read_prefetched

    template = next(t for t in prefetch_templates(DEFAULT_TERMINOLOGY) if t.key == "observations")
    assert read_prefetched(template, searchset(ALL[:2], total=3), "p1") is None
    assert read_prefetched(template, searchset(ALL, total=3), "p1") is not None


def test_a_retried_reset_leaves_no_patient_id_in_the_logs(
    server: ScriptedServer, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from service.observability import configure_logging

    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG, logger="service")

    def drop_the_second(call: Call) -> None:
        if len(server.calls) == 2:
            call.close_connection = True
            return
        call.send_json(200, {**PATIENT, "id": "secret-patient-77"})

    server.answer = drop_the_second
    with client_for(server) as client:
        client.read("Patient", "secret-patient-77")
        client.read("Patient", "secret-patient-77")
    assert len(server.calls) == 3
    logged = capfd.readouterr().err + caplog.text
    assert "secret-patient-77" not in logged
