"""low_grade (Milan-NET, UNOS), well_differentiated (resection), ki67_at_most_10 (ENETS).

criteria.md §7: a neuroendocrine carcinoma decides first; else the most recent Ki-67
when it can; else (no Ki-67, straddling, uninterpretable) the grade; Ki-67 wins over a
disagreeing grade. ``ki67_at_most_10`` reads Ki-67 and carcinoma only. Since v1.1 a G3
NET (Ki-67 > 20 % or grade G3, no NEC) is ``not_met`` for transplantation but
``unknown`` for resection, needing the MDT's decision; a NEC is ``not_met`` for both.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.criteria.inputs import Finding
from service.criteria.sources import cite
from service.criteria.status import Status
from tests.unit.criteria.conftest import (
    MET,
    NOT_MET,
    UNKNOWN,
    condition,
    finding,
    ki67,
    make_inputs,
    refs,
    result_of,
    statuses_of,
)

GRADE_CRITERIA = [
    ("milan-net", "low_grade"),
    ("unos", "low_grade"),
    ("resection", "well_differentiated"),
]
G3_DECISION = cite("MDT decision on resecting G3 disease (003)")


def for_criterion(criterion_id: str, transplant: Status) -> Status:
    """Return the status for ``criterion_id`` when ``low_grade`` is ``transplant``: a high
    grade without NEC is not_met for transplantation but unknown for resection."""
    if criterion_id == "well_differentiated" and transplant is NOT_MET:
        return UNKNOWN
    return transplant


NEC = condition("C7A.1", "2025-02-01", ref="Condition/nec", display="Neuroendocrine carcinoma")


def grade_of(value: str | None) -> Finding[Any]:
    """Return a histological grade Finding (``None``: uninterpretable)."""
    return finding(value, "2025-03-01", ref="Observation/grade")


@pytest.mark.parametrize(("set_id", "criterion_id"), GRADE_CRITERIA)
@pytest.mark.parametrize(
    ("ki67_value", "grade", "expected"),
    [
        pytest.param("20", None, MET, id="Ki-67 exactly 20"),
        pytest.param("20.001", None, NOT_MET, id="Ki-67 20.001"),
        pytest.param("2", None, MET, id="Ki-67 2"),
        pytest.param("24", None, NOT_MET, id="Ki-67 24"),
        pytest.param("<1", None, MET, id="Ki-67 below 1"),
        pytest.param("<=20", None, MET, id="Ki-67 at most 20"),
        pytest.param(">20", None, NOT_MET, id="Ki-67 above 20"),
        pytest.param(">=20", None, UNKNOWN, id="Ki-67 at least 20 straddles"),
        pytest.param("<=25", None, UNKNOWN, id="Ki-67 at most 25 straddles, no grade"),
        pytest.param("<=25", "G2", MET, id="straddling Ki-67, grade G2 decides"),
        pytest.param("<=25", "G3", NOT_MET, id="straddling Ki-67, grade G3 decides"),
        pytest.param("15-25", "G1", MET, id="Ki-67 range straddles, grade G1 decides"),
        pytest.param("5", "G3", MET, id="Ki-67 5 beats a disagreeing G3"),
        pytest.param("30", "G1", NOT_MET, id="Ki-67 30 beats a disagreeing G1"),
        pytest.param(None, "G2", MET, id="uninterpretable Ki-67, grade G2 decides"),
        pytest.param(None, "G3", NOT_MET, id="uninterpretable Ki-67, grade G3 decides"),
        pytest.param(None, None, UNKNOWN, id="uninterpretable Ki-67, no grade"),
    ],
)
def test_ki67_decides_grade_and_the_grade_decides_only_when_ki67_cannot(
    set_id: str, criterion_id: str, ki67_value: str | None, grade: str | None, expected: Status
) -> None:
    inputs = make_inputs(ki67=ki67(ki67_value), grade=None if grade is None else grade_of(grade))
    result = result_of(inputs, set_id, criterion_id)
    assert result.status is for_criterion(criterion_id, expected)


@pytest.mark.parametrize(("set_id", "criterion_id"), GRADE_CRITERIA)
@pytest.mark.parametrize(
    ("grade", "expected"),
    [
        pytest.param("G1", MET, id="G1"),
        pytest.param("G2", MET, id="G2"),
        pytest.param("G3", NOT_MET, id="G3"),
        pytest.param(None, UNKNOWN, id="uninterpretable grade"),
    ],
)
def test_without_ki67_the_grade_decides(
    set_id: str, criterion_id: str, grade: str | None, expected: Status
) -> None:
    inputs = make_inputs(grade=grade_of(grade))
    assert result_of(inputs, set_id, criterion_id).status is for_criterion(criterion_id, expected)


@pytest.mark.parametrize(("set_id", "criterion_id"), GRADE_CRITERIA)
def test_no_ki67_and_no_grade_is_unknown_and_names_both(set_id: str, criterion_id: str) -> None:
    result = result_of(make_inputs(), set_id, criterion_id)
    assert result.status is UNKNOWN
    assert any("Ki-67" in need for need in result.needs)
    assert any("grade" in need for need in result.needs)


@pytest.mark.parametrize(("set_id", "criterion_id"), GRADE_CRITERIA)
@pytest.mark.parametrize("present", [True, False], ids=["active", "resolved"])
def test_neuroendocrine_carcinoma_beats_a_low_ki67_and_a_low_grade(
    set_id: str, criterion_id: str, present: bool
) -> None:
    nec = condition("C7A.1", ref="Condition/nec", display="NEC", present=present)
    inputs = make_inputs(ki67=ki67("5"), grade=grade_of("G1"), neuroendocrine_carcinoma=(nec,))
    result = result_of(inputs, set_id, criterion_id)
    assert result.status is NOT_MET
    assert "neuroendocrine carcinoma" in result.reason
    assert refs(result) == ["Condition/nec"]


def test_ki67_24_gives_the_specified_reason_and_only_ki67_as_evidence() -> None:
    inputs = make_inputs(ki67=ki67("24"), grade=grade_of("G1"))
    result = result_of(inputs, "milan-net", "low_grade")
    assert result.status is NOT_MET
    assert "Ki-67 24 %" in result.reason
    assert "exceeds 20 % (G3)" in result.reason
    assert refs(result) == ["Observation/ki67"]
    assert result.evidence[0].unit == "%"
    assert result.needs == ()


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"ki67": ki67("21")}, id="Ki-67 21"),
        pytest.param({"ki67": ki67("35"), "grade": grade_of("G2")}, id="Ki-67 35 beats G2"),
        pytest.param({"grade": grade_of("G3")}, id="grade G3 without Ki-67"),
    ],
)
def test_a_g3_net_is_an_mdt_decision_for_resection_and_not_met_for_transplant(
    fields: dict[str, Any],
) -> None:
    inputs = make_inputs(**fields)
    result = result_of(inputs, "resection", "well_differentiated")
    assert result.status is UNKNOWN
    assert result.needs == (G3_DECISION,)
    assert "still well differentiated" in result.reason
    assert result.evidence
    assert statuses_of(inputs, "low_grade") == {"milan-net": NOT_MET, "unos": NOT_MET}


def test_a_neuroendocrine_carcinoma_is_not_met_for_resection_with_the_reason() -> None:
    inputs = make_inputs(ki67=ki67("35"), neuroendocrine_carcinoma=(NEC,))
    result = result_of(inputs, "resection", "well_differentiated")
    assert result.status is NOT_MET
    assert "not indicated for poorly differentiated tumours" in result.reason
    assert refs(result) == ["Condition/nec"]
    assert result.needs == ()


def test_when_ki67_straddles_the_grade_decides_and_both_are_evidence() -> None:
    inputs = make_inputs(ki67=ki67("<=25"), grade=grade_of("G2"))
    result = result_of(inputs, "milan-net", "low_grade")
    assert result.status is MET
    assert "straddles 20 %" in result.reason
    assert "histological grade G2" in result.reason
    assert refs(result) == ["Observation/ki67", "Observation/grade"]


def test_an_uninterpretable_ki67_is_named_when_the_grade_decides() -> None:
    inputs = make_inputs(ki67=ki67(None), grade=grade_of("G3"))
    result = result_of(inputs, "milan-net", "low_grade")
    assert result.status is NOT_MET
    assert "cannot be interpreted" in result.reason
    assert "unrecognised unit 'foo'" in result.reason


@pytest.mark.parametrize(
    ("ki67_value", "expected"),
    [
        pytest.param("10", MET, id="exactly 10"),
        pytest.param("10.5", NOT_MET, id="10.5"),
        pytest.param("10.001", NOT_MET, id="10.001"),
        pytest.param("9.999", MET, id="9.999"),
        pytest.param("<1", MET, id="below 1"),
        pytest.param("<10", MET, id="below 10"),
        pytest.param("<=10", MET, id="at most 10"),
        pytest.param(">10", NOT_MET, id="above 10"),
        pytest.param(">=10", UNKNOWN, id="at least 10 straddles"),
        pytest.param("5-15", UNKNOWN, id="range 5-15 straddles"),
        pytest.param("11-15", NOT_MET, id="range 11-15 above"),
        pytest.param("15", NOT_MET, id="15 is G2 but above 10"),
        pytest.param(None, UNKNOWN, id="uninterpretable"),
    ],
)
def test_ki67_at_most_10_reads_the_ki67_interval(ki67_value: str | None, expected: Status) -> None:
    inputs = make_inputs(ki67=ki67(ki67_value))
    assert statuses_of(inputs, "ki67_at_most_10") == {"enets": expected}


@pytest.mark.parametrize("grade", ["G1", "G2"])
def test_ki67_at_most_10_ignores_the_grade(grade: str) -> None:
    result = result_of(make_inputs(grade=grade_of(grade)), "enets", "ki67_at_most_10")
    assert result.status is UNKNOWN
    assert result.needs == ("Ki-67 proliferation index (%) of the tumour",)
    straddling = make_inputs(ki67=ki67("5-15"), grade=grade_of(grade))
    assert result_of(straddling, "enets", "ki67_at_most_10").status is UNKNOWN


def test_ki67_at_most_10_is_not_met_for_a_carcinoma_even_with_ki67_below_1() -> None:
    inputs = make_inputs(ki67=ki67("<1"), neuroendocrine_carcinoma=(NEC,))
    result = result_of(inputs, "enets", "ki67_at_most_10")
    assert result.status is NOT_MET
    assert refs(result) == ["Condition/nec"]


def test_ki67_10_5_exceeds_10_without_calling_it_g3() -> None:
    result = result_of(make_inputs(ki67=ki67("10.5")), "enets", "ki67_at_most_10")
    assert result.status is NOT_MET
    assert "exceeds 10 %" in result.reason
    assert "(G3)" not in result.reason


def test_a_ki67_range_reports_its_interval_as_evidence() -> None:
    result = result_of(make_inputs(ki67=ki67("5-15")), "enets", "ki67_at_most_10")
    assert "straddles 10 %" in result.reason
    assert result.evidence[0].value == "5-15"
    assert result.evidence[0].date == "2026-11-01"
