"""The HTTP API: health, criteria-set listing, evaluating Bundles, JSON errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from service.app import create_app
from tests.conftest import TESTS

PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1980-05-01"}
FHIR_JSON = "application/fhir+json"


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


@pytest.fixture
def app() -> Flask:
    return create_app({"TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_healthz_says_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_criteria_sets_list_versions_criteria_thresholds_and_sources(client: FlaskClient) -> None:
    body = client.get("/api/criteria-sets").get_json()
    sets = {s["id"]: s for s in body["criteriaSets"]}
    assert list(sets) == ["milan-net", "enets", "unos", "resection"]
    assert all(s["version"] and s["source"] for s in sets.values())
    age = sets["milan-net"]["criteria"][0]
    assert age["id"] == "age_under_55"
    assert age["thresholds"] == {"limit": {"value": 55, "unit": "a"}}
    flr = next(
        c for c in sets["resection"]["criteria"] if c["id"] == "adequate_future_liver_remnant"
    )
    assert {k: v["value"] for k, v in flr["thresholds"].items()} == {
        "normal_liver": 20,
        "significant_liver_disease": 30,
        "cirrhosis": 40,
    }
    assert body["defaults"]["bilirubinUpperLimit"] == {"value": 1.2, "unit": "mg/dL"}


def test_criteria_sets_carry_rules_in_words_citations_and_hti1_source_attributes(
    client: FlaskClient,
) -> None:
    body = client.get("/api/criteria-sets").get_json()
    assert body["documentation"] == "/criteria"
    assert body["sourceAttributesRegulation"] == "45 CFR 170.315(b)(11)(iv)(A)"
    for criteria_set in body["criteriaSets"]:
        assert "00" not in criteria_set["sourceCitation"]
        seeds = [s["seed"] for s in criteria_set["sources"]]
        assert seeds == sorted(seeds)
        assert seeds
        for source in criteria_set["sources"]:
            assert source["shortName"]
            assert source["citation"]
            assert isinstance(source["verified"], bool)
        attributes = criteria_set["sourceAttributes"]
        assert attributes["criteriaSet"] == criteria_set["id"]
        assert attributes["version"] == criteria_set["version"]
        assert len(attributes["dataUse"]) == 9
        assert attributes["bibliographicCitation"] == [
            s["citation"] for s in criteria_set["sources"]
        ]
        for criterion in criteria_set["criteria"]:
            assert set(criterion["rules"]) == {"met", "notMet", "unknown"}
            assert all(len(text) > 15 for text in criterion["rules"].values())
            assert "00" not in criterion["sourceCitation"].replace("2008", "")
    age = body["criteriaSets"][0]["criteria"][0]
    assert "under 55 years" in age["rules"]["met"]
    assert body["criteriaSets"][0]["sources"][0] == {
        "seed": "001",
        "shortName": "Machairas et al.",
        "citation": body["criteriaSets"][0]["sourceAttributes"]["bibliographicCitation"][0],
        "doi": None,
        "verified": False,
    }


def test_the_rules_in_the_listing_follow_the_configured_defaults() -> None:
    client = create_app({"TESTING": True, "MAX_ECOG_FOR_SURGERY": 3}).test_client()
    resection = client.get("/api/criteria-sets").get_json()["criteriaSets"][3]
    fit = next(c for c in resection["criteria"] if c["id"] == "fit_for_surgery")
    assert "ECOG above 3" in fit["rules"]["notMet"]


def test_posted_bundle_is_evaluated_as_of_the_given_date(
    client: FlaskClient, result_validator: Draft202012Validator
) -> None:
    response = client.post(
        "/api/evaluate?at=2026-11-22", data=json.dumps(bundle(PATIENT)), content_type=FHIR_JSON
    )
    assert response.status_code == 200
    result = response.get_json()
    result_validator.validate(result)
    assert result["evaluationDate"] == "2026-11-22"
    age = result["assessments"][0]["criteria"][0]
    assert (age["id"], age["status"]) == ("age_under_55", "met")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        ("{not json", FHIR_JSON, 400, "bad_request"),
        (json.dumps(PATIENT), FHIR_JSON, 422, "unprocessable"),
        (json.dumps(bundle()), FHIR_JSON, 422, "unprocessable"),
        (json.dumps(bundle(PATIENT)), "text/plain", 415, "unsupported_media_type"),
    ],
    ids=["malformed-json", "not-a-bundle", "no-patient", "wrong-media-type"],
)
def test_bad_posted_bundles_get_a_precise_json_error(
    client: FlaskClient, body: str, content_type: str, status: int, error: str
) -> None:
    response = client.post("/api/evaluate", data=body, content_type=content_type)
    assert response.status_code == status
    assert response.is_json
    assert response.get_json()["error"] == error
    assert "Traceback" not in response.get_data(as_text=True)


def test_bad_evaluation_date_is_a_400(client: FlaskClient) -> None:
    response = client.post(
        "/api/evaluate?at=2026-02-30", data=json.dumps(bundle(PATIENT)), content_type=FHIR_JSON
    )
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.get_json()["message"]


def test_unknown_patient_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/api/patients/nobody/evaluation")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_unknown_route_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.is_json


def test_bad_configuration_fails_at_start_up_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="max_ecog_for_surgery"):
        create_app({"MAX_ECOG_FOR_SURGERY": 9})


DEMO_EXPECTED = sorted((TESTS / "fixtures" / "demo_expected").glob("*.expected.json"))


def test_demo_store_lists_the_five_demo_patients(client: FlaskClient) -> None:
    patients = client.get("/api/patients").get_json()["patients"]
    assert patients == sorted(p.name.removesuffix(".expected.json") for p in DEMO_EXPECTED)
    assert len(patients) == 5


@pytest.mark.parametrize("path", DEMO_EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_demo_patient_evaluates_as_expected(
    client: FlaskClient, path: Path, result_validator: Draft202012Validator
) -> None:
    expected = json.loads(path.read_text(encoding="utf-8"))
    patient_id = expected["patient"].removeprefix("Patient/")
    response = client.get(f"/api/patients/{patient_id}/evaluation?at={expected['evaluationDate']}")
    assert response.status_code == 200
    result = response.get_json()
    result_validator.validate(result)
    got = {
        a["criteriaSet"]: {
            "status": a["status"],
            "criteria": {c["id"]: c["status"] for c in a["criteria"]},
        }
        for a in result["assessments"]
    }
    assert got == expected["sets"]
