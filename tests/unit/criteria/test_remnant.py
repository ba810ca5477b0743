"""``adequate_future_liver_remnant`` without volumetry (criteria.md §4.4 and §7, v1.1).

A recorded FLR decides; without one, the latest ``major-hepatectomy-planned``
assessment = false is ``met`` ("minor resection planned: volumetry not required"), and
true or absent leaves it ``unknown`` needing the FLR (000: volumetry "when extensive
liver resection is planned")."""

from __future__ import annotations

from typing import Any

import pytest

from service.criteria.status import Status
from tests.unit.criteria.conftest import (
    MET,
    NOT_MET,
    UNKNOWN,
    condition,
    finding,
    flr,
    make_inputs,
    refs,
    result_of,
)

NEEDS_FLR = "future liver remnant (% of total liver volume) from volumetry"
CIRRHOSIS = condition("K74.60", ref="Condition/cirrhosis", display="cirrhosis")


def planned(value: bool | None, on: str = "2026-10-01") -> Any:
    """Return the MDT assessment 'major hepatectomy planned' (``None``: uninterpretable)."""
    return finding(value, on, ref="Observation/major-hepatectomy")


@pytest.mark.parametrize(
    ("major", "remnant", "expected"),
    [
        pytest.param(False, None, MET, id="minor resection, no FLR"),
        pytest.param(True, None, UNKNOWN, id="major hepatectomy, no FLR"),
        pytest.param("absent", None, UNKNOWN, id="no assessment, no FLR"),
        pytest.param("uninterpretable", None, UNKNOWN, id="uninterpretable assessment, no FLR"),
        pytest.param(False, "15", NOT_MET, id="minor resection but a recorded FLR of 15"),
        pytest.param(False, "25", MET, id="minor resection and FLR 25"),
        pytest.param(True, "25", MET, id="major hepatectomy, FLR 25"),
        pytest.param(True, "19.9", NOT_MET, id="major hepatectomy, FLR 19.9"),
        pytest.param("absent", "20", MET, id="no assessment, FLR exactly 20"),
        pytest.param(False, "15-25", UNKNOWN, id="minor resection but a straddling FLR"),
        pytest.param(False, "uninterpretable", UNKNOWN, id="minor resection, FLR unreadable"),
    ],
)
def test_a_recorded_flr_decides_and_without_one_the_planned_extent_does(
    major: bool | str, remnant: str | None, expected: Status
) -> None:
    assessment = None if major == "absent" else planned(major if isinstance(major, bool) else None)
    recorded = None if remnant is None else flr(None if remnant == "uninterpretable" else remnant)
    inputs = make_inputs(major_hepatectomy_planned=assessment, future_liver_remnant=recorded)
    assert result_of(inputs, "resection", "adequate_future_liver_remnant").status is expected


def test_a_minor_resection_is_met_with_the_specified_reason_and_the_assessment() -> None:
    inputs = make_inputs(major_hepatectomy_planned=planned(False))
    result = result_of(inputs, "resection", "adequate_future_liver_remnant")
    assert result.status is MET
    assert result.reason.startswith("minor resection planned: volumetry not required")
    assert refs(result) == ["Observation/major-hepatectomy"]
    assert result.evidence[0].value is False


def test_a_minor_resection_in_a_cirrhotic_liver_needs_no_volumetry_either() -> None:
    inputs = make_inputs(major_hepatectomy_planned=planned(False), cirrhosis=(CIRRHOSIS,))
    assert result_of(inputs, "resection", "adequate_future_liver_remnant").status is MET


@pytest.mark.parametrize("major", [True, None, "absent"], ids=["major", "uninterpretable", "none"])
def test_without_an_flr_a_major_or_unknown_extent_asks_for_the_flr(major: Any) -> None:
    assessment = None if major == "absent" else planned(major)
    inputs = make_inputs(major_hepatectomy_planned=assessment)
    result = result_of(inputs, "resection", "adequate_future_liver_remnant")
    assert result.status is UNKNOWN
    assert result.needs == (NEEDS_FLR,)
    if assessment is not None:
        assert refs(result) == ["Observation/major-hepatectomy"]


def test_the_latest_assessment_is_the_one_the_mappers_give_and_it_alone_decides() -> None:
    inputs = make_inputs(major_hepatectomy_planned=planned(True, "2026-11-20"))
    result = result_of(inputs, "resection", "adequate_future_liver_remnant")
    assert "major hepatectomy planned (2026-11-20)" in result.reason
