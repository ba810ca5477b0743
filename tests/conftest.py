"""Shared test fixtures: paths and the result schema validator."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

TESTS = Path(__file__).resolve().parent
SCENARIOS = TESTS / "fixtures" / "scenarios"
RESULT_SCHEMA = TESTS / "contract" / "evaluation-result.schema.json"


@pytest.fixture(scope="session")
def result_validator() -> Draft202012Validator:
    """Validate results against the evaluation-result contract (with date formats)."""
    schema: dict[str, Any] = json.loads(RESULT_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


PAGE_LINK_SECRET = "test-page-link-secret-0123456789abcdef"
"""Signs clinician-page links in tests; required whenever a FHIR server is configured."""


@pytest.fixture(autouse=True, scope="session")
def instance_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep every app's instance files (development keys, stores) out of the checkout."""
    folder = tmp_path_factory.mktemp("instance")
    previous = os.environ.get("NELM_CDS_INSTANCE_PATH")
    os.environ["NELM_CDS_INSTANCE_PATH"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("NELM_CDS_INSTANCE_PATH", None)
    else:
        os.environ["NELM_CDS_INSTANCE_PATH"] = previous


AUDIT_HMAC_KEY = "test-audit-hmac-key-0123456789abcdef"
"""Keys the patient hashes of the audit trail; required whenever a FHIR server is configured."""

FHIR_SERVICE_SETTINGS: dict[str, Any] = {
    "PAGE_LINK_SECRET": PAGE_LINK_SECRET,
    "AUDIT_HMAC_KEY": AUDIT_HMAC_KEY,
    "API_AUTH": "none",
}
"""What an app reading a FHIR server needs besides the server, in tests that are not
about the REST API's tokens (``API_AUTH`` none: the API is open, said explicitly)."""


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real redis-server on 127.0.0.1 for the session (provisioned if missing)."""
    from tests.cdshooks.redis_server import running_redis

    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(autouse=True, scope="session")
def demo_today_pinned() -> Iterator[None]:
    """Load the demo patients with the dates they are written with (2026-11-22 as today):
    tests evaluate them at fixed dates. ``test_demo_dates`` checks the shift itself."""
    previous = os.environ.get("NELM_CDS_DEMO_TODAY")
    os.environ["NELM_CDS_DEMO_TODAY"] = "2026-11-22"
    yield
    if previous is None:
        os.environ.pop("NELM_CDS_DEMO_TODAY", None)
    else:
        os.environ["NELM_CDS_DEMO_TODAY"] = previous
