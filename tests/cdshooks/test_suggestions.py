"""Card suggestions: draft orders for exactly the missing or stale labs, referrals for an
open pathway, stable uuids, valid FHIR R4, and accepted suggestions counted."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.cdshooks.cards import build_card
from service.cdshooks.suggestions import (
    SUGGESTION_KINDS,
    card_suggestions,
    stale_or_missing_labs,
    suggestion_uuid,
)
from service.criteria import EvaluationConfig
from service.criteria.evaluator import Evaluation
from service.records import replace
from service.result_json import evaluation_to_json
from tests.cdshooks.conftest import FEEDBACK, SERVICE, Headers, full_prefetch, hook_body
from tests.contract.conftest import fhir  # noqa: F401 - the FHIR R4 schema fixture
from tests.contract.fhir_schema import FhirValidator
from tests.unit.criteria.conftest import (
    ago,
    bilirubin,
    condition,
    evaluate_all,
    platelets,
    resection_candidate,
    span,
    transplant_candidate,
)


def kinds(evaluation: Evaluation) -> list[str]:
    return [s.kind for s in card_suggestions(evaluation)]


def lab_orders(**labs: Any) -> list[str]:
    inputs = replace(resection_candidate(), **labs)
    return [k for k in kinds(evaluate_all(inputs)) if k.startswith("order-")]


# --- exactly the missing or stale labs -------------------------------------------------


@pytest.mark.parametrize(
    ("labs", "orders"),
    [
        pytest.param({}, [], id="both fresh"),
        pytest.param({"bilirubin": None}, ["order-bilirubin"], id="bilirubin missing"),
        pytest.param({"platelets": None}, ["order-platelets"], id="platelets missing"),
        pytest.param(
            {"bilirubin": None, "platelets": None},
            ["order-bilirubin", "order-platelets"],
            id="both missing",
        ),
        pytest.param(
            {"bilirubin": bilirubin("0.8", ago(91))}, ["order-bilirubin"], id="bilirubin 91 days"
        ),
        pytest.param({"bilirubin": bilirubin("0.8", ago(90))}, [], id="bilirubin 90 days: fresh"),
        pytest.param(
            {"platelets": platelets("220", ago(91))}, ["order-platelets"], id="platelets 91 days"
        ),
        pytest.param({"platelets": platelets("220", ago(90))}, [], id="platelets 90 days: fresh"),
        pytest.param({"platelets": platelets("220", None)}, ["order-platelets"], id="undated"),
        pytest.param(
            {"bilirubin": bilirubin("0.8", "2026-08")}, ["order-bilirubin"], id="may be stale"
        ),
        pytest.param(
            {"bilirubin": bilirubin(None)}, [], id="fresh but uninterpretable: no new sample"
        ),
        pytest.param({"platelets": platelets("60")}, [], id="fresh and low: no repeat"),
    ],
)
def test_a_lab_is_ordered_exactly_when_it_is_missing_or_stale(
    labs: dict[str, Any], orders: list[str]
) -> None:
    assert lab_orders(**labs) == orders


def test_the_freshness_window_is_the_evaluation_s_setting() -> None:
    inputs = replace(resection_candidate(), platelets=platelets("220", ago(40)))
    assert "platelets" not in stale_or_missing_labs(evaluate_all(inputs))
    strict = evaluate_all(inputs, EvaluationConfig(lab_freshness_days=30))
    assert stale_or_missing_labs(strict) == {
        "platelets": f"the latest platelet count ({ago(40)}) is older than 30 days"
    }


# --- referrals ---------------------------------------------------------------------------


def test_an_eligible_transplant_pathway_is_referred_to_the_transplant_team_only() -> None:
    inputs = replace(transplant_candidate(), liver_metastases=(condition("C7B.02"),))
    assert kinds(evaluate_all(inputs)) == ["refer-transplant"]


def test_an_undecided_resection_pathway_is_referred_to_the_hpb_team() -> None:
    inputs = replace(resection_candidate(), ecog=None, birth_date=None)
    assert "refer-hpb" in kinds(evaluate_all(inputs))


def test_no_referral_when_every_set_is_not_eligible() -> None:
    inputs = replace(transplant_candidate(), ecog=None, birth_date=span("1950-06-01"))
    evaluation = evaluate_all(inputs)
    assert {r.status.value for r in evaluation.set_results} == {"ineligible"}
    assert [k for k in kinds(evaluation) if k.startswith("refer")] == []


# --- the suggestion objects --------------------------------------------------------------


def test_suggestion_uuids_are_stable_per_kind_and_known_to_feedback() -> None:
    inputs = replace(resection_candidate(), bilirubin=None)
    first = card_suggestions(evaluate_all(inputs))[0].to_json()
    again = card_suggestions(evaluate_all(inputs))[0].to_json()
    assert first["uuid"] == again["uuid"] == suggestion_uuid("order-bilirubin")
    assert SUGGESTION_KINDS[first["uuid"]] == "order-bilirubin"
    assert len(set(SUGGESTION_KINDS)) == 4


def test_each_suggestion_is_one_create_action_with_a_valid_draft_service_request(
    fhir: FhirValidator,  # noqa: F811
) -> None:
    inputs = replace(
        resection_candidate(),
        bilirubin=None,
        platelets=platelets("220", ago(200)),
        ecog=None,
        birth_date=span("1950-06-01"),
        liver_metastases=(condition("C7B.02", ref="Condition/mets"),),
    )
    suggestions = [s.to_json() for s in card_suggestions(evaluate_all(inputs))]
    assert [s["label"] for s in suggestions] == [
        "Order total bilirubin",
        "Order platelet count",
        "Refer to the HPB surgical team (MDT)",
    ]
    codes = []
    for suggestion in suggestions:
        (action,) = suggestion["actions"]
        assert action["type"] == "create"
        assert action["description"]
        resource = action["resource"]
        assert fhir.errors(resource) == []
        assert resource["status"] == "draft"
        assert resource["intent"] == "order"
        assert resource["subject"] == {"reference": "Patient/p1"}
        assert resource["reasonReference"] == [{"reference": "Condition/mets"}]
        coding = resource["code"]["coding"][0]
        codes.append((coding["system"], coding["code"]))
    assert codes == [
        ("http://loinc.org", "1975-2"),
        ("http://loinc.org", "777-3"),
        ("http://snomed.info/sct", "306313008"),
    ]
    assert "older than 90 days" in suggestions[1]["actions"][0]["description"]


def test_a_card_with_suggestions_says_how_many_may_be_chosen() -> None:
    evaluation = evaluate_all(replace(resection_candidate(), bilirubin=None))
    result = evaluation_to_json(evaluation)
    card = build_card(
        result,
        public_base_url="https://x",
        patient_id="p1",
        suggestions=card_suggestions(evaluation),
    )
    assert card["selectionBehavior"] == "any"
    plain = build_card(result, public_base_url="https://x", patient_id="p1")
    assert "suggestions" not in plain
    assert "selectionBehavior" not in plain


# --- through the service, and feedback ---------------------------------------------------------


def call(client: FlaskClient, auth: Headers, patient_id: str) -> dict[str, Any]:
    response = client.post(
        SERVICE, json=hook_body(patient_id, full_prefetch(patient_id)), headers=auth(SERVICE)
    )
    card: dict[str, Any] = response.get_json()["cards"][0]
    return card


def test_the_service_suggests_orders_for_the_stale_labs_of_the_demo_record(
    client: FlaskClient, auth: Headers
) -> None:
    card = call(client, auth, "demo-missing")
    labels = [s["label"] for s in card["suggestions"]]
    assert labels[:2] == ["Order total bilirubin", "Order platelet count"]
    fresh = call(client, auth, "demo-transplant")
    assert [s["label"] for s in fresh["suggestions"]] == [
        "Refer to the liver transplant team (MDT)"
    ]


def test_accepted_suggestions_are_counted_per_suggestion_once_per_feedback(
    app: Flask, client: FlaskClient, auth: Headers
) -> None:
    card = call(client, auth, "demo-missing")
    order, referral = card["suggestions"][0]["uuid"], card["suggestions"][2]["uuid"]
    item = {
        "card": card["uuid"],
        "outcome": "accepted",
        "outcomeTimestamp": "2026-11-22T10:00:00Z",
        "acceptedSuggestions": [{"id": order}, {"id": referral}],
    }
    for _ in range(2):  # a client that repeats its post is counted once
        client.post(FEEDBACK, json={"feedback": [item]}, headers=auth(FEEDBACK))
    later = {
        **item,
        "outcomeTimestamp": "2026-11-23T09:00:00Z",
        "acceptedSuggestions": [{"id": order}],
    }
    client.post(FEEDBACK, json={"feedback": [later]}, headers=auth(FEEDBACK))
    store = app.extensions["nelm_cds_feedback"]
    counts = store.accepted_suggestions(service="nelm-eligibility")
    assert counts == {order: 2, referral: 1}
    assert {SUGGESTION_KINDS[u] for u in counts} == {"order-bilirubin", "refer-transplant"}
