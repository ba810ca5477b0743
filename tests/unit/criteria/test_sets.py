"""Invariants of a whole evaluation (criteria.md §1, §6, §7 "Result") over varied inputs."""

from __future__ import annotations

import random
from typing import Any

import pytest

from service.criteria import DEFAULT_SETS, CriteriaInputs, EvaluationConfig, evaluate
from service.criteria.inputs import UnreadableCondition, Warning
from service.criteria.status import SetStatus, Status
from service.records import replace
from tests.unit.criteria.conftest import (
    MET,
    NOT_MET,
    UNKNOWN,
    ago,
    bilirubin,
    burden,
    condition,
    course,
    evaluate_all,
    finding,
    flr,
    ki67,
    make_inputs,
    platelets,
    primary_site,
    procedure,
    resection_candidate,
    span,
    transplant_candidate,
)

SET_ORDER = ["milan-net", "enets", "unos", "resection"]

POOLS: dict[str, list[Any]] = {
    "birth_date": [None, span("1980-06-01"), span("1971"), span("1950-01-01")],
    "ki67": [None, ki67("5"), ki67("15"), ki67("<=25"), ki67("30"), ki67(None)],
    "grade": [None, finding("G2"), finding("G3"), finding(None)],
    "neuroendocrine_carcinoma": [(), (condition("C7A.1"),)],
    "bilirubin": [
        None,
        bilirubin("0.8"),
        bilirubin("2.0"),
        bilirubin("0.8", ago(120)),
        bilirubin("1.0", upper_limit_problem="unrecognised unit 'x'"),
    ],
    "platelets": [None, platelets("220"), platelets("60"), platelets("60", ago(91))],
    "primary_sites": [
        (),
        (primary_site("ileum", "portal"),),
        (primary_site("rectum", "not_portal"),),
        (primary_site("unspecified site", "undetermined"),),
        (primary_site("ileum", "portal"), primary_site("lung/bronchus", "not_portal")),
    ],
    "primary_resections": [(), (procedure(ago(400)),), (procedure(ago(30)),), (procedure(None),)],
    "primary_resected": [None, finding(True), finding(False)],
    "primary_resectable": [None, finding(True), finding(False)],
    "extrahepatic_metastases": [(), (condition("C7B.03"),), (condition("C7B.03", present=False),)],
    "regional_node_metastases": [(), (condition("C77.2"),)],
    "extrahepatic_staging": [None, finding(False), finding(True)],
    "hepatic_tumour_burden": [None, burden("30"), burden("60"), burden("80"), burden("40-60")],
    "metastatic_pattern": [None, finding("type-i"), finding("type-ii"), finding("type-iii")],
    "hepatic_disease_resectable": [None, finding(True), finding(False)],
    "future_liver_remnant": [None, flr("35"), flr("15")],
    "major_hepatectomy_planned": [None, finding(True), finding(False), finding(None)],
    "cirrhosis": [(), (condition("K74.60"),)],
    "significant_liver_disease": [(), (condition("K76.0"),)],
    "portal_hypertension_signs": [(), (condition("R16.1"),)],
    "disease_course": [
        (),
        (course("stable", 300), course("stable", 20)),
        (course("progressing", 60),),
        (course("progressing", 400), course("stable", 90)),
    ],
    "refractory_hormonal_syndrome": [None, finding(True), finding(False)],
    "carcinoid_heart_disease": [(), (condition("E34.01"),)],
    "ecog": [None, finding(1), finding(3)],
    "liver_transplants": [(), (procedure(ago(900), ref="Procedure/lt", code="18027006"),)],
    "unreadable_conditions": [
        (),
        (UnreadableCondition("Condition/x", "extrahepatic_metastases", "C7B.03", "bone", "bad"),),
        (UnreadableCondition("Condition/y", "cirrhosis", "K74.60", "cirrhosis", "bad"),),
    ],
}


def random_inputs(seed: int) -> CriteriaInputs:
    """Return inputs with every field drawn from ``POOLS`` (deterministic per seed)."""
    rng = random.Random(seed)
    return make_inputs(**{name: rng.choice(pool) for name, pool in POOLS.items()})


SCENARIOS = [
    pytest.param(make_inputs(), id="empty"),
    pytest.param(transplant_candidate(), id="transplant candidate"),
    pytest.param(resection_candidate(), id="resection candidate"),
    pytest.param(
        replace(transplant_candidate(), ki67=ki67("<=25"), grade=None, birth_date=span("1971")),
        id="mixed unknowns",
    ),
    *(pytest.param(random_inputs(seed), id=f"random {seed}") for seed in range(60)),
]


@pytest.mark.parametrize("inputs", SCENARIOS)
def test_results_list_all_four_sets_in_order_with_every_criterion(inputs: CriteriaInputs) -> None:
    evaluation = evaluate_all(inputs)
    assert [r.criteria_set.id for r in evaluation.set_results] == SET_ORDER
    for set_result in evaluation.set_results:
        expected_ids = [c.id for c in set_result.criteria_set.criteria]
        assert [r.id for r in set_result.results] == expected_ids


@pytest.mark.parametrize("inputs", SCENARIOS)
def test_needs_are_given_exactly_for_unknown_and_evidence_for_every_decision(
    inputs: CriteriaInputs,
) -> None:
    for set_result in evaluate_all(inputs).set_results:
        for result in set_result.results:
            assert result.status in (MET, NOT_MET, UNKNOWN)
            assert result.reason.strip()
            if result.status is UNKNOWN:
                assert result.needs, result
                assert all(need.strip() for need in result.needs)
            else:
                assert result.needs == (), result
                assert result.evidence, result
                assert all(item.reference for item in result.evidence)


def expected_set_status(statuses: list[Status]) -> SetStatus:
    """Return the set status criteria.md §1 prescribes."""
    if NOT_MET in statuses:
        return SetStatus.INELIGIBLE
    if all(status is MET for status in statuses):
        return SetStatus.ELIGIBLE
    return SetStatus.INDETERMINATE


@pytest.mark.parametrize("inputs", SCENARIOS)
def test_set_status_follows_the_three_valued_rule(inputs: CriteriaInputs) -> None:
    for set_result in evaluate_all(inputs).set_results:
        statuses = [r.status for r in set_result.results]
        assert set_result.status is expected_set_status(statuses)


@pytest.mark.parametrize("inputs", SCENARIOS)
def test_the_summary_names_the_criteria_that_decide_the_set(inputs: CriteriaInputs) -> None:
    for set_result in evaluate_all(inputs).set_results:
        named = {
            SetStatus.INELIGIBLE: NOT_MET,
            SetStatus.INDETERMINATE: UNKNOWN,
        }.get(set_result.status)
        for result in set_result.results:
            if named is not None and result.status is named:
                assert result.id in set_result.summary
        assert set_result.criteria_set.title in set_result.summary


def test_empty_inputs_leave_every_criterion_unknown_and_no_set_eligible() -> None:
    evaluation = evaluate_all(make_inputs())
    for set_result in evaluation.set_results:
        assert set_result.status is SetStatus.INDETERMINATE
        assert {r.status for r in set_result.results} == {UNKNOWN}


@pytest.mark.parametrize("inputs", SCENARIOS)
def test_notes_never_change_a_status(inputs: CriteriaInputs) -> None:
    with_history = evaluate_all(inputs)
    without_history = evaluate_all(replace(inputs, liver_transplants=()))
    assert with_history.set_results == without_history.set_results
    assert with_history.notes[-1] == without_history.notes[-1]


def test_the_transplant_candidate_is_eligible_for_every_transplant_set() -> None:
    evaluation = evaluate_all(transplant_candidate())
    statuses = {r.criteria_set.id: r.status for r in evaluation.set_results}
    assert statuses == {
        "milan-net": SetStatus.ELIGIBLE,
        "enets": SetStatus.ELIGIBLE,
        "unos": SetStatus.ELIGIBLE,
        "resection": SetStatus.INELIGIBLE,
    }
    resection = evaluation.set_results[3]
    assert "all_disease_resectable not met" in resection.summary


def test_the_resection_candidate_is_eligible_for_resection_and_not_for_unos() -> None:
    statuses = {
        r.criteria_set.id: r.status for r in evaluate_all(resection_candidate()).set_results
    }
    assert statuses["resection"] is SetStatus.ELIGIBLE
    assert statuses["unos"] is SetStatus.INELIGIBLE


CANDIDATE_CRITERIA = [
    pytest.param(
        candidate, criteria_set.id, criterion, id=f"{name} {criteria_set.id} {criterion.id}"
    )
    for name, candidate in (
        ("transplant", transplant_candidate()),
        ("resection", resection_candidate()),
    )
    for criteria_set in DEFAULT_SETS
    for criterion in criteria_set.criteria
    if criterion.inputs
]


@pytest.mark.parametrize(("candidate", "set_id", "criterion"), CANDIDATE_CRITERIA)
def test_without_its_own_inputs_no_criterion_can_be_met(
    candidate: CriteriaInputs, set_id: str, criterion: Any
) -> None:
    defaults: dict[str, Any] = {
        name: default
        for name, default in zip(
            CriteriaInputs.__struct_fields__[-len(CriteriaInputs.__struct_defaults__) :],
            CriteriaInputs.__struct_defaults__,
            strict=True,
        )
        if name in criterion.inputs
    }
    blanked = replace(candidate, **defaults)
    for set_result in evaluate_all(blanked).set_results:
        if set_result.criteria_set.id == set_id:
            result = next(r for r in set_result.results if r.id == criterion.id)
            assert result.status is UNKNOWN


def test_evaluating_a_subset_keeps_the_order_it_was_given() -> None:
    by_id = {s.id: s for s in DEFAULT_SETS}
    subset = (by_id["unos"], by_id["resection"])
    evaluation = evaluate(transplant_candidate(), subset, EvaluationConfig())
    assert [r.criteria_set.id for r in evaluation.set_results] == ["unos", "resection"]


def test_reading_warnings_are_passed_through_with_their_reference() -> None:
    warning = Warning("Observation/7", "unrecognised unit 'foo' on Observation/7")
    evaluation = evaluate_all(make_inputs(warnings=(warning,)))
    assert evaluation.warnings == (warning,)


def test_results_name_the_set_version() -> None:
    for set_result in evaluate_all(make_inputs()).set_results:
        assert set_result.criteria_set.version == "1.1.0"
        assert set_result.criteria_set.source
