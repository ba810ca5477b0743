"""What sekmet-fhir 0.1.1 does with RiskAssessment searches (known gap, pinned here).

Its search-parameter table has no entry for RiskAssessment, so:

* a normal (lenient) search ignores ``identifier``/``patient``/``subject`` and returns
  **every** RiskAssessment, adding an OperationOutcome entry (``search.mode =
  outcome``) that says the parameter was ignored;
* a strict search (``Prefer: handling=strict``) fails with 400;
* a conditional create (``If-None-Exist: identifier=...``, header or transaction
  ``ifNoneExist``) fails with 400 "Unknown search parameter 'identifier'": it does
  *not* silently match every RiskAssessment in this version;
* ``_tag`` and ``_id`` do work, as search and as If-None-Exist criteria.

Write-back code must therefore not rely on an identifier search or conditional create
to find an existing RiskAssessment on this server: PUT to a deterministic id (or
search by ``_tag``/``_id``) instead.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from service.fhir import FhirClient, FhirOperationOutcomeError

pytestmark = pytest.mark.integration

IDENTIFIER_SYSTEM = "urn:test:evaluation"


def risk_assessment(value: str, tag: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "status": "final",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": value}],
        "subject": {"reference": "Patient/whoever"},
    }
    if tag is not None:
        resource["meta"] = {"tag": [{"system": "urn:test:tag", "code": tag}]}
    return resource


@pytest.fixture
def two_assessments(fhir_client: FhirClient) -> list[str]:
    created = [fhir_client.create(risk_assessment(uuid.uuid4().hex)) for _ in range(2)]
    return [str(result.resource["id"]) for result in created if result.resource is not None]


def test_an_identifier_search_on_risk_assessment_returns_every_risk_assessment(
    fhir_client: FhirClient, two_assessments: list[str]
) -> None:
    found = fhir_client.search("RiskAssessment", {"identifier": f"{IDENTIFIER_SYSTEM}|nomatch"})
    assert set(two_assessments) <= {r["id"] for r in found}


def test_the_server_says_so_in_an_outcome_entry(
    fhir_client: FhirClient, two_assessments: list[str]
) -> None:
    url = f"{fhir_client.base_url}/RiskAssessment"
    page = requests.get(url, params={"identifier": "x|y"}, timeout=5).json()
    notes = [
        issue["diagnostics"]
        for entry in page["entry"]
        if entry.get("search", {}).get("mode") == "outcome"
        for issue in entry["resource"]["issue"]
    ]
    assert notes == ["Unknown search parameter 'identifier' for RiskAssessment; parameter ignored"]


def test_a_strict_identifier_search_fails_instead(fhir_client: FhirClient) -> None:
    with pytest.raises(FhirOperationOutcomeError) as caught:
        fhir_client.search("RiskAssessment", {"identifier": "x|y"}, strict=True)
    assert caught.value.status == 400


def test_conditional_create_by_identifier_is_refused_not_matched(
    fhir_client: FhirClient, two_assessments: list[str]
) -> None:
    value = uuid.uuid4().hex
    with pytest.raises(FhirOperationOutcomeError) as caught:
        fhir_client.create(
            risk_assessment(value), if_none_exist={"identifier": f"{IDENTIFIER_SYSTEM}|{value}"}
        )
    assert caught.value.status == 400
    assert caught.value.outcome is not None
    assert "identifier" in caught.value.outcome["issue"][0]["diagnostics"]


def test_tag_search_and_conditional_create_by_tag_do_work(fhir_client: FhirClient) -> None:
    tag = uuid.uuid4().hex
    criteria = {"_tag": f"urn:test:tag|{tag}"}
    first = fhir_client.create(risk_assessment("a", tag), if_none_exist=criteria)
    second = fhir_client.create(risk_assessment("a", tag), if_none_exist=criteria)
    assert (first.created, second.created) == (True, False)
    assert [r["id"] for r in fhir_client.search("RiskAssessment", criteria)] == [
        first.resource["id"] if first.resource else None
    ]
