"""Integration-test fixtures: a real FHIR server (sekmet-fhir, see ``sekmet.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.fhir import Allowlist, FhirClient
from tests.integration.sekmet import FhirServer, SekmetError, running_sekmet


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    """Start sekmet-fhir on 127.0.0.1 for the session; yield its base URL."""
    try:
        with running_sekmet(tmp_path_factory.mktemp("sekmet")) as server:
            yield server
    except SekmetError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def fhir_client(fhir_server: FhirServer) -> Iterator[FhirClient]:
    """A FhirClient on the test server, allowed by a one-entry allowlist."""
    client = FhirClient(fhir_server.base_url, allowlist=Allowlist([fhir_server.base_url]))
    yield client
    client.close()
