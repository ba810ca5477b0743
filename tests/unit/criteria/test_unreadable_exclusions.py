"""An unreadable Condition whose code is an exclusion is not skipped as if absent
(criteria.md §7, v1.1): every criterion it could turn ``not_met`` (or whose threshold it
could raise) cannot be ``met``; it becomes ``unknown`` naming the resource and the problem,
and ``needs`` asks for a readable status on it."""

from __future__ import annotations

import pytest

from service.criteria.inputs import UnreadableCondition
from service.criteria.status import SetStatus
from service.records import replace
from tests.unit.criteria.conftest import (
    MET,
    NOT_MET,
    UNKNOWN,
    evaluate_all,
    finding,
    flr,
    resection_candidate,
    result_of,
    statuses_of,
    transplant_candidate,
)

PROBLEM = "clinicalStatus has no coding"


def unreadable(input_name: str, code: str, display: str) -> UnreadableCondition:
    """Return an unreadable Condition that would count in ``input_name`` if present."""
    return UnreadableCondition(f"Condition/{code}", input_name, code, display, PROBLEM)


EXTRAHEPATIC = unreadable("extrahepatic_metastases", "C7B.03", "extrahepatic metastasis")
NODES = unreadable("regional_node_metastases", "C77.2", "regional lymph-node metastasis")
NEC = unreadable("neuroendocrine_carcinoma", "C7A.1", "neuroendocrine carcinoma")
CIRRHOSIS = unreadable("cirrhosis", "K74.60", "cirrhosis")
STEATOSIS = unreadable("significant_liver_disease", "K76.0", "steatosis")
VARICES = unreadable("portal_hypertension_signs", "I85.00", "portal-hypertension sign")
HEART = unreadable("carcinoid_heart_disease", "E34.01", "carcinoid heart disease")


def test_an_unreadable_extrahepatic_condition_keeps_every_set_from_eligible() -> None:
    inputs = replace(transplant_candidate(), unreadable_conditions=(EXTRAHEPATIC,))
    assert statuses_of(inputs, "no_extrahepatic_disease") == {
        "milan-net": UNKNOWN,
        "enets": UNKNOWN,
        "unos": UNKNOWN,
    }
    assert statuses_of(inputs, "primary_and_extrahepatic_resected") == {"unos": UNKNOWN}
    result = result_of(inputs, "milan-net", "no_extrahepatic_disease")
    assert "Condition/C7B.03" in result.reason
    assert PROBLEM in result.reason
    assert result.needs[0] == (
        "a readable clinical and verification status on Condition/C7B.03 (extrahepatic metastasis)"
    )
    assert "Condition/C7B.03" in [e.reference for e in result.evidence]
    statuses = {r.criteria_set.id: r.status for r in evaluate_all(inputs).set_results}
    assert statuses["milan-net"] is SetStatus.INDETERMINATE


def test_the_unreadable_condition_changes_only_the_criteria_it_could_decide() -> None:
    plain = evaluate_all(transplant_candidate())
    guarded = evaluate_all(replace(transplant_candidate(), unreadable_conditions=(EXTRAHEPATIC,)))
    affected = {
        "no_extrahepatic_disease",
        "primary_and_extrahepatic_resected",
        "liver_limited_disease",
    }
    for before, after in zip(plain.set_results, guarded.set_results, strict=True):
        for one, other in zip(before.results, after.results, strict=True):
            if one.id not in affected:
                assert one == other


@pytest.mark.parametrize(
    ("condition", "set_id", "criterion_id"),
    [
        pytest.param(NEC, "milan-net", "low_grade", id="NEC: low_grade"),
        pytest.param(NEC, "enets", "ki67_at_most_10", id="NEC: ki67_at_most_10"),
        pytest.param(NEC, "resection", "well_differentiated", id="NEC: well_differentiated"),
        pytest.param(VARICES, "resection", "no_portal_hypertension", id="varices"),
        pytest.param(HEART, "resection", "fit_for_surgery", id="carcinoid heart disease"),
        pytest.param(EXTRAHEPATIC, "resection", "liver_limited_disease", id="liver-limited"),
        pytest.param(NODES, "unos", "no_extrahepatic_disease", id="nodes: transplant"),
    ],
)
def test_a_met_criterion_becomes_unknown_when_the_unreadable_condition_could_exclude(
    condition: UnreadableCondition, set_id: str, criterion_id: str
) -> None:
    candidate = resection_candidate()
    assert result_of(candidate, set_id, criterion_id).status is MET
    guarded = result_of(
        replace(candidate, unreadable_conditions=(condition,)), set_id, criterion_id
    )
    assert guarded.status is UNKNOWN
    assert condition.reference in guarded.reason


def test_unreadable_regional_nodes_do_not_touch_liver_limited_disease() -> None:
    inputs = replace(resection_candidate(), unreadable_conditions=(NODES,))
    assert result_of(inputs, "resection", "liver_limited_disease").status is MET


@pytest.mark.parametrize(
    ("condition", "remnant", "expected"),
    [
        pytest.param(CIRRHOSIS, "35", UNKNOWN, id="cirrhosis could raise 20 % to 40 %: FLR 35"),
        pytest.param(CIRRHOSIS, "45", MET, id="FLR 45 is met whatever the liver"),
        pytest.param(STEATOSIS, "25", UNKNOWN, id="steatosis could raise 20 % to 30 %: FLR 25"),
        pytest.param(STEATOSIS, "35", MET, id="FLR 35 is met for steatosis too"),
        pytest.param(CIRRHOSIS, "15", NOT_MET, id="FLR 15 is not met whatever the liver"),
    ],
)
def test_an_unreadable_liver_disease_that_could_raise_the_threshold_blocks_met(
    condition: UnreadableCondition, remnant: str, expected: object
) -> None:
    inputs = replace(
        resection_candidate(),
        future_liver_remnant=flr(remnant),
        unreadable_conditions=(condition,),
    )
    result = result_of(inputs, "resection", "adequate_future_liver_remnant")
    assert result.status is expected
    if expected is UNKNOWN:
        assert any(condition.reference in need for need in result.needs)


def test_other_evidence_that_already_excludes_stays_not_met() -> None:
    inputs = replace(
        resection_candidate(),
        ecog=finding(3, ref="Observation/ecog"),
        unreadable_conditions=(HEART,),
    )
    assert result_of(inputs, "resection", "fit_for_surgery").status is NOT_MET


def test_an_unknown_criterion_also_asks_for_the_readable_status() -> None:
    inputs = replace(
        transplant_candidate(), extrahepatic_staging=None, unreadable_conditions=(EXTRAHEPATIC,)
    )
    result = result_of(inputs, "enets", "no_extrahepatic_disease")
    assert result.status is UNKNOWN
    assert any("Condition/C7B.03" in need for need in result.needs)
    assert any("staging" in need for need in result.needs)
