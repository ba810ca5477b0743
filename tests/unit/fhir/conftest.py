"""Fixtures for the FHIR client unit tests: a mocked transport, keys and a client factory.

``responses`` replaces the HTTP adapter, so nothing leaves the process; a request that
matches no registered response fails with ConnectionError (FhirUnavailableError here).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from service.fhir import Allowlist, FhirClient

BASE = "https://ehr.example.org/fhir"
FHIR_JSON = "application/fhir+json"


class SleepRecorder:
    """Stands in for time.sleep: records the delays asked for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Mock every HTTP call made with requests during the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def allowlist() -> Allowlist:
    return Allowlist([BASE, "http://127.0.0.1:8090/fhir"])


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_client(allowlist: Allowlist, sleeps: SleepRecorder) -> Iterator[Callable[..., FhirClient]]:
    """Build clients on BASE that record their sleeps instead of sleeping."""
    clients: list[FhirClient] = []

    def build(**options: Any) -> FhirClient:
        options.setdefault("allowlist", allowlist)
        options.setdefault("sleep", sleeps)
        client = FhirClient(options.pop("base_url", BASE), **options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def bundle(*resources: dict[str, Any], next_url: str | None = None) -> dict[str, Any]:
    """Return a searchset Bundle of ``resources`` with an optional next link."""
    links = [{"relation": "self", "url": f"{BASE}/x"}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [
            {
                "fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def outcome(code: str = "invalid", diagnostics: str = "bad request") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }


def fhir_body(resource: dict[str, Any]) -> str:
    return json.dumps(resource)


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
