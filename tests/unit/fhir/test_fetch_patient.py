"""fetch_patient: four concurrent requests that become a PatientRecord."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from service.fhir import (
    BearerToken,
    FhirClient,
    FhirNotFoundError,
    FhirUnavailableError,
)
from service.fhir.queries import observation_code_param
from service.mappers import DEFAULT_TERMINOLOGY, PatientRecord

from .conftest import BASE, bundle

Factory = Callable[..., FhirClient]
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"}
SUBJECT = {"reference": "Patient/p1"}
KI67 = {
    "resourceType": "Observation",
    "id": "ki67",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "29593-1"}]},
    "subject": SUBJECT,
    "valueQuantity": {"value": 4, "unit": "%", "system": "http://unitsofmeasure.org"},
}
METASTASIS = {
    "resourceType": "Condition",
    "id": "mets",
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C7B.02"}]},
    "subject": SUBJECT,
}
RESECTION = {
    "resourceType": "Procedure",
    "id": "resection",
    "status": "completed",
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "107938000"}]},
    "subject": SUBJECT,
}
Reply = tuple[int, dict[str, str], str]


def register(rsps: responses.RequestsMock, answer: Callable[[str], Reply]) -> None:
    """Answer the four fetch_patient URLs through ``answer(resource_type)``."""
    for resource_type in ("Patient", "Observation", "Condition", "Procedure"):
        url = f"{BASE}/Patient/p1" if resource_type == "Patient" else f"{BASE}/{resource_type}"
        rsps.add_callback(
            responses.GET,
            url,
            callback=lambda request, kind=resource_type: answer(kind),
            content_type="application/fhir+json",
        )


def default_answer(resource_type: str) -> Reply:
    if resource_type == "Patient":
        return 200, {}, json.dumps(PATIENT)
    found = {"Observation": [KI67], "Condition": [METASTASIS], "Procedure": [RESECTION]}
    return 200, {}, json.dumps(bundle(*found[resource_type]))


def test_fetch_patient_issues_the_four_requests_concurrently(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    # Each answer waits at a barrier for all four: done one after another, the first
    # wait would time out (BrokenBarrierError) and the fetch would fail.
    barrier = threading.Barrier(4, timeout=5)
    windows: dict[str, tuple[float, float]] = {}

    def answer(resource_type: str) -> Reply:
        started = time.monotonic()
        barrier.wait()
        windows[resource_type] = (started, time.monotonic())
        return default_answer(resource_type)

    register(rsps, answer)
    record = make_client().fetch_patient("p1")
    assert isinstance(record, PatientRecord)
    assert set(windows) == {"Patient", "Observation", "Condition", "Procedure"}
    latest_start = max(start for start, _ in windows.values())
    earliest_end = min(end for _, end in windows.values())
    assert latest_start <= earliest_end  # all four were in flight at the same moment


def test_fetch_patient_returns_the_patients_record(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    register(rsps, default_answer)
    record = make_client().fetch_patient("p1")
    assert record.patient.reference == "Patient/p1"
    assert record.patient.resource == PATIENT
    assert record.patient.full_url == f"{BASE}/Patient/p1"
    assert sorted(entry.reference for entry in record.resources) == [
        "Condition/mets",
        "Observation/ki67",
        "Procedure/resection",
    ]
    assert record.warnings == ()


def test_fetch_patient_searches_by_patient_and_the_mappers_observation_codes(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    codes = observation_code_param(DEFAULT_TERMINOLOGY)
    assert codes is not None
    rsps.get(f"{BASE}/Patient/p1", json=PATIENT)
    rsps.get(
        f"{BASE}/Observation",
        json=bundle(),
        match=[matchers.query_param_matcher({"patient": "p1", "code": codes, "_count": "200"})],
    )
    for resource_type in ("Condition", "Procedure"):
        rsps.get(
            f"{BASE}/{resource_type}",
            json=bundle(),
            match=[matchers.query_param_matcher({"patient": "p1", "_count": "200"})],
        )
    make_client().fetch_patient("p1")
    assert len(rsps.calls) == 4
    assert "http://loinc.org|29593-1" in codes.split(",")
    assert "http://loinc.org|1975-2" in codes.split(",")


def test_an_unknown_patient_is_not_found_even_when_the_searches_succeed(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    def answer(resource_type: str) -> Reply:
        if resource_type == "Patient":
            return 404, {}, json.dumps({"resourceType": "OperationOutcome", "issue": []})
        return 200, {}, json.dumps(bundle())

    register(rsps, answer)
    with pytest.raises(FhirNotFoundError):
        make_client().fetch_patient("p1")


def test_a_failing_search_fails_the_fetch(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    def answer(resource_type: str) -> Reply:
        if resource_type == "Condition":
            raise requests.exceptions.ReadTimeout("slow")
        return default_answer(resource_type)

    register(rsps, answer)
    with pytest.raises(FhirUnavailableError) as caught:
        make_client().fetch_patient("p1")
    assert caught.value.timed_out is True


def test_resources_of_other_patients_or_types_are_dropped_without_naming_them(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    other = KI67 | {"id": "other-ki67", "subject": {"reference": "Patient/p2"}}
    absolute = METASTASIS | {"id": "abs", "subject": {"reference": f"{BASE}/Patient/p1"}}

    def answer(resource_type: str) -> Reply:
        if resource_type == "Observation":
            return 200, {}, json.dumps(bundle(KI67, other, PATIENT | {"id": "p3"}))
        if resource_type == "Condition":
            return 200, {}, json.dumps(bundle(absolute))
        return default_answer(resource_type)

    register(rsps, answer)
    record = make_client().fetch_patient("p1")
    assert sorted(entry.reference for entry in record.resources) == [
        "Condition/abs",
        "Observation/ki67",
        "Procedure/resection",
    ]
    assert "p2" not in repr(record.warnings)


def test_notes_the_server_attaches_to_a_search_become_warnings(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    def answer(resource_type: str) -> Reply:
        if resource_type != "Observation":
            return default_answer(resource_type)
        page: dict[str, Any] = bundle(KI67)
        page["entry"].append(
            {
                "resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {
                            "severity": "warning",
                            "code": "not-supported",
                            "diagnostics": "Unknown search parameter 'code'; ignored",
                        }
                    ],
                },
                "search": {"mode": "outcome"},
            }
        )
        return 200, {}, json.dumps(page)

    register(rsps, answer)
    record = make_client().fetch_patient("p1")
    assert [w.message for w in record.warnings] == [
        "the FHIR server reported: Unknown search parameter 'code'; ignored (warning) "
        "[Observation search]"
    ]


def test_an_invalid_patient_id_is_refused_before_any_request(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    with pytest.raises(ValueError, match="FHIR id"):
        make_client().fetch_patient("p1&_count=100000")
    assert len(rsps.calls) == 0


def test_fetch_patient_logs_neither_the_patient_nor_the_token(
    rsps: responses.RequestsMock, make_client: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="service")  # the app may have set INFO on it
    register(rsps, default_answer)
    make_client(auth=BearerToken("tok-XYZ")).fetch_patient("p1")
    assert caplog.records  # the client does log its requests...
    assert "p1" not in caplog.text  # ...but not who they were about
    assert "tok-XYZ" not in caplog.text
    assert "1970" not in caplog.text
