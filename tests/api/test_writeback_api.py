"""Write-back through the API on the embedded demo store; readiness; the CodeSystem."""

from __future__ import annotations

import copy

import pytest
from flask.testing import FlaskClient

from service.app import create_app
from service.demo_store import DemoStore
from service.sources import DemoSource

OUTCOME_SYSTEM = "https://nelm-cds.github.io/fhir/CodeSystem/nelm-assessment"


@pytest.fixture
def client() -> FlaskClient:
    return create_app({"TESTING": True}).test_client()


def write(client: FlaskClient, patient: str, query: str = "at=2026-11-22") -> tuple[int, dict]:
    response = client.post(f"/api/patients/{patient}/risk-assessment?{query}")
    return response.status_code, response.get_json()


def test_dry_run_returns_the_resource_without_writing_it(client: FlaskClient) -> None:
    status, resource = write(client, "demo-transplant", "at=2026-11-22&dry-run=true")
    assert status == 200
    assert resource["resourceType"] == "RiskAssessment"
    assert resource["subject"] == {"reference": "Patient/demo-transplant"}
    assert resource["id"].startswith("nelm-")
    outcomes = [p["outcome"]["coding"][0]["code"] for p in resource["prediction"]]
    assert outcomes == [
        "milan-net-eligible",
        "enets-eligible",
        "unos-eligible",
        "resection-ineligible",
    ]
    assert resource["status"] == "final"
    # Nothing was written: the real write afterwards still creates it.
    assert write(client, "demo-transplant")[0] == 201


def test_writing_the_same_evaluation_twice_leaves_one_resource(client: FlaskClient) -> None:
    first_status, first = write(client, "demo-resection")
    second_status, second = write(client, "demo-resection")
    assert (first_status, second_status) == (201, 200)
    assert first["id"] == second["id"]
    assert second["meta"]["versionId"] == "1"


def test_write_backs_for_two_patients_never_share_a_resource(client: FlaskClient) -> None:
    _, one = write(client, "demo-transplant")
    _, other = write(client, "demo-g3")
    assert one["id"] != other["id"]
    assert one["subject"]["reference"] == "Patient/demo-transplant"
    assert other["subject"]["reference"] == "Patient/demo-g3"


def test_a_different_evaluation_date_is_a_different_resource(client: FlaskClient) -> None:
    _, today = write(client, "demo-missing", "at=2026-11-22")
    _, later = write(client, "demo-missing", "at=2026-12-22")
    assert today["id"] != later["id"]
    assert today["status"] == "preliminary"


def test_write_back_names_the_liver_metastasis_condition(client: FlaskClient) -> None:
    _, resource = write(client, "demo-transplant", "at=2026-11-22&dry-run=true")
    assert resource["condition"]["reference"].startswith("Condition/")


@pytest.mark.parametrize(
    ("query", "status"),
    [("at=2026-11-22&dry-run=maybe", 400), ("at=yesterday", 400)],
)
def test_bad_write_back_parameters_are_400(client: FlaskClient, query: str, status: int) -> None:
    assert write(client, "demo-transplant", query)[0] == status


def test_write_back_for_an_unknown_patient_is_404(client: FlaskClient) -> None:
    assert write(client, "nobody")[0] == 404


def test_a_malformed_patient_id_is_400(client: FlaskClient) -> None:
    response = client.get("/api/patients/bad%20id!/evaluation")
    assert response.status_code == 400


def test_readiness_on_the_demo_store_is_ready(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["source"] == "demo"


def test_the_code_system_is_published_with_every_outcome_code(client: FlaskClient) -> None:
    response = client.get("/fhir/CodeSystem/nelm-assessment")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    body = response.get_json()
    assert body["url"] == OUTCOME_SYSTEM
    codes = {c["code"] for c in body["concept"]}
    for set_id in ("milan-net", "enets", "unos", "resection"):
        for status in ("eligible", "ineligible", "indeterminate"):
            assert f"{set_id}-{status}" in codes


def deceased_client(**elements: object) -> FlaskClient:
    """Return a client whose store holds demo-transplant with ``elements`` on the Patient."""
    store = DemoStore.load()
    bundle = copy.deepcopy(store.bundles["demo-transplant"])
    for item in bundle["entry"]:
        if item["resource"]["resourceType"] == "Patient":
            item["resource"].update(elements)
    app = create_app({"TESTING": True})
    app.extensions["nelm_source"] = DemoSource(DemoStore({"demo-transplant": bundle}))
    return app.test_client()


@pytest.mark.parametrize(
    ("elements", "said"),
    [
        pytest.param({"deceasedDateTime": "2026-10-01"}, "on 2026-10-01", id="died before"),
        pytest.param({"deceasedDateTime": "2026-11-22"}, "on 2026-11-22", id="died that day"),
        pytest.param({"deceasedBoolean": True}, "with no date", id="deceasedBoolean"),
    ],
)
@pytest.mark.parametrize("query", ["at=2026-11-22", "at=2026-11-22&dry-run=true"])
def test_no_risk_assessment_is_written_for_a_patient_deceased_by_the_evaluation_date(
    elements: dict[str, object], said: str, query: str
) -> None:
    client = deceased_client(**elements)
    status, body = write(client, "demo-transplant", query)
    assert status == 422
    assert body["error"] == "unprocessable"
    assert body["reason"] == "patient_deceased"
    assert f"the patient is recorded as deceased {said}" in body["message"]
    # the evaluation itself is still given, with the warning (an audit of past decisions)
    evaluation = client.get("/api/patients/demo-transplant/evaluation?at=2026-11-22").get_json()
    assert any("recorded as deceased" in w["message"] for w in evaluation["warnings"])
    assert evaluation["assessments"][0]["status"] == "eligible"


def test_a_risk_assessment_is_written_for_an_evaluation_date_before_death() -> None:
    client = deceased_client(deceasedDateTime="2026-12-01")
    status, body = write(client, "demo-transplant")
    assert status == 201
    assert body["resourceType"] == "RiskAssessment"


def test_the_written_words_name_codes_as_the_record_does(client: FlaskClient) -> None:
    """A rationale says "(Secondary carcinoid tumors of bone, C7B.03, date)", as the page
    and the card do, not the bare code; the narrative carries the same words."""
    _, resource = write(client, "demo-extrahepatic", "at=2026-11-22&dry-run=true")
    rationales = " ".join(p["rationale"] for p in resource["prediction"])
    assert "(Secondary carcinoid tumors of bone, C7B.03, " in rationales
    first = rationales.index("C7B.03")  # named at its first mention
    assert rationales[first - len("bone, ") : first] == "bone, "
    assert "Secondary carcinoid tumors of bone, C7B.03" in resource["text"]["div"]
