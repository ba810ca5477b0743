"""Fixtures: sekmet holding the demo patients and the same patients coded locally."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.cli import main
from service.fhir import Allowlist, FhirClient
from service.seed import seed_demo_patients
from tests.integration.sekmet import FhirServer, SekmetError, running_sekmet
from tests.probe.local_site import local_site_bundles, local_transaction


@dataclass(frozen=True)
class ProbeRun:
    """One ``probe`` run: exit status, what it printed, and where its files are."""

    status: int
    out: str
    err: str
    folder: Path

    def report(self) -> Any:
        return json.loads((self.folder / "probe-report.json").read_text(encoding="utf-8"))

    def draft(self) -> Any:
        return json.loads((self.folder / "site-codes.draft.json").read_text(encoding="utf-8"))


def run_probe(folder: Path, *args: str) -> ProbeRun:
    """Run ``python -m service probe ARGS --out FOLDER`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(["probe", *args, "--out", str(folder)])
    return ProbeRun(status, out.getvalue(), err.getvalue(), folder)


def load_local_site(base_url: str) -> None:
    """PUT the locally coded patients into the server."""
    with FhirClient(base_url, allowlist=Allowlist([base_url]), timeout=(3.05, 60.0)) as client:
        client.transaction(local_transaction(local_site_bundles()))


@pytest.fixture(scope="module")
def site_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    """sekmet with the five demo patients and their five locally coded twins."""
    try:
        with running_sekmet(tmp_path_factory.mktemp("sekmet-probe")) as server:
            seed_demo_patients(server.base_url)
            load_local_site(server.base_url)
            yield server
    except SekmetError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def probed(site_server: FhirServer, tmp_path_factory: pytest.TempPathFactory) -> ProbeRun:
    """One default probe run of the whole sample (write check included)."""
    folder = tmp_path_factory.mktemp("probe-out")
    return run_probe(folder, "--fhir-base", site_server.base_url, "--write-check")
