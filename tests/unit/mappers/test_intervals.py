"""Comparators, ranges and value strings become exact intervals (criteria.md §3, §7).

A Quantity comparator or a ``valueRange`` makes the value an interval. A
``valueString`` is accepted only as an optional comparator, a number with ``.``
decimals and a recognised unit, or a range ``a-b unit``; anything else is readable
but not interpretable: ``value=None`` and a warning, without falling back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from service.criteria.values import Interval
from service.mappers.errors import UnreadableError
from service.mappers.quantities import (
    BILIRUBIN,
    PERCENT,
    PLATELETS,
    UninterpretableError,
    UnitTable,
    parse_value_string,
    read_number,
)

from .conftest import (
    KI67,
    OLDER,
    PLT,
    assessment,
    map_resources,
    observation,
    point,
    quantity,
    warned,
)

WHERE = "Observation/o1"


def below(value: str, *, closed: bool) -> Interval:
    """Return the half-line up to ``value``."""
    return Interval(None, Decimal(value), high_closed=closed)


def above(value: str, *, closed: bool) -> Interval:
    """Return the half-line from ``value``."""
    return Interval(Decimal(value), None, low_closed=closed)


def between(low: str, high: str) -> Interval:
    """Return the closed range ``[low, high]``."""
    return Interval(Decimal(low), Decimal(high))


@pytest.mark.parametrize(
    ("comparator", "expected"),
    [
        pytest.param("<", below("1", closed=False), id="<"),
        pytest.param("<=", below("1", closed=True), id="<="),
        pytest.param(">", above("1", closed=False), id=">"),
        pytest.param(">=", above("1", closed=True), id=">="),
    ],
)
def test_a_quantity_comparator_makes_the_value_a_half_line(
    comparator: str, expected: Interval
) -> None:
    resource = observation(KI67, valueQuantity=quantity(1, "%", comparator=comparator))
    assert read_number(resource, PERCENT, WHERE) == expected


def test_a_comparator_survives_unit_conversion() -> None:
    resource = observation(PLT, valueQuantity=quantity(50000, "/uL", comparator="<"))
    assert read_number(resource, PLATELETS, WHERE) == below("50", closed=False)


@pytest.mark.parametrize("comparator", ["ad", "=", "~"])
def test_a_comparator_outside_the_r4_codes_makes_the_resource_unreadable(
    comparator: str,
) -> None:
    resource = observation(KI67, valueQuantity=quantity(1, "%", comparator=comparator))
    with pytest.raises(UnreadableError, match="comparator"):
        read_number(resource, PERCENT, WHERE)


@pytest.mark.parametrize(
    ("value_range", "table", "expected"),
    [
        pytest.param(
            {"low": quantity(5, "%"), "high": quantity(10, "%")},
            PERCENT,
            between("5", "10"),
            id="5-10 %",
        ),
        pytest.param({"low": quantity(5, "%")}, PERCENT, Interval(Decimal(5), None), id="low"),
        pytest.param({"high": quantity(2, "%")}, PERCENT, Interval(None, Decimal(2)), id="high"),
        pytest.param(
            {"low": quantity(17.104, "umol/L"), "high": quantity(1.2, code="mg/dL")},
            BILIRUBIN,
            between("1", "1.2"),
            id="bilirubin sides in different units",
        ),
        pytest.param(
            {"low": quantity(100000, "/uL"), "high": quantity(150000, "/uL")},
            PLATELETS,
            between("100", "150"),
            id="platelets per uL",
        ),
    ],
)
def test_a_value_range_becomes_a_closed_interval(
    value_range: dict[str, Any], table: UnitTable, expected: Interval
) -> None:
    resource = observation(KI67, valueRange=value_range)
    assert read_number(resource, table, WHERE) == expected


@pytest.mark.parametrize(
    "value_range",
    [
        pytest.param({"low": quantity(10, "%"), "high": quantity(5, "%")}, id="low above high"),
        pytest.param({}, id="neither side"),
        pytest.param({"low": quantity(5, "%", comparator="<")}, id="comparator in a range"),
    ],
)
def test_an_impossible_value_range_makes_the_resource_unreadable(
    value_range: dict[str, Any],
) -> None:
    with pytest.raises(UnreadableError):
        read_number(observation(KI67, valueRange=value_range), PERCENT, WHERE)


def test_a_value_range_with_an_unrecognised_unit_is_uninterpretable() -> None:
    resource = observation(KI67, valueRange={"low": quantity(5, "%"), "high": quantity(10, "x")})
    with pytest.raises(UninterpretableError, match="'x'"):
        read_number(resource, PERCENT, WHERE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("15%", point("15"), id="15%"),
        pytest.param("15 %", point("15"), id="15 space %"),
        pytest.param("2.5 %", point("2.5"), id="decimal point"),
        pytest.param("15 percent", point("15"), id="percent spelled out"),
        pytest.param("15 PERCENT", point("15"), id="free-text unit in capitals"),
        pytest.param("<2 %", below("2", closed=False), id="<2 %"),
        pytest.param("<=2%", below("2", closed=True), id="<=2%"),
        pytest.param("≤ 5 %", below("5", closed=True), id="≤ 5 %"),
        pytest.param(">20 %", above("20", closed=False), id=">20 %"),
        pytest.param(">= 20%", above("20", closed=True), id=">= 20%"),
        pytest.param("≥20 %", above("20", closed=True), id="≥20 %"),
        pytest.param("5-10%", between("5", "10"), id="5-10%"),
        pytest.param("5 - 10 %", between("5", "10"), id="range with spaces"),
        pytest.param("  15 %  ", point("15"), id="surrounding blanks"),
    ],
)
def test_accepted_value_strings_become_intervals(text: str, expected: Interval) -> None:
    assert parse_value_string(text, PERCENT, WHERE) == expected


@pytest.mark.parametrize(
    ("text", "table", "expected"),
    [
        pytest.param("20.5248 µmol/L", BILIRUBIN, point("1.2"), id="bilirubin micro sign"),
        pytest.param("<0.3 mg/dl", BILIRUBIN, below("0.3", closed=False), id="bilirubin mg/dl"),
        pytest.param("150000 /uL", PLATELETS, point("150"), id="platelets per uL"),
        pytest.param("140 K/uL", PLATELETS, point("140"), id="platelets K/uL"),
    ],
)
def test_value_strings_are_normalised_like_quantities(
    text: str, table: UnitTable, expected: Interval
) -> None:
    assert parse_value_string(text, table, WHERE) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("ca. 15 %", id="approximately"),
        pytest.param("2,5 %", id="decimal comma"),
        pytest.param("15", id="no unit"),
        pytest.param("5-10", id="range without unit"),
        pytest.param("5 – 10 %", id="en dash"),
        pytest.param("15 % of cells", id="extra words"),
        pytest.param("10-5 %", id="empty range"),
        pytest.param("fifteen %", id="words"),
        pytest.param("15 mg", id="wrong unit"),
        pytest.param("< > 15 %", id="two comparators"),
        pytest.param("", id="empty"),
    ],
)
def test_rejected_value_strings_are_uninterpretable(text: str) -> None:
    with pytest.raises(UninterpretableError):
        parse_value_string(text, PERCENT, WHERE)


def test_a_value_string_is_read_through_read_number() -> None:
    resource = observation(KI67, valueString="<1 %")
    assert read_number(resource, PERCENT, WHERE) == below("1", closed=False)


def test_a_value_string_that_is_not_a_string_makes_the_resource_unreadable() -> None:
    with pytest.raises(UnreadableError):
        read_number(observation(KI67, valueString=15), PERCENT, WHERE)


@pytest.mark.parametrize("text", ["ca. 15 %", "2,5 %", "5 – 10 %", "15 % of cells", "15"])
def test_a_latest_uninterpretable_value_string_gives_no_value_and_a_warning(text: str) -> None:
    inputs = map_resources(
        observation(KI67, id="old", date=OLDER, valueQuantity=quantity(5, "%")),
        observation(KI67, id="new", valueString=text),
    )
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/new"
    assert inputs.ki67.value is None
    assert warned(inputs, "Observation/new")


def test_a_mapped_comparator_and_range_keep_their_interval() -> None:
    inputs = map_resources(
        observation(KI67, valueQuantity=quantity(1, "%", comparator="<")),
        observation(
            assessment("hepatic-tumour-burden"),
            id="burden",
            valueRange={"low": quantity(40, "%"), "high": quantity(60, "%")},
        ),
    )
    assert inputs.ki67 is not None
    assert inputs.ki67.value == below("1", closed=False)
    assert inputs.hepatic_tumour_burden is not None
    assert inputs.hepatic_tumour_burden.value == between("40", "60")
    assert inputs.warnings == ()
