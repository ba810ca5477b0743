"""UNOS ``bilobar_unresectable`` (criteria.md §4.3 and §7, v1.1): bilobar disease not
amenable to resection, by assessment or by an inadequate future liver remnant; other
reasons against resection are no reason to transplant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from service.criteria import DEFAULT_SETS, EvaluationConfig
from service.criteria.evaluator import evaluate_set
from service.criteria.inputs import Finding
from service.criteria.status import Status
from tests.unit.criteria.conftest import (
    MET,
    NOT_MET,
    UNKNOWN,
    condition,
    finding,
    flr,
    ki67,
    make_inputs,
    refs,
    result_of,
    statuses_of,
)

UNREADABLE = "uninterpretable"
CIRRHOSIS = condition("K74.60", ref="Condition/cirrhosis", display="cirrhosis")
CARCINOID_HEART = condition("E34.01", ref="Condition/heart", display="carcinoid heart disease")


def pattern(value: str | None) -> Finding[Any]:
    """Return the Frilling metastatic pattern."""
    return finding(value, ref="Observation/pattern")


def hepatic_resectable(value: bool | None) -> Finding[Any]:
    """Return the assessment 'all hepatic disease resectable/ablatable'."""
    return finding(value, ref="Observation/hep-resectable")


def recorded(make: Callable[[Any], Finding[Any]], value: Any) -> Finding[Any] | None:
    """Return nothing for ``None``, an uninterpretable result for ``UNREADABLE``, else one."""
    if value is None:
        return None
    return make(None if value == UNREADABLE else value)


@pytest.mark.parametrize(
    ("frilling", "assessment", "extra", "expected"),
    [
        pytest.param("type-i", None, {}, NOT_MET, id="type I is unilobar"),
        pytest.param("type-i", False, {}, NOT_MET, id="type I even when not resectable"),
        pytest.param(
            "type-i", None, {"future_liver_remnant": flr("10")}, NOT_MET, id="type I, FLR 10"
        ),
        pytest.param(None, True, {}, NOT_MET, id="assessed resectable"),
        pytest.param("type-ii", True, {}, NOT_MET, id="type II assessed resectable"),
        pytest.param(
            "type-iii",
            True,
            {"future_liver_remnant": flr("10")},
            NOT_MET,
            id="assessed resectable beats an inadequate FLR",
        ),
        pytest.param("type-ii", False, {}, MET, id="type II assessed not resectable"),
        pytest.param("type-iii", False, {}, MET, id="type III assessed not resectable"),
        pytest.param(
            "type-ii", None, {"future_liver_remnant": flr("15")}, MET, id="type II, FLR 15 %"
        ),
        pytest.param(
            "type-iii", None, {"future_liver_remnant": flr("19.9")}, MET, id="type III, FLR 19.9"
        ),
        pytest.param(
            "type-ii",
            None,
            {"future_liver_remnant": flr("20")},
            UNKNOWN,
            id="type II, FLR exactly 20 % is adequate",
        ),
        pytest.param(
            "type-ii",
            None,
            {"future_liver_remnant": flr("35"), "cirrhosis": (CIRRHOSIS,)},
            MET,
            id="type II, FLR 35 % in a cirrhotic liver",
        ),
        pytest.param(
            "type-ii",
            None,
            {"ecog": finding(3, ref="Observation/ecog")},
            UNKNOWN,
            id="type II, ECOG 3 alone",
        ),
        pytest.param("type-ii", None, {"ki67": ki67("35")}, UNKNOWN, id="type II, G3 alone"),
        pytest.param(
            "type-iii",
            None,
            {"carcinoid_heart_disease": (CARCINOID_HEART,)},
            UNKNOWN,
            id="type III, carcinoid heart disease alone",
        ),
        pytest.param(
            "type-iii", None, {}, UNKNOWN, id="type III, resection ineligible by pattern only"
        ),
        pytest.param("type-ii", None, {}, UNKNOWN, id="type II, nothing else"),
        pytest.param(
            "type-ii",
            None,
            {"future_liver_remnant": flr("10-30")},
            UNKNOWN,
            id="type II, FLR straddling 20 %",
        ),
        pytest.param(
            None, None, {"future_liver_remnant": flr("10")}, UNKNOWN, id="FLR 10, no pattern"
        ),
        pytest.param(None, False, {}, UNKNOWN, id="not resectable, no pattern"),
        pytest.param(UNREADABLE, None, {}, UNKNOWN, id="uninterpretable pattern"),
        pytest.param(
            "type-ii",
            UNREADABLE,
            {"future_liver_remnant": flr("10")},
            UNKNOWN,
            id="uninterpretable assessment, FLR 10",
        ),
        pytest.param(None, None, {}, UNKNOWN, id="nothing recorded"),
    ],
)
def test_bilobar_unresectable_follows_each_branch_of_the_spec(
    frilling: str | None,
    assessment: bool | str | None,
    extra: dict[str, Any],
    expected: Status,
) -> None:
    inputs = make_inputs(
        metastatic_pattern=recorded(pattern, frilling),
        hepatic_disease_resectable=recorded(hepatic_resectable, assessment),
        **extra,
    )
    assert statuses_of(inputs, "bilobar_unresectable") == {"unos": expected}


def test_bilobar_met_by_an_inadequate_remnant_names_it_as_evidence() -> None:
    inputs = make_inputs(metastatic_pattern=pattern("type-ii"), future_liver_remnant=flr("15"))
    result = result_of(inputs, "unos", "bilobar_unresectable")
    assert result.status is MET
    assert "future liver remnant is inadequate" in result.reason
    assert "15 %" in result.reason
    assert refs(result) == ["Observation/pattern", "Observation/flr"]


def test_ecog_3_makes_resection_ineligible_but_bilobar_asks_for_resectability() -> None:
    inputs = make_inputs(
        metastatic_pattern=pattern("type-iii"), ecog=finding(3, ref="Observation/ecog")
    )
    evaluation = result_of(inputs, "resection", "fit_for_surgery")
    assert evaluation.status is NOT_MET
    result = result_of(inputs, "unos", "bilobar_unresectable")
    assert result.status is UNKNOWN
    assert "resectability is not established" in result.reason
    assert any("resectable" in need for need in result.needs)


def test_bilobar_evaluated_without_the_resection_set_result_stays_unknown() -> None:
    unos = next(s for s in DEFAULT_SETS if s.id == "unos")
    inputs = make_inputs(metastatic_pattern=pattern("type-ii"), future_liver_remnant=flr("10"))
    result = evaluate_set(unos, inputs, EvaluationConfig())
    bilobar = next(r for r in result.results if r.id == "bilobar_unresectable")
    assert bilobar.status is UNKNOWN
    assert "resectability is not established" in bilobar.reason
