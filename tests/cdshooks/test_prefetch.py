"""Prefetch semantics: absent → fetched, null → no data, OperationOutcome → fetched,
allowlist before any call, 412 when data cannot be had. The FHIR server is ``responses``."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

from service.cdshooks.discovery import prefetch_templates
from service.cdshooks.prefetch import (
    FetchSettings,
    PrefetchUnavailableError,
    read_prefetched,
    resolve_record,
)
from service.cdshooks.request import FhirAuthorization, HookRequest, HookRequestError
from service.fhir import Allowlist
from service.mappers import DEFAULT_TERMINOLOGY
from tests.cdshooks.conftest import full_prefetch, searchset

FHIR = "https://ehr.example.org/fhir"
TOKEN = "opaque-access-token-123"
TEMPLATES = prefetch_templates(DEFAULT_TERMINOLOGY)
PATIENT, OBSERVATIONS, CONDITIONS, PROCEDURES = TEMPLATES
SETTINGS = FetchSettings(Allowlist([FHIR]), timeout=(1.0, 1.0), retries=0)
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "processing", "diagnostics": "prefetch failed"}],
}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Replace HTTP: an unregistered URL raises ConnectionError, nothing leaves."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def hook(
    prefetch: dict[str, Any],
    *,
    server: str | None = FHIR,
    token: str | None = TOKEN,
    patient_id: str = "demo-transplant",
) -> HookRequest:
    authorization = (
        FhirAuthorization(token, "Bearer", 300, "patient/*.rs", "nelm-cds") if token else None
    )
    return HookRequest(
        hook="patient-view",
        hook_instance="d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        patient_id=patient_id,
        fhir_server=server,
        fhir_authorization=authorization,
        prefetch=prefetch,
    )


def serve(rsps: responses.RequestsMock, patient_id: str = "demo-transplant") -> None:
    """Answer the four template requests for a demo patient."""
    data = full_prefetch(patient_id)
    rsps.get(f"{FHIR}/Patient/{patient_id}", json=data["patient"])
    for key, kind in (
        ("observations", "Observation"),
        ("conditions", "Condition"),
        ("procedures", "Procedure"),
    ):
        rsps.get(f"{FHIR}/{kind}", json=data[key])


def called(rsps: responses.RequestsMock) -> list[str]:
    return [urlsplit(str(call.request.url)).path.rsplit("/", 1)[-1] for call in rsps.calls]


# --- reading one prefetched value -------------------------------------------------------


def test_null_means_no_data() -> None:
    prefetched = read_prefetched(CONDITIONS, None, "p1")
    assert prefetched is not None
    assert prefetched.resources == ()


def test_an_operation_outcome_means_not_prefetched() -> None:
    assert read_prefetched(CONDITIONS, OUTCOME, "p1") is None


def test_a_bundle_holding_an_error_outcome_means_not_prefetched() -> None:
    bundle = searchset([])
    bundle["entry"] = [{"resource": OUTCOME, "search": {"mode": "outcome"}}]
    assert read_prefetched(CONDITIONS, bundle, "p1") is None


def test_a_bundle_with_a_next_link_is_partial_so_not_prefetched() -> None:
    bundle = searchset([{"resourceType": "Condition", "id": "c1"}])
    bundle["link"] = [{"relation": "next", "url": f"{FHIR}/Condition?page=2"}]
    assert read_prefetched(CONDITIONS, bundle, "p1") is None


def test_a_bundle_keeps_its_resources_of_the_template_type_and_warnings_as_notes() -> None:
    warning = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "warning", "code": "informational", "diagnostics": "truncated"}],
    }
    bundle = searchset([{"resourceType": "Condition", "id": "c1"}])
    bundle["entry"] += [
        {"resource": warning, "search": {"mode": "outcome"}},
        {"resource": {"resourceType": "Patient", "id": "p1"}, "search": {"mode": "include"}},
    ]
    prefetched = read_prefetched(CONDITIONS, bundle, "p1")
    assert prefetched is not None
    assert [r["id"] for r, _ in prefetched.resources] == ["c1"]
    assert prefetched.notes == ("truncated (warning)",)


def test_a_single_resource_of_the_template_type_is_accepted() -> None:
    prefetched = read_prefetched(CONDITIONS, {"resourceType": "Condition", "id": "c1"}, "p1")
    assert prefetched is not None
    assert len(prefetched.resources) == 1


def test_a_value_of_another_type_is_a_malformed_request() -> None:
    with pytest.raises(HookRequestError) as caught:
        read_prefetched(CONDITIONS, {"resourceType": "Observation", "id": "o1"}, "p1")
    assert caught.value.status_code == 400
    assert caught.value.to_dict()["field"] == "prefetch.conditions"


def test_a_prefetched_patient_must_be_the_patient_in_context() -> None:
    with pytest.raises(HookRequestError):
        read_prefetched(PATIENT, {"resourceType": "Patient", "id": "someone-else"}, "p1")
    same = read_prefetched(PATIENT, {"resourceType": "Patient", "id": "p1"}, "p1")
    assert same is not None
    assert len(same.resources) == 1


# --- resolving the record ---------------------------------------------------------------


def test_full_prefetch_makes_no_call(rsps: responses.RequestsMock) -> None:
    resolution = resolve_record(hook(full_prefetch("demo-transplant")), TEMPLATES, SETTINGS)
    assert resolution.fetched == ()
    assert len(rsps.calls) == 0
    assert resolution.record.patient.reference == "Patient/demo-transplant"
    assert len(resolution.record.resources) == 36


def test_null_prefetch_is_no_data_and_makes_no_call(rsps: responses.RequestsMock) -> None:
    nulls = dict.fromkeys(("patient", "observations", "conditions", "procedures"))
    resolution = resolve_record(hook(nulls, server=None, token=None), TEMPLATES, SETTINGS)
    assert len(rsps.calls) == 0
    assert resolution.record.resources == ()
    assert resolution.record.patient.resource == {
        "resourceType": "Patient",
        "id": "demo-transplant",
    }


def test_absent_keys_are_fetched_with_the_clients_token(rsps: responses.RequestsMock) -> None:
    serve(rsps)
    prefetch = full_prefetch("demo-transplant")
    del prefetch["observations"], prefetch["procedures"]
    resolution = resolve_record(hook(prefetch), TEMPLATES, SETTINGS)
    assert resolution.fetched == ("observations", "procedures")
    assert sorted(called(rsps)) == ["Observation", "Procedure"]
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in rsps.calls)
    assert len(resolution.record.resources) == 36


def test_the_observation_search_uses_the_discovery_template(
    rsps: responses.RequestsMock,
) -> None:
    serve(rsps)
    prefetch = full_prefetch("demo-transplant")
    del prefetch["observations"]
    resolve_record(hook(prefetch), TEMPLATES, SETTINGS)
    (call,) = rsps.calls
    params = dict(parse_qsl(urlsplit(str(call.request.url)).query))
    assert params["patient"] == "demo-transplant"
    assert ("code", params["code"]) == OBSERVATIONS.params[0]


def test_without_fhir_authorization_the_server_is_called_without_a_token(
    rsps: responses.RequestsMock,
) -> None:
    serve(rsps)
    resolve_record(hook({}, token=None), TEMPLATES, SETTINGS)
    assert sorted(called(rsps)) == ["Condition", "Observation", "Procedure", "demo-transplant"]
    assert all("Authorization" not in c.request.headers for c in rsps.calls)


def test_an_operation_outcome_value_is_fetched_instead(rsps: responses.RequestsMock) -> None:
    serve(rsps)
    prefetch = full_prefetch("demo-transplant")
    prefetch["conditions"] = OUTCOME
    resolution = resolve_record(hook(prefetch), TEMPLATES, SETTINGS)
    assert resolution.fetched == ("conditions",)
    assert called(rsps) == ["Condition"]


def test_missing_keys_are_fetched_concurrently(rsps: responses.RequestsMock) -> None:
    data = full_prefetch("demo-transplant")

    def slow(key: str) -> Any:
        def answer(_: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            time.sleep(0.3)
            return 200, {"Content-Type": "application/fhir+json"}, json.dumps(data[key])

        return answer

    for key, kind in (("observations", "Observation"), ("conditions", "Condition")):
        rsps.add_callback(responses.GET, f"{FHIR}/{kind}", callback=slow(key))
    rsps.add_callback(responses.GET, f"{FHIR}/Procedure", callback=slow("procedures"))
    started = time.monotonic()
    resolve_record(hook({"patient": data["patient"]}), TEMPLATES, SETTINGS)
    assert time.monotonic() - started < 0.75  # three 0.3 s answers, not one after another


def test_a_server_off_the_allowlist_is_never_called(rsps: responses.RequestsMock) -> None:
    rsps.get("https://attacker.example/fhir/Observation", json=searchset([]))
    with pytest.raises(PrefetchUnavailableError) as caught:
        resolve_record(hook({}, server="https://attacker.example/fhir"), TEMPLATES, SETTINGS)
    assert caught.value.status_code == 412
    assert "allowlist" in caught.value.message
    assert len(rsps.calls) == 0


def test_missing_data_without_fhir_server_is_412() -> None:
    with pytest.raises(PrefetchUnavailableError, match="no fhirServer"):
        resolve_record(hook({}, server=None, token=None), TEMPLATES, SETTINGS)


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "json": OUTCOME},
        {"status": 401, "json": OUTCOME},
        {"body": requests.exceptions.ConnectTimeout("timed out")},
        {"body": requests.exceptions.ConnectionError("refused")},
        {"status": 200, "json": {"resourceType": "Patient", "id": "x"}},
    ],
    ids=["server-error", "token-refused", "timeout", "refused", "not-a-bundle"],
)
def test_a_failing_fetch_is_412_naming_the_keys(
    rsps: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    rsps.get(f"{FHIR}/Observation", **answer)
    prefetch = full_prefetch("demo-transplant")
    del prefetch["observations"]
    with pytest.raises(PrefetchUnavailableError) as caught:
        resolve_record(hook(prefetch), TEMPLATES, SETTINGS)
    assert caught.value.to_dict()["prefetch"] == ["observations"]
    assert TOKEN not in caught.value.message


def test_an_unknown_patient_on_the_server_is_412(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{FHIR}/Patient/demo-transplant", status=404, json=OUTCOME)
    prefetch = full_prefetch("demo-transplant")
    del prefetch["patient"]
    with pytest.raises(PrefetchUnavailableError, match="no Patient"):
        resolve_record(hook(prefetch), TEMPLATES, SETTINGS)


def test_fetching_logs_neither_the_token_nor_the_patient(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.get(f"{FHIR}/Observation", status=503)
    serve(rsps)
    with pytest.raises(PrefetchUnavailableError):
        resolve_record(hook({}), TEMPLATES, SETTINGS)
    assert caplog.records
    assert TOKEN not in caplog.text
    assert "demo-transplant" not in caplog.text


def test_resources_about_another_patient_are_dropped_unnamed() -> None:
    prefetch = full_prefetch("demo-transplant")
    stranger = {
        "resourceType": "Condition",
        "id": "other",
        "subject": {"reference": "Patient/stranger"},
    }
    prefetch["conditions"]["entry"].append({"resource": stranger})
    resolution = resolve_record(hook(prefetch), TEMPLATES, SETTINGS)
    assert "Condition/other" not in {e.reference for e in resolution.record.resources}
    assert all("stranger" not in w.message for w in resolution.record.warnings)


def test_a_plain_http_server_off_loopback_is_412_and_never_called(
    rsps: responses.RequestsMock,
) -> None:
    with pytest.raises(PrefetchUnavailableError, match="https") as caught:
        resolve_record(hook({}, server="http://ehr.example.org/fhir"), TEMPLATES, SETTINGS)
    assert caught.value.status_code == 412
    assert len(rsps.calls) == 0
