"""Server faults the probe must report, on a server faked with ``responses`` (sekmet does
none of them; Medplum's in-memory server does the first two)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from service.fhir import Allowlist, FhirClient
from service.mappers.codes import DEFAULT_TERMINOLOGY
from service.probe.checks import search_checks

BASE = "https://fhir.example.org/r4"
LOINC = "http://loinc.org"


def _observation(number: int, patient: str, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"{patient}-{number}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
        "valueQuantity": {
            "value": number,
            "unit": "%",
            "code": "%",
            "system": "http://unitsofmeasure.org",
        },
    }


def _record(kind: str, patient: str) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "id": f"{patient}-{kind.lower()}",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1"}]},
        "subject": {"reference": f"Patient/{patient}"},
    }


DATA = [_observation(n, "p1", "29593-1" if n % 2 else "777-3") for n in range(6)] + [
    _observation(9, "p2", "777-3"),
    _record("Condition", "p1"),
    _record("Procedure", "p1"),
]


class FakeServer:
    """A FHIR search endpoint with one switchable fault."""

    def __init__(self, fault: str) -> None:
        self.fault = fault

    def _matches(self, resource: dict[str, Any], params: list[tuple[str, str]]) -> bool:
        for name, value in params:
            if name == "patient":
                reference = resource["subject"]["reference"]
                if self.fault == "ignore_patient":
                    continue
                typed = value if value.startswith("Patient/") else f"Patient/{value}"
                if self.fault == "typed_only" and not value.startswith("Patient/"):
                    return False
                if reference != typed:
                    return False
            if name == "code":
                tokens = value.split(",")
                if self.fault == "code_or_broken":
                    tokens = tokens[:1]
                codes = {f"{c['system']}|{c['code']}" for c in resource["code"]["coding"]}
                if not codes & set(tokens):
                    return False
        return True

    def search(self, request: Any) -> tuple[int, dict[str, str], str]:
        parts = urlsplit(request.url)
        params = parse_qsl(parts.query)
        kind = parts.path.rsplit("/", 1)[-1]
        left_out = "p1-procedure" if self.fault == "no_procedures" else None
        data = [r for r in DATA if r["id"] != left_out]
        found = [r for r in data if r["resourceType"] == kind and self._matches(r, params)]
        count = int(dict(params).get("_count", "200"))
        offset = int(dict(params).get("_offset", "0"))
        page = found[offset : offset + count]
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [{"resource": r} for r in page],
        }
        if offset + count < len(found) and self.fault != "no_next":
            rest = [(k, v) for k, v in params if k != "_offset"] + [
                ("_offset", str(offset + count))
            ]
            query = "&".join(f"{k}={v}" for k, v in rest)
            bundle["link"] = [{"relation": "next", "url": f"{BASE}/{kind}?{query}"}]
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(bundle)


@pytest.fixture
def checks_for() -> Iterator[Any]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:

        def run(fault: str) -> dict[str, tuple[str, str]]:
            server = FakeServer(fault)
            mock.reset()
            patient = {"resourceType": "Patient", "id": "p1"}
            mock.get(f"{BASE}/Patient/p1", json=patient)
            for kind in ("Observation", "Condition", "Procedure"):
                mock.add_callback(responses.GET, f"{BASE}/{kind}", callback=server.search)
            with FhirClient(BASE, allowlist=Allowlist([BASE]), retries=0) as client:
                found = search_checks(client, "p1", DEFAULT_TERMINOLOGY)
            return {c.name: (c.status, c.detail) for c in found}

        yield run


def test_a_well_behaved_server_passes_every_search(checks_for: Any) -> None:
    assert {status for status, _ in checks_for("none").values()} == {"ok"}


def test_a_server_that_needs_the_typed_reference_fails_the_patient_search(checks_for: Any) -> None:
    checks = checks_for("typed_only")
    status, detail = checks["Observation?patient="]
    assert status == "fail"
    assert "patient=Patient/{id} found 6" in detail
    assert checks["the service's Observation search"][0] == "fail"


def test_a_server_without_next_links_fails_paging(checks_for: Any) -> None:
    status, detail = checks_for("no_next")["paging (next links)"]
    assert status == "fail"
    assert "gave 2 Observations" in detail
    assert "one page gave 6" in detail


def test_a_code_list_not_read_as_or_fails(checks_for: Any) -> None:
    status, detail = checks_for("code_or_broken")["code= with several codes"]
    assert status == "fail"
    assert "not read as 'or'" in detail


def test_a_server_ignoring_the_patient_filter_fails(checks_for: Any) -> None:
    status, detail = checks_for("ignore_patient")["Observation?patient="]
    assert status == "fail"
    assert "belong to other patients" in detail


def test_a_type_the_patient_has_none_of_is_not_called_ok(checks_for: Any) -> None:
    """Both forms of patient= finding nothing prove nothing (Medplum's in-memory server
    answered 0 and 0 for a patient without Procedures, and the probe said "ok")."""
    checks = checks_for("no_procedures")
    status, detail = checks["Procedure?patient="]
    assert status == "warning"
    assert "could not be checked" in detail
    assert checks["Condition?patient="][0] == "ok"
