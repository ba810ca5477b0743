"""Live ``$export`` against a Bulk Data server started by the test: kick-off, polling with
Retry-After (seconds and HTTP dates), 429 and transient errors, manifest, downloads with
the right auth and the allowlist, resume, and the same results as screening the folder."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from service.fhir import Allowlist, BearerToken, FhirError, FhirNotFoundError
from service.fhir.bulk import BulkExportClient, ExportRequest
from service.fhir.errors import FhirUnavailableError, FhirUrlNotAllowedError
from service.mappers import DEFAULT_TERMINOLOGY
from service.mappers.site_codes import load_terminology
from service.screening.live import export_request, export_to_folder
from service.screening.run import ScreenError, ScreenOptions, screen_export, screen_folder
from service.settings import SOURCE_DEFAULTS
from service.synth import write_population
from tests.screening.bulk_server import CLIENT_ID, BulkServer, http_date, serving_bulk
from tests.screening.helpers import AT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    write_population(folder, 60, seed=5, anchor=AT)
    return folder


@pytest.fixture
def server(source: Path) -> Iterator[BulkServer]:
    with serving_bulk(source) as running:
        yield running


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _client(server: BulkServer, sleeps: Sleeps, **kw: Any) -> BulkExportClient:
    server.tokens.add("t0k3n")
    return BulkExportClient(
        server.base,
        allowlist=Allowlist([server.base]),
        auth=BearerToken("t0k3n"),
        sleep=sleeps,
        **kw,
    )


def test_an_export_is_polled_as_the_server_asks_until_the_manifest(
    server: BulkServer, tmp_path: Path
) -> None:
    server.require_token = True
    server.status_script = [
        (202, {"X-Progress": "25% done", "Retry-After": "3"}),
        (429, {"Retry-After": http_date(7)}),
        (500, {"issue": "transient"}),
        (202, {"Retry-After": http_date(4)}),
    ]
    sleeps, log = Sleeps(), io.StringIO()
    with _client(server, sleeps) as client:
        request = export_request("system", None, DEFAULT_TERMINOLOGY)
        manifest = export_to_folder(client, request, tmp_path, log)
    assert manifest is not None
    assert sleeps[0] == 3
    assert 5 <= sleeps[1] <= 7  # an HTTP date, counted from now
    assert sleeps[2] == 4  # no Retry-After: the backoff doubles from 1 s
    assert 2 <= sleeps[3] <= 4
    assert "25% done" in log.getvalue()
    kickoff = server.kickoffs[0]
    assert kickoff["prefer"] == "respond-async"
    assert kickoff["params"]["_type"] == ["Patient,Condition,Observation,Procedure"]
    [observation_filter] = kickoff["params"]["_typeFilter"]
    assert observation_filter.startswith("Observation?code=")
    assert "http%3A%2F%2Floinc.org%7C29593-1" in observation_filter
    names = sorted(p.name for p in tmp_path.glob("*.ndjson"))
    assert set(names) == {
        "0001.Patient.ndjson",
        "0001.OperationOutcome.ndjson",
        "0002.Condition.ndjson",
        "0003.Observation.ndjson",
        "0004.Procedure.ndjson",
    }
    assert all(d["authorization"] == "Bearer t0k3n" for d in server.downloads)
    assert server.deleted  # the server is told the files may go
    observations = (tmp_path / "0003.Observation.ndjson").read_text().splitlines()
    codes = {json.loads(o)["code"]["coding"][-1]["code"] for o in observations}
    assert "2160-0" not in codes  # creatinine is not read by the criteria: filtered out


def test_the_token_is_not_sent_with_downloads_that_do_not_require_it(
    server: BulkServer, tmp_path: Path
) -> None:
    server.requires_access_token = False
    with _client(server, Sleeps()) as client:
        export_to_folder(
            client, export_request("patient", None, DEFAULT_TERMINOLOGY), tmp_path, io.StringIO()
        )
    assert server.downloads
    assert all(d["authorization"] is None for d in server.downloads)
    assert server.kickoffs[0]["path"] == "/fhir/Patient/$export"


def test_a_group_export_holds_only_the_groups_patients(server: BulkServer, tmp_path: Path) -> None:
    server.groups["tumour-board"] = {"p0000001", "p0000002"}
    with _client(server, Sleeps()) as client:
        export_to_folder(
            client,
            export_request("group", "tumour-board", DEFAULT_TERMINOLOGY),
            tmp_path,
            io.StringIO(),
        )
        with pytest.raises(FhirNotFoundError):
            client.kick_off(ExportRequest("group", "nobody"))
    patients = (tmp_path / "0001.Patient.ndjson").read_text().splitlines()
    assert sorted(json.loads(p)["id"] for p in patients) == ["p0000001", "p0000002"]


def test_a_fatal_status_error_and_the_deadline_end_the_export(server: BulkServer) -> None:
    server.status_script = [(500, {"issue": "exception"})]
    with _client(server, Sleeps()) as client:
        status = client.kick_off(ExportRequest())
        with pytest.raises(FhirUnavailableError, match="unavailable"):
            client.wait(status)
    server.status_script = [(202, {"Retry-After": "100"})] * 5
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    server.tokens.add("t0k3n")
    client = BulkExportClient(
        server.base,
        allowlist=Allowlist([server.base]),
        max_wait=250,
        max_poll=100,
        sleep=sleep,
        clock=clock,
    )
    with client, pytest.raises(FhirUnavailableError, match="not complete after 250 s") as caught:
        client.wait(client.kick_off(ExportRequest()))
    assert caught.value.timed_out


def test_files_off_the_allowlist_are_never_fetched(server: BulkServer, tmp_path: Path) -> None:
    server.file_host = "http://127.0.0.2:9"
    with _client(server, Sleeps()) as client, pytest.raises(FhirUrlNotAllowedError):
        export_to_folder(
            client, export_request("system", None, DEFAULT_TERMINOLOGY), tmp_path, io.StringIO()
        )
    assert server.downloads == []


def test_a_stopped_export_resumes_without_a_second_kick_off(
    server: BulkServer, tmp_path: Path
) -> None:
    server.status_script = [(202, {"Retry-After": "1"})]
    request = export_request("system", None, DEFAULT_TERMINOLOGY)

    def stop(seconds: float) -> None:
        raise KeyboardInterrupt

    with _client(server, Sleeps()) as client:
        client._sleep = stop
        with pytest.raises(KeyboardInterrupt):
            export_to_folder(client, request, tmp_path, io.StringIO())
        client._sleep = Sleeps()
        export_to_folder(client, request, tmp_path, io.StringIO())
    assert len(server.kickoffs) == 1
    assert (tmp_path / "0003.Observation.ndjson").exists()


def _pem_key() -> tuple[bytes, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, key.public_key()


def test_a_live_export_with_smart_backend_services_screens_like_the_folder(
    server: BulkServer, source: Path, tmp_path: Path
) -> None:
    pem, public = _pem_key()
    (tmp_path / "key.pem").write_bytes(pem)
    server.public_key, server.require_token = public, True
    server.status_script = [(202, {"Retry-After": "1", "X-Progress": "half"})]
    config = {
        **SOURCE_DEFAULTS,
        "FHIR_BASE_URL": server.base,
        "FHIR_CLIENT_ID": CLIENT_ID,
        "FHIR_PRIVATE_KEY_FILE": str(tmp_path / "key.pem"),
        "FHIR_KEY_ID": "k1",
    }
    terminology = load_terminology(source / "site-codes.json")
    live = ScreenOptions(out=tmp_path / "live", at=AT, terminology=terminology, workers=1)
    summary = screen_export(
        config, "system", None, live, type_filter_on=False, log=io.StringIO(), tty=False
    )
    folder = ScreenOptions(out=tmp_path / "folder", at=AT, terminology=terminology, workers=1)
    screen_folder(source, folder, log=io.StringIO(), tty=False)
    assert server.tokens  # a token was issued for the signed assertion
    assert (tmp_path / "live" / "results.ndjson").read_text() == (
        tmp_path / "folder" / "results.ndjson"
    ).read_text()
    assert summary.tally.counts["the export server reported an error (OperationOutcome)"] == 1


def test_an_export_without_files_says_so(server: BulkServer, tmp_path: Path) -> None:
    server.groups["nobody"], server.list_empty_files = set(), False
    server.tokens.add("t0k3n")
    config = {**SOURCE_DEFAULTS, "FHIR_BASE_URL": server.base, "FHIR_TOKEN": "t0k3n"}
    options = ScreenOptions(out=tmp_path, at=AT, terminology=DEFAULT_TERMINOLOGY, workers=1)
    with pytest.raises(ScreenError, match="export holds no files .*--no-type-filter"):
        screen_export(config, "group", "nobody", options, log=io.StringIO(), tty=False)
    assert not (tmp_path / "results.ndjson").exists()


def test_the_command_needs_a_server_and_a_group_id(tmp_path: Path) -> None:
    for args, message in (
        (("--export", "system"), "--fhir-base"),
        (("--export", "group", "--fhir-base", "http://127.0.0.1:9/fhir"), "--group"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "service", "screen", "--out", str(tmp_path), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env={"PATH": "/usr/bin:/bin"},
        )
        assert done.returncode == 2
        assert message in done.stderr


def test_errors_keep_the_tree(server: BulkServer) -> None:
    server.require_token = True
    client = BulkExportClient(server.base, allowlist=Allowlist([server.base]))
    with client, pytest.raises(FhirError, match="refused our credentials"):
        client.kick_off(ExportRequest())
