"""Timeouts, retries, status mapping and response guards of FhirClient (via responses)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from service.fhir import (
    FhirAuthError,
    FhirClient,
    FhirInvalidResponseError,
    FhirNotFoundError,
    FhirOperationOutcomeError,
    FhirUnavailableError,
)

from .conftest import BASE, SleepRecorder, outcome

PATIENT_URL = f"{BASE}/Patient/p1"
PATIENT = {"resourceType": "Patient", "id": "p1"}

Factory = Callable[..., FhirClient]


def test_every_request_has_the_configured_timeout_and_fhir_accept_header(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    rsps.get(PATIENT_URL, json=PATIENT)
    make_client(timeout=(1.5, 4.0)).read("Patient", "p1")
    call = rsps.calls[0]
    assert call.request.req_kwargs["timeout"] == (1.5, 4.0)  # type: ignore[attr-defined]
    assert call.request.headers["Accept"] == "application/fhir+json"
    assert "Authorization" not in call.request.headers


@pytest.mark.parametrize(
    "fault",
    [requests.exceptions.ConnectTimeout("connect"), requests.exceptions.ReadTimeout("read")],
    ids=["connect", "read"],
)
def test_a_timeout_fails_at_once_as_unavailable_without_retrying(
    rsps: responses.RequestsMock,
    make_client: Factory,
    sleeps: SleepRecorder,
    fault: Exception,
) -> None:
    rsps.get(PATIENT_URL, body=fault)
    started = time.monotonic()
    with pytest.raises(FhirUnavailableError) as caught:
        make_client().read("Patient", "p1")
    assert time.monotonic() - started < 1.0
    assert caught.value.timed_out is True
    assert caught.value.status is None
    assert caught.value.url == PATIENT_URL
    assert len(rsps.calls) == 1
    assert sleeps.delays == []


def test_a_refused_connection_is_unavailable_and_not_a_timeout(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    rsps.get(PATIENT_URL, body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(FhirUnavailableError) as caught:
        make_client().read("Patient", "p1")
    assert caught.value.timed_out is False


def test_a_real_timeout_against_a_silent_socket_is_prompt() -> None:
    """A listening socket that never answers: the read timeout ends the call."""
    import socket

    from service.fhir import Allowlist

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    base = f"http://127.0.0.1:{port}/fhir"
    client = FhirClient(base, allowlist=Allowlist([base]), timeout=(0.5, 0.3))
    started = time.monotonic()
    try:
        with pytest.raises(FhirUnavailableError) as caught:
            client.read("Patient", "p1")
    finally:
        client.close()
        server.close()
    assert caught.value.timed_out is True
    assert time.monotonic() - started < 2.0


def test_429_with_retry_after_one_second_waits_then_succeeds(
    rsps: responses.RequestsMock, allowlist: object
) -> None:
    rsps.get(PATIENT_URL, status=429, headers={"Retry-After": "1"})
    rsps.get(PATIENT_URL, json=PATIENT)
    client = FhirClient(BASE, allowlist=allowlist)  # type: ignore[arg-type]  # real sleep
    started = time.monotonic()
    assert client.read("Patient", "p1") == PATIENT
    assert time.monotonic() - started >= 0.9
    assert len(rsps.calls) == 2


def test_retry_after_longer_than_the_cap_is_capped(
    rsps: responses.RequestsMock, make_client: Factory, sleeps: SleepRecorder
) -> None:
    rsps.get(PATIENT_URL, status=429, headers={"Retry-After": "120"})
    rsps.get(PATIENT_URL, json=PATIENT)
    make_client(max_retry_after=2.0).read("Patient", "p1")
    assert sleeps.delays == [2.0]


def test_retry_after_as_an_http_date_is_honoured(
    rsps: responses.RequestsMock, make_client: Factory, sleeps: SleepRecorder
) -> None:
    from email.utils import formatdate

    rsps.get(PATIENT_URL, status=503, headers={"Retry-After": formatdate(time.time() + 3)})
    rsps.get(PATIENT_URL, json=PATIENT)
    make_client().read("Patient", "p1")
    assert len(sleeps.delays) == 1
    assert 1.5 <= sleeps.delays[0] <= 3.0


def test_503_is_retried_up_to_the_bound_with_exponential_backoff_then_unavailable(
    rsps: responses.RequestsMock, make_client: Factory, sleeps: SleepRecorder
) -> None:
    rsps.get(PATIENT_URL, status=503, json=outcome("transient", "busy"))
    with pytest.raises(FhirUnavailableError) as caught:
        make_client(retries=2, backoff=0.25).read("Patient", "p1")
    assert len(rsps.calls) == 3
    assert sleeps.delays == [0.25, 0.5]
    assert caught.value.status == 503
    assert caught.value.outcome == outcome("transient", "busy")
    assert caught.value.timed_out is False


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_transient_statuses_are_retried_then_succeed(
    rsps: responses.RequestsMock, make_client: Factory, status: int
) -> None:
    rsps.get(PATIENT_URL, status=status)
    rsps.get(PATIENT_URL, json=PATIENT)
    assert make_client().read("Patient", "p1") == PATIENT
    assert len(rsps.calls) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, FhirOperationOutcomeError),
        (401, FhirAuthError),
        (403, FhirAuthError),
        (404, FhirNotFoundError),
        (410, FhirNotFoundError),
        (409, FhirOperationOutcomeError),
        (422, FhirOperationOutcomeError),
        (500, FhirUnavailableError),
    ],
)
def test_other_statuses_are_never_retried_and_keep_the_outcome(
    rsps: responses.RequestsMock,
    make_client: Factory,
    sleeps: SleepRecorder,
    status: int,
    error: type[Exception],
) -> None:
    rsps.get(PATIENT_URL, status=status, json=outcome(diagnostics=f"status {status}"))
    with pytest.raises(error) as caught:
        make_client().read("Patient", "p1")
    assert len(rsps.calls) == 1
    assert sleeps.delays == []
    assert caught.value.status == status  # type: ignore[attr-defined]
    assert caught.value.outcome == outcome(diagnostics=f"status {status}")  # type: ignore[attr-defined]


def test_a_post_is_not_retried_on_a_gateway_error_that_may_have_processed_it(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    rsps.post(BASE, status=502)
    with pytest.raises(FhirUnavailableError):
        make_client().transaction({"resourceType": "Bundle", "type": "transaction"})
    assert len(rsps.calls) == 1


def test_a_post_is_retried_on_503(rsps: responses.RequestsMock, make_client: Factory) -> None:
    rsps.post(BASE, status=503)
    rsps.post(BASE, json={"resourceType": "Bundle", "type": "transaction-response"})
    answer = make_client().transaction({"resourceType": "Bundle", "type": "transaction"})
    assert answer["type"] == "transaction-response"
    assert len(rsps.calls) == 2


def test_an_operation_outcome_error_keeps_the_servers_outcome_but_not_in_its_message(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    body = outcome("processing", "Patient John Smith MRN 12345 is invalid")
    rsps.post(f"{BASE}/Observation", status=422, json=body)
    with pytest.raises(FhirOperationOutcomeError) as caught:
        make_client().create({"resourceType": "Observation", "status": "final"})
    assert caught.value.outcome == body
    assert "John" not in str(caught.value)
    assert str(caught.value) == "POST Observation create: the server rejected it (422)"


def test_an_error_with_an_html_body_has_no_outcome(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    rsps.get(PATIENT_URL, status=404, body="<html>Not Found</html>", content_type="text/html")
    with pytest.raises(FhirNotFoundError) as caught:
        make_client().read("Patient", "p1")
    assert caught.value.outcome is None


@pytest.mark.parametrize(
    "body",
    [
        "<html>gateway login page</html>",
        "{truncated",
        "[1, 2, 3]",
        '{"no": "resourceType"}',
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["html", "broken-json", "array", "no-resource-type", "deeply-nested"],
)
def test_a_200_with_a_body_that_is_not_a_fhir_resource_is_an_invalid_response(
    rsps: responses.RequestsMock, make_client: Factory, body: str
) -> None:
    rsps.get(PATIENT_URL, body=body, status=200)
    with pytest.raises(FhirInvalidResponseError):
        make_client().read("Patient", "p1")


def test_a_200_with_another_resource_type_is_an_invalid_response(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    rsps.get(PATIENT_URL, json=outcome())
    with pytest.raises(FhirInvalidResponseError, match="expected a Patient"):
        make_client().read("Patient", "p1")


def test_a_read_that_answers_another_id_is_an_invalid_response(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    rsps.get(PATIENT_URL, json={"resourceType": "Patient", "id": "p2"})
    with pytest.raises(FhirInvalidResponseError):
        make_client().read("Patient", "p1")


def test_a_body_larger_than_the_limit_is_refused(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    padding = "x" * 5000
    rsps.get(PATIENT_URL, json={"resourceType": "Patient", "id": "p1", "text": padding})
    with pytest.raises(FhirInvalidResponseError, match="larger than 1000 bytes"):
        make_client(max_response_bytes=1000).read("Patient", "p1")


def test_a_streamed_body_without_length_is_cut_at_the_limit(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    class Endless(io.RawIOBase):
        """A body that never ends: the guard must stop reading it."""

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            buffer[:] = b"x" * len(buffer)
            return len(buffer)

    body = io.BufferedReader(Endless())
    rsps.get(PATIENT_URL, body=body, auto_calculate_content_length=False)  # type: ignore[arg-type]
    with pytest.raises(FhirInvalidResponseError):
        make_client(max_response_bytes=50_000).read("Patient", "p1")


def test_a_redirect_is_not_followed(rsps: responses.RequestsMock, make_client: Factory) -> None:
    rsps.get(PATIENT_URL, status=302, headers={"Location": "https://evil.example.com/Patient/p1"})
    with pytest.raises(FhirInvalidResponseError, match="redirect"):
        make_client().read("Patient", "p1")
    assert len(rsps.calls) == 1


@pytest.mark.parametrize("bad_id", ["../Observation", "p1/_history", "", "a" * 65, "p 1"])
def test_an_invalid_id_is_refused_before_any_request(
    rsps: responses.RequestsMock, make_client: Factory, bad_id: str
) -> None:
    with pytest.raises(ValueError, match="FHIR id"):
        make_client().read("Patient", bad_id)
    assert len(rsps.calls) == 0


def test_capabilities_returns_the_capability_statement(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    statement = {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"}
    rsps.get(f"{BASE}/metadata", json=statement)
    assert make_client().capabilities() == statement


def test_decimals_are_read_exactly(rsps: responses.RequestsMock, make_client: Factory) -> None:
    from decimal import Decimal

    body = '{"resourceType": "Observation", "id": "o1", "valueQuantity": {"value": 20.5248}}'
    rsps.get(f"{BASE}/Observation/o1", body=body)
    observation = make_client().read("Observation", "o1")
    assert observation["valueQuantity"]["value"] == Decimal("20.5248")


def test_the_client_uses_one_session_for_every_request(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    session = requests.Session()
    opened: list[str] = []
    original = session.request

    def counting(method: str, url: str, **kwargs: object) -> requests.Response:
        opened.append(method)
        return original(method, url, **kwargs)  # type: ignore[arg-type]

    session.request = counting  # type: ignore[method-assign]
    rsps.get(PATIENT_URL, json=PATIENT)
    rsps.get(f"{BASE}/metadata", json={"resourceType": "CapabilityStatement"})
    client = make_client(session=session)
    client.read("Patient", "p1")
    client.capabilities()
    assert opened == ["GET", "GET"]
