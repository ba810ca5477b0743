"""Contract-test fixtures: the official FHIR R4 schema validator, built once per session."""

from __future__ import annotations

import pytest

from tests.contract.fhir_schema import FhirSchemaUnavailableError, FhirValidator, fhir_validator


@pytest.fixture(scope="session")
def fhir() -> FhirValidator:
    """Return the validator of the official FHIR R4 JSON schema (fetched and verified once)."""
    try:
        return fhir_validator()
    except FhirSchemaUnavailableError as exc:
        pytest.fail(f"official FHIR R4 schema unavailable: {exc}", pytrace=False)
