"""stable_disease_6_months (Milan-NET, ENETS, UNOS) and fit_for_surgery (resection)."""

from __future__ import annotations

from typing import Any

import pytest

from service.criteria.inputs import Finding
from service.criteria.status import Status
from tests.unit.criteria.conftest import (
    MET,
    NOT_MET,
    UNKNOWN,
    condition,
    course,
    finding,
    make_inputs,
    refs,
    result_of,
    span,
    statuses_of,
)

TRANSPLANT_SETS = ("milan-net", "enets", "unos")
CARCINOID_HEART = condition("E34.01", ref="Condition/chd", display="Carcinoid heart disease")


def series(*results: tuple[str | None, int | None]) -> tuple[Finding[Any], ...]:
    """Return disease-status results, oldest first, from (value, days before) pairs."""
    return tuple(course(value, days) for value, days in results)


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        pytest.param((), UNKNOWN, id="no disease status"),
        pytest.param((("progressing", 181),), NOT_MET, id="progression 181 days ago"),
        pytest.param((("progressing", 182),), UNKNOWN, id="progression exactly 182 days ago"),
        pytest.param((("progressing", 183),), UNKNOWN, id="progression 183 days, none since"),
        pytest.param((("stable", 182),), MET, id="stable exactly 182 days ago and latest"),
        pytest.param((("stable", 181),), UNKNOWN, id="stable only 181 days ago"),
        pytest.param((("stable", 300), ("stable", 30)), MET, id="stable then stable"),
        pytest.param((("responding", 300), ("stable", 30)), MET, id="responding then stable"),
        pytest.param((("stable", 300), ("responding", 30)), MET, id="latest responding counts"),
        pytest.param((("progressing", 400), ("stable", 182)), MET, id="stable 182 after old PD"),
        pytest.param((("progressing", 400), ("stable", 100)), UNKNOWN, id="stable only 100"),
        pytest.param(
            (("stable", 300), ("progressing", 200), ("stable", 30)),
            UNKNOWN,
            id="old progression after the old stable",
        ),
        pytest.param(
            (("stable", 300), ("progressing", 100), ("stable", 30)),
            NOT_MET,
            id="recent progression between stable results",
        ),
        pytest.param(
            (("stable", 400), ("progressing", 190)), UNKNOWN, id="latest is an old progression"
        ),
        pytest.param(
            (("progressing", 30), ("stable", 10)),
            NOT_MET,
            id="recent progression beats a newer stable",
        ),
        pytest.param(((None, 300), ("stable", 30)), UNKNOWN, id="uninterpretable old result"),
        pytest.param((("stable", 300), (None, 30)), UNKNOWN, id="uninterpretable latest"),
        pytest.param((("stable", None), ("stable", 30)), UNKNOWN, id="undated old stable"),
    ],
)
def test_stable_disease_needs_a_good_result_182_days_old_and_no_progression_since(
    history: tuple[tuple[str | None, int | None], ...], expected: Status
) -> None:
    statuses = statuses_of(make_inputs(disease_course=series(*history)), "stable_disease_6_months")
    assert statuses == dict.fromkeys(TRANSPLANT_SETS, expected)


def test_a_partial_date_stable_result_must_be_182_days_old_on_every_day() -> None:
    may = Finding("Observation/may", span("2026-05"), "stable", "stable")
    april = Finding("Observation/april", span("2026-04"), "stable", "stable")
    recent = course("stable", 30)
    straddling = make_inputs(disease_course=(may, recent))
    old_enough = make_inputs(disease_course=(april, recent))
    assert result_of(straddling, "enets", "stable_disease_6_months").status is UNKNOWN
    assert result_of(old_enough, "enets", "stable_disease_6_months").status is MET


def test_a_recent_progression_is_named_with_its_date() -> None:
    inputs = make_inputs(disease_course=series(("stable", 300), ("progressing", 181)))
    result = result_of(inputs, "milan-net", "stable_disease_6_months")
    assert result.status is NOT_MET
    assert "disease progression recorded 2026-05-25, within 182 days" in result.reason
    assert refs(result) == ["Observation/course-181"]


def test_an_old_progression_without_stable_since_says_so() -> None:
    inputs = make_inputs(disease_course=series(("progressing", 183)))
    result = result_of(inputs, "milan-net", "stable_disease_6_months")
    assert "no stable result since" in result.reason
    assert result.needs


def test_stable_disease_met_cites_the_old_stable_and_the_latest_result() -> None:
    inputs = make_inputs(disease_course=series(("stable", 300), ("responding", 30)))
    result = result_of(inputs, "unos", "stable_disease_6_months")
    assert result.status is MET
    assert refs(result) == ["Observation/course-300", "Observation/course-30"]
    assert "latest responding" in result.reason


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"ecog": finding(0)}, MET, id="ECOG 0"),
        pytest.param({"ecog": finding(1)}, MET, id="ECOG 1"),
        pytest.param({"ecog": finding(2)}, MET, id="ECOG 2"),
        pytest.param({"ecog": finding(3)}, NOT_MET, id="ECOG 3"),
        pytest.param({"ecog": finding(4)}, NOT_MET, id="ECOG 4"),
        pytest.param({"ecog": finding(5)}, NOT_MET, id="ECOG 5"),
        pytest.param({"ecog": finding(None)}, UNKNOWN, id="uninterpretable ECOG"),
        pytest.param({}, UNKNOWN, id="no ECOG"),
        pytest.param(
            {"ecog": finding(1), "carcinoid_heart_disease": (CARCINOID_HEART,)},
            NOT_MET,
            id="active carcinoid heart disease",
        ),
        pytest.param(
            {"carcinoid_heart_disease": (CARCINOID_HEART,)},
            NOT_MET,
            id="active carcinoid heart disease, no ECOG",
        ),
        pytest.param(
            {
                "ecog": finding(1),
                "carcinoid_heart_disease": (
                    condition("E34.01", "2024-01-01", ref="Condition/treated", present=False),
                ),
            },
            MET,
            id="treated carcinoid heart disease",
        ),
    ],
)
def test_fit_for_surgery_needs_ecog_at_most_2_and_no_active_carcinoid_heart_disease(
    fields: dict[str, Any], expected: Status
) -> None:
    assert statuses_of(make_inputs(**fields), "fit_for_surgery") == {"resection": expected}


def test_ecog_3_is_not_met_with_the_limit_in_the_reason() -> None:
    inputs = make_inputs(ecog=finding(3, ref="Observation/ecog"))
    result = result_of(inputs, "resection", "fit_for_surgery")
    assert "ECOG 3 (2026-11-01) is above 2" in result.reason
    assert refs(result) == ["Observation/ecog"]
    assert result.evidence[0].value == 3


def test_carcinoid_heart_disease_and_poor_ecog_are_both_cited() -> None:
    inputs = make_inputs(
        ecog=finding(4, ref="Observation/ecog"), carcinoid_heart_disease=(CARCINOID_HEART,)
    )
    result = result_of(inputs, "resection", "fit_for_surgery")
    assert "active carcinoid heart disease recorded (E34.01" in result.reason
    assert refs(result) == ["Condition/chd", "Observation/ecog"]


def test_no_ecog_asks_for_the_performance_status() -> None:
    result = result_of(make_inputs(), "resection", "fit_for_surgery")
    assert result.needs == ("ECOG performance status",)
