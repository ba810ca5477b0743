"""Fixtures: the service served over real HTTP, and the ``cds-call`` command run in-process."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.app import create_app
from service.cli import main
from service.seed import seed_demo_patients
from tests.integration.sekmet import FhirServer, SekmetError, running_sekmet
from tests.live_app import serving

Serve = Callable[..., Any]


@dataclass(frozen=True)
class Outcome:
    """What one ``cds-call`` run printed and returned."""

    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cds_call(*args: str) -> Outcome:
    """Run ``python -m service cds-call ARGS`` in this process; capture its output."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(["cds-call", *args])
    return Outcome(status, out.getvalue(), err.getvalue())


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """The service's instance folder (where the development key is generated)."""
    folder = tmp_path / "instance"
    folder.mkdir()
    return folder


@pytest.fixture
def serve(instance: Path, tmp_path: Path) -> Callable[..., Any]:
    """Return ``serve(**config)``: a context manager serving the app, yielding its URL.

    The public base URL is the served URL unless ``PUBLIC_BASE_URL`` is given.
    """

    def factory(host: str = "127.0.0.1", **config: Any) -> Any:
        def make(base_url: str) -> Flask:
            settings: dict[str, Any] = {
                "TESTING": True,
                "INSTANCE_PATH": str(instance),
                "PUBLIC_BASE_URL": base_url,
                "FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
                **config,
            }
            return create_app(settings)

        return serving(make, host)

    return factory


@pytest.fixture(scope="module")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    """sekmet-fhir on 127.0.0.1, seeded with the demo patients."""
    try:
        with running_sekmet(tmp_path_factory.mktemp("sekmet-cdsclient")) as server:
            seed_demo_patients(server.base_url)
            yield server
    except SekmetError as exc:
        pytest.fail(str(exc))
