"""CDS Hooks discovery: the service definition, its prefetch templates, and the JWT."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from flask.testing import FlaskClient

from service.cdshooks.discovery import (
    SOURCE_ATTRIBUTES_EXTENSION,
    prefetch_templates,
    service_definition,
)
from service.criteria import DEFAULT_SETS
from service.criteria.transparency import DATA_ATTRIBUTES
from service.mappers.codes import DEFAULT_TERMINOLOGY, LOINC, OBSERVATION_CODES
from tests.cdshooks.conftest import BASE, AppFactory, Headers

ALLOWED_SEARCH_PARAMS = {"patient", "code"}


def discover(client: FlaskClient, auth: Headers) -> dict[str, Any]:
    response = client.get("/cds-services", headers=auth("/cds-services"))
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_discovery_lists_the_nelm_eligibility_service_on_patient_view(
    client: FlaskClient, auth: Headers
) -> None:
    services = discover(client, auth)["services"]
    assert len(services) == 1
    service = services[0]
    assert service["id"] == "nelm-eligibility"
    assert service["hook"] == "patient-view"
    assert service["title"]
    assert "does not replace" in service["description"]
    assert "Milan-NET" in service["description"]
    assert set(service["prefetch"]) == {"patient", "observations", "conditions", "procedures"}


def test_prefetch_templates_are_a_patient_read_and_patient_searches(
    client: FlaskClient, auth: Headers
) -> None:
    prefetch = discover(client, auth)["services"][0]["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert prefetch["conditions"] == "Condition?patient={{context.patientId}}"
    assert prefetch["procedures"] == "Procedure?patient={{context.patientId}}"
    assert prefetch["observations"].startswith("Observation?patient={{context.patientId}}&code=")


def test_every_template_keeps_to_the_prefetch_query_restrictions() -> None:
    for template in service_definition(DEFAULT_TERMINOLOGY)["prefetch"].values():
        path, _, query = template.partition("?")
        if not query:
            assert path == "Patient/{{context.patientId}}"  # an instance-level read
            continue
        assert "/" not in path  # a type-level search
        params = parse_qsl(query, keep_blank_values=True)
        for name, value in params:
            assert name in ALLOWED_SEARCH_PARAMS, name  # no modifiers, no chained params
            assert ":" not in name
            assert value
        assert ("patient", "{{context.patientId}}") in params


def test_observation_template_asks_for_exactly_the_codes_the_mappers_read() -> None:
    observations = prefetch_templates(DEFAULT_TERMINOLOGY)[1]
    ((name, value),) = observations.params
    assert name == "code"
    asked = {tuple(token.split("|", 1)) for token in value.split(",")}
    read = {code for code_set in OBSERVATION_CODES.values() for code in code_set.exact}
    # terminology.md v1.1: LOINC is asked for under its OID system too
    read |= {("urn:oid:2.16.840.1.113883.6.1", code) for system, code in read if system == LOINC}
    assert asked == read
    assert (LOINC, "29593-1") in asked  # Ki-67
    assert (LOINC, "777-3") in asked  # platelets
    assert (LOINC, "85319-2") not in asked  # HER2 is not Ki-67


def test_observation_template_adds_a_sites_local_codes(
    make_app: AppFactory, auth: Headers, tmp_path: Path
) -> None:
    site_codes = tmp_path / "site-codes.json"
    site_codes.write_text(
        json.dumps({"observations": {"platelets": [{"system": "urn:oid:1.2.3", "code": "PLT"}]}}),
        encoding="utf-8",
    )
    client = make_app(SITE_CODES=str(site_codes)).test_client()
    prefetch = discover(client, auth)["services"][0]["prefetch"]
    assert "urn:oid:1.2.3|PLT" in prefetch["observations"]


def test_discovery_without_a_token_is_401_with_a_bearer_challenge(client: FlaskClient) -> None:
    response = client.get("/cds-services")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json() == {"error": "unauthorized"}


@pytest.mark.parametrize(
    "aud",
    [f"{BASE}/cds-services/nelm-eligibility", "https://elsewhere.example/cds-services"],
    ids=["another-endpoint", "another-service"],
)
def test_a_token_for_another_audience_is_refused(
    client: FlaskClient, auth: Headers, aud: str
) -> None:
    response = client.get("/cds-services", headers=auth("/cds-services", aud=aud))
    assert response.status_code == 401
    assert response.get_json() == {"error": "unauthorized"}


def test_a_replayed_token_is_refused(client: FlaskClient, auth: Headers) -> None:
    headers = auth("/cds-services")
    assert client.get("/cds-services", headers=headers).status_code == 200
    assert client.get("/cds-services", headers=headers).status_code == 401


def test_discovery_carries_the_hti1_source_attributes_as_a_service_extension(
    client: FlaskClient, auth: Headers
) -> None:
    service = discover(client, auth)["services"][0]
    extension = service["extension"]
    # CDS Hooks 2.0: extension properties are named to be globally unique (reverse domain)
    assert list(extension) == [SOURCE_ATTRIBUTES_EXTENSION]
    assert SOURCE_ATTRIBUTES_EXTENSION.startswith("io.github.nelm-cds.")
    value = extension[SOURCE_ATTRIBUTES_EXTENSION]
    assert value["regulation"] == "45 CFR 170.315(b)(11)(iv)(A)"
    assert value["interventionType"] == "evidence-based"
    assert value["documentation"] == f"{BASE}/criteria"
    sets = value["criteriaSets"]
    assert [s["criteriaSet"] for s in sets] == [s.id for s in DEFAULT_SETS]
    assert [s["version"] for s in sets] == [s.version for s in DEFAULT_SETS]
    for item in sets:
        assert item["bibliographicCitation"]
        assert item["developer"]
        assert item["fundingSource"]
        date.fromisoformat(item["releaseDate"])
        assert set(item["dataUse"]) == set(DATA_ATTRIBUTES)
    by_set = {s["criteriaSet"]: s["dataUse"] for s in sets}
    assert by_set["milan-net"]["dateOfBirth"]["used"] is True
    assert by_set["resection"]["dateOfBirth"]["used"] is False
    assert by_set["resection"]["healthStatusAssessments"]["used"] is True
    assert all(not use["sex"]["used"] and not use["race"]["used"] for use in by_set.values())


def test_the_extension_is_json_and_the_same_as_the_api_listing(
    client: FlaskClient, auth: Headers
) -> None:
    value = discover(client, auth)["services"][0]["extension"][SOURCE_ATTRIBUTES_EXTENSION]
    listed = client.get("/api/criteria-sets").get_json()["criteriaSets"]
    assert value["criteriaSets"] == [s["sourceAttributes"] for s in listed]
    json.dumps(value)
