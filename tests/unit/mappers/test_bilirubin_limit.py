"""The bilirubin upper limit of normal from ``referenceRange`` (criteria.md §7).

It is the ``high`` of the first referenceRange that has one, normalised like the
value; an unrecognised unit there leaves the limit unusable (``upper_limit_problem``)
so the criterion is ``unknown``; without any ``high`` the configured default applies.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from .conftest import BILI, map_resources, observation, point, quantity, warned


def bilirubin(*ranges: dict[str, Any], value: Any = None) -> dict[str, Any]:
    """Return a bilirubin of 1.0 mg/dL (unless told) with these reference ranges."""
    return observation(
        BILI,
        id="bili",
        valueQuantity=value or quantity(1.0, "mg/dL"),
        referenceRange=list(ranges) or None,
    )


@pytest.mark.parametrize(
    ("ranges", "limit"),
    [
        pytest.param([{"high": quantity(1.2, "mg/dL")}], "1.2", id="mg/dL"),
        pytest.param([{"high": quantity(1.1, code="mg/dL")}], "1.1", id="UCUM mg/dL"),
        pytest.param([{"high": quantity(20.5248, "\u00b5mol/L")}], "1.2", id="micro sign"),
        pytest.param([{"high": quantity(20.5248, code="umol/L")}], "1.2", id="UCUM umol/L"),
        pytest.param(
            [{"low": quantity(0.1, "mg/dL")}, {"high": quantity(1.3, "mg/dL")}],
            "1.3",
            id="first range without high is skipped",
        ),
        pytest.param(
            [{"text": "adult"}, {"high": quantity(1.0, "mg/dL")}, {"high": quantity(2, "mg/dL")}],
            "1.0",
            id="first range with a high wins",
        ),
    ],
)
def test_the_upper_limit_is_the_first_reference_range_high_normalised(
    ranges: list[dict[str, Any]], limit: str
) -> None:
    inputs = map_resources(bilirubin(*ranges))
    assert inputs.bilirubin is not None
    assert inputs.bilirubin.upper_limit == Decimal(limit)
    assert inputs.bilirubin.upper_limit_problem is None
    assert inputs.warnings == ()


@pytest.mark.parametrize(
    "ranges",
    [
        pytest.param([], id="no reference range"),
        pytest.param([{"low": quantity(0.1, "mg/dL")}], id="low only"),
        pytest.param([{"text": "< 1.2 mg/dL"}], id="text only"),
    ],
)
def test_without_a_high_there_is_no_upper_limit_and_no_problem(
    ranges: list[dict[str, Any]],
) -> None:
    inputs = map_resources(bilirubin(*ranges))
    assert inputs.bilirubin is not None
    assert inputs.bilirubin.upper_limit is None
    assert inputs.bilirubin.upper_limit_problem is None


@pytest.mark.parametrize(
    "high",
    [
        pytest.param(quantity(1.2, "mg%"), id="unrecognised text unit"),
        pytest.param(quantity(1.2, code="MG/DL"), id="UCUM code in capitals"),
        pytest.param({"value": 1.2}, id="no unit"),
    ],
)
def test_an_uninterpretable_upper_limit_is_a_problem_not_a_guess(high: dict[str, Any]) -> None:
    inputs = map_resources(bilirubin({"high": high}, {"high": quantity(1.2, "mg/dL")}))
    assert inputs.bilirubin is not None
    assert inputs.bilirubin.value == point("1.0")
    assert inputs.bilirubin.upper_limit is None
    assert inputs.bilirubin.upper_limit_problem is not None
    assert warned(inputs, "Observation/bili", "reference range")


def test_an_uninterpretable_value_leaves_the_limit_unread() -> None:
    inputs = map_resources(bilirubin({"high": quantity(1.2, "mg/dL")}, value=quantity(1.0, "mg%")))
    assert inputs.bilirubin is not None
    assert inputs.bilirubin.value is None
    assert warned(inputs, "Observation/bili", "'mg%'")
