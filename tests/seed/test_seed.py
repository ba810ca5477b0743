"""Seeding: transactions the server accepts, smaller ones on refusal, the server's reason
on failure. Against sekmet, and against refusals faked with ``responses``."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

import pytest
import responses

from service.cli import main
from service.demo_store import DemoStore
from service.fhir import Allowlist, FhirClient
from service.seed import SeedError, demo_entries, seed_demo_patients
from tests.integration.sekmet import FhirServer, SekmetError, running_sekmet

BASE = "https://fhir.example.org/r4"


def _seed_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(["seed", *args])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    try:
        with running_sekmet(tmp_path_factory.mktemp("sekmet-seed")) as server:
            yield server
    except SekmetError as exc:
        pytest.fail(str(exc))


def test_the_demo_goes_in_transactions_of_fifty(empty_server: FhirServer) -> None:
    status, out, err = _seed_cli("--fhir-base", empty_server.base_url)
    total = len(demo_entries(DemoStore.load()))
    assert status == 0, err
    assert f"({total} resources, {-(-total // 50)} transactions)" in out
    with FhirClient(empty_server.base_url, allowlist=Allowlist([empty_server.base_url])) as client:
        assert client.read("Patient", "demo-transplant")["id"] == "demo-transplant"
        procedures = client.search("Procedure", {"patient": "demo-transplant"})
    assert procedures


def test_referenced_resources_come_first() -> None:
    kinds = [e["resource"]["resourceType"] for e in demo_entries(DemoStore.load())]
    assert kinds.index("Observation") > max(i for i, k in enumerate(kinds) if k == "Condition")
    assert kinds.index("Condition") > max(i for i, k in enumerate(kinds) if k == "Patient")


def _outcome(text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing", "diagnostics": text}],
    }


class LimitedServer:
    """Accepts transactions of at most ``limit`` entries; refuses ``refused`` entries."""

    def __init__(self, limit: int, refused: str | None = None) -> None:
        self.limit = limit
        self.refused = refused
        self.sizes: list[int] = []

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        bundle = json.loads(request.body)
        entries = bundle["entry"]
        self.sizes.append(len(entries))
        headers = {"Content-Type": "application/fhir+json"}
        if len(entries) > self.limit:
            text = f"Bundle has {len(entries)} entries, more than the {self.limit} allowed"
            return 400, headers, json.dumps(_outcome(text))
        for entry in entries:
            if entry["request"]["url"] == self.refused:
                return 422, headers, json.dumps(_outcome("Observation.code: unknown code system"))
        answer = {"resourceType": "Bundle", "type": "transaction-response", "entry": []}
        return 200, headers, json.dumps(answer)


def test_a_refused_transaction_is_split_until_the_server_accepts() -> None:
    server = LimitedServer(limit=20)
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, BASE, callback=server)
        summary = seed_demo_patients(BASE)
    total = len(demo_entries(DemoStore.load()))
    assert server.sizes[0] == 50
    assert max(size for size in server.sizes if size <= 20) <= 20
    assert summary.resources == total
    assert summary.transactions == sum(1 for size in server.sizes if size <= 20)
    assert sum(size for size in server.sizes if size <= 20) == total


def test_a_refused_entry_stops_with_the_servers_reason() -> None:
    refused = demo_entries(DemoStore.load())[60]["request"]["url"]
    server = LimitedServer(limit=1000, refused=refused)
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, BASE, callback=server)
        with pytest.raises(SeedError) as raised:
            seed_demo_patients(BASE)
    assert str(raised.value) == (
        f"the server refused {refused} (422): Observation.code: unknown code system"
    )


def test_the_command_prints_the_servers_reason_in_one_line() -> None:
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, BASE, callback=LimitedServer(limit=0))
        status, out, err = _seed_cli("--fhir-base", BASE, "--batch-size", "5")
    assert status == 1
    assert out == ""
    assert err.startswith("error: seeding failed: the server refused Patient/")
    assert "Bundle has 1 entries, more than the 0 allowed" in err
    assert err.count("\n") == 1


def test_a_server_error_is_not_split_and_says_the_status() -> None:
    with responses.RequestsMock() as mock:
        mock.post(BASE, status=500, json=_outcome("database is down"))
        status, _, err = _seed_cli("--fhir-base", BASE)
        calls = len(mock.calls)
    assert status == 1
    assert "(500)" in err
    assert "database is down" in err
    assert calls == 1
