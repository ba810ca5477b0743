"""Units of measure: every spelling in terminology.md, UCUM first, never a guess.

criteria.md §3 and §7 "Quantities": the UCUM ``code`` alone decides when present
(case-sensitive); free-text units are matched case-insensitively; an unrecognised
unit leaves the value uninterpreted (``None`` plus a warning) with no fall-back to an
older result; a bare number is never assumed to be in any unit. Arithmetic is decimal.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from service.mappers.quantities import (
    BILIRUBIN,
    PERCENT,
    PLATELETS,
    UninterpretableError,
    UnitTable,
    read_number,
)

from .conftest import (
    BILI,
    KI67,
    OLDER,
    PLT,
    map_resources,
    observation,
    point,
    quantity,
    warned,
)

WHERE = "Observation/o1"
MICROMOL = Decimal("17.104")
THOUSAND = Decimal(1000)

FREE_TEXT_UNITS = [
    pytest.param(PERCENT, "%", Decimal(1), id="Ki-67 %"),
    pytest.param(PERCENT, "percent", Decimal(1), id="Ki-67 percent"),
    pytest.param(BILIRUBIN, "mg/dL", Decimal(1), id="bilirubin mg/dL"),
    pytest.param(BILIRUBIN, "mg/dl", Decimal(1), id="bilirubin mg/dl"),
    pytest.param(BILIRUBIN, "umol/L", MICROMOL, id="bilirubin umol/L"),
    pytest.param(BILIRUBIN, "\u00b5mol/L", MICROMOL, id="bilirubin micro sign"),
    pytest.param(BILIRUBIN, "\u03bcmol/L", MICROMOL, id="bilirubin greek mu"),
    pytest.param(PLATELETS, "10*3/uL", Decimal(1), id="platelets 10*3/uL"),
    pytest.param(PLATELETS, "10*9/L", Decimal(1), id="platelets 10*9/L"),
    pytest.param(PLATELETS, "K/uL", Decimal(1), id="platelets K/uL"),
    pytest.param(PLATELETS, "x10(3)/mcL", Decimal(1), id="platelets x10(3)/mcL"),
    pytest.param(PLATELETS, "10^3/uL", Decimal(1), id="platelets 10^3/uL"),
    pytest.param(PLATELETS, "thou/mm3", Decimal(1), id="platelets thou/mm3"),
    pytest.param(PLATELETS, "G/L", Decimal(1), id="platelets G/L"),
    pytest.param(PLATELETS, "/uL", THOUSAND, id="platelets per uL"),
    pytest.param(PLATELETS, "/mm3", THOUSAND, id="platelets per mm3"),
    # terminology.md v1.1
    *[
        pytest.param(PLATELETS, unit, Decimal(1), id=f"platelets {unit} (v1.1)")
        for unit in (
            "10^3/mm3",
            "10*3/mm3",
            "x10^3/uL",
            "x10E3/uL",
            "10^9/L",
            "x10^9/L",
            "x10E9/L",
            "10E9/L",
            "x10(9)/L",
        )
    ],
    pytest.param(PLATELETS, "/mcL", THOUSAND, id="platelets per mcL (v1.1)"),
]


@pytest.mark.parametrize(("table", "unit", "divisor"), FREE_TEXT_UNITS)
def test_every_free_text_spelling_in_the_terminology_is_recognised(
    table: UnitTable, unit: str, divisor: Decimal
) -> None:
    assert table.divisor(quantity(1, unit), WHERE) == divisor


@pytest.mark.parametrize(("table", "unit", "divisor"), FREE_TEXT_UNITS)
def test_free_text_spellings_are_matched_whatever_their_case(
    table: UnitTable, unit: str, divisor: Decimal
) -> None:
    assert table.divisor(quantity(1, unit.upper()), WHERE) == divisor
    assert table.divisor(quantity(1, unit.lower()), WHERE) == divisor


@pytest.mark.parametrize(
    ("table", "code", "divisor"),
    [
        pytest.param(PERCENT, "%", Decimal(1), id="%"),
        pytest.param(BILIRUBIN, "mg/dL", Decimal(1), id="mg/dL"),
        pytest.param(BILIRUBIN, "umol/L", MICROMOL, id="umol/L"),
        pytest.param(PLATELETS, "10*3/uL", Decimal(1), id="10*3/uL"),
        pytest.param(PLATELETS, "10*9/L", Decimal(1), id="10*9/L"),
        pytest.param(PLATELETS, "/uL", THOUSAND, id="/uL"),
        pytest.param(PLATELETS, "/mm3", THOUSAND, id="/mm3"),
    ],
)
def test_ucum_codes_of_the_terminology_are_recognised_without_a_unit_text(
    table: UnitTable, code: str, divisor: Decimal
) -> None:
    assert table.divisor(quantity(1, code=code), WHERE) == divisor


@pytest.mark.parametrize(
    ("table", "unit", "code", "divisor"),
    [
        pytest.param(BILIRUBIN, "mg/dL", "umol/L", MICROMOL, id="umol/L code, mg/dL text"),
        pytest.param(BILIRUBIN, "umol/L", "mg/dL", Decimal(1), id="mg/dL code, umol/L text"),
        pytest.param(PLATELETS, "K/uL", "/uL", THOUSAND, id="/uL code, K/uL text"),
        pytest.param(PLATELETS, "/uL", "10*3/uL", Decimal(1), id="10*3/uL code, /uL text"),
    ],
)
def test_the_ucum_code_wins_over_a_contradicting_free_text_unit(
    table: UnitTable, unit: str, code: str, divisor: Decimal
) -> None:
    assert table.divisor(quantity(1, unit, code=code), WHERE) == divisor


@pytest.mark.parametrize(
    ("table", "code"),
    [
        pytest.param(BILIRUBIN, "MG/DL", id="MG/DL"),
        pytest.param(BILIRUBIN, "UMOL/L", id="UMOL/L"),
        pytest.param(PLATELETS, "10*3/UL", id="10*3/UL"),
    ],
)
def test_ucum_codes_are_case_sensitive(table: UnitTable, code: str) -> None:
    with pytest.raises(UninterpretableError, match=re.escape(f"'{code}'")):
        table.divisor(quantity(1, code=code), WHERE)


@pytest.mark.parametrize(
    ("table", "code", "divisor"),
    [
        pytest.param(BILIRUBIN, "mg/dl", Decimal(1), id="mg/dl"),
        pytest.param(BILIRUBIN, "umol/l", Decimal("17.104"), id="umol/l"),
        pytest.param(PLATELETS, "10*9/l", Decimal(1), id="10*9/l"),
        pytest.param(PLATELETS, "/ul", THOUSAND, id="/ul"),
    ],
)
def test_ucum_lower_case_litre_is_the_same_unit(
    table: UnitTable, code: str, divisor: Decimal
) -> None:
    # UCUM defines both "L" and "l" as the litre; only the prefixes are case-bound.
    assert table.divisor(quantity(1, code=code), WHERE) == divisor


def test_an_unrecognised_ucum_code_is_not_rescued_by_a_good_free_text_unit() -> None:
    with pytest.raises(UninterpretableError, match="'MG/DL'"):
        BILIRUBIN.divisor(quantity(1, "mg/dL", code="MG/DL"), WHERE)


@pytest.mark.parametrize(
    ("table", "unit"),
    [
        pytest.param(PERCENT, "foo", id="Ki-67 foo"),
        pytest.param(PERCENT, "%%", id="Ki-67 %%"),
        pytest.param(BILIRUBIN, "mg%", id="bilirubin mg%"),
        pytest.param(BILIRUBIN, "mmol/L", id="bilirubin mmol/L"),
        pytest.param(PLATELETS, "10*6/uL", id="platelets 10*6/uL"),
        pytest.param(PLATELETS, "%", id="platelets %"),
    ],
)
def test_an_unrecognised_free_text_unit_is_named_with_the_reference(
    table: UnitTable, unit: str
) -> None:
    with pytest.raises(UninterpretableError) as raised:
        table.divisor(quantity(1, unit), WHERE)
    assert f"'{unit}'" in str(raised.value)
    assert WHERE in str(raised.value)


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param(observation(KI67, valueQuantity={"value": 15}), id="Quantity without unit"),
        pytest.param(observation(KI67, valueQuantity=quantity(15, " ")), id="blank unit"),
        pytest.param(observation(KI67, valueInteger=15), id="valueInteger"),
    ],
)
def test_a_bare_number_is_never_assumed_to_be_a_percentage(resource: dict[str, Any]) -> None:
    with pytest.raises(UninterpretableError):
        read_number(resource, PERCENT, WHERE)


@pytest.mark.parametrize(
    ("value", "unit", "mg_dl"),
    [
        pytest.param(Decimal("20.5248"), "\u00b5mol/L", "1.2", id="Decimal micro sign"),
        pytest.param(20.5248, "\u03bcmol/L", "1.2", id="float greek mu"),
        pytest.param(20.5248, "umol/L", "1.2", id="float umol/L"),
        pytest.param(17.104, "umol/L", "1", id="17.104 umol/L"),
        pytest.param(1.2, "mg/dL", "1.2", id="mg/dL unchanged"),
    ],
)
def test_bilirubin_converts_to_mg_dl_in_exact_decimal(value: Any, unit: str, mg_dl: str) -> None:
    resource = observation(BILI, valueQuantity=quantity(value, unit))
    interval = read_number(resource, BILIRUBIN, WHERE)
    assert interval == point(mg_dl)
    assert interval.low == Decimal(mg_dl)  # exact: no binary-float residue


@pytest.mark.parametrize(
    ("value", "unit", "per_nl"),
    [
        pytest.param(150000, "/uL", "150", id="150000 /uL"),
        pytest.param(85500, "/mm3", "85.5", id="85500 /mm3"),
        pytest.param(150, "K/uL", "150", id="150 K/uL"),
        pytest.param(98000, "/mcL", "98", id="98000 /mcL"),
        pytest.param(99, "x10E9/L", "99", id="99 x10E9/L"),
        pytest.param(100, "x10(9)/L", "100", id="100 x10(9)/L"),
    ],
)
def test_platelet_counts_are_normalised_to_10_9_per_litre(
    value: int, unit: str, per_nl: str
) -> None:
    resource = observation(PLT, valueQuantity=quantity(value, unit))
    assert read_number(resource, PLATELETS, WHERE) == point(per_nl)


def test_a_mapped_lab_carries_its_normalised_value_and_unit() -> None:
    inputs = map_resources(
        observation(KI67, id="ki", valueQuantity=quantity(8, "percent")),
        observation(BILI, id="bili", valueQuantity=quantity(20.5248, "\u00b5mol/L")),
        observation(PLT, id="plt", valueQuantity=quantity(120000, code="/uL")),
    )
    assert inputs.ki67 is not None
    assert inputs.bilirubin is not None
    assert inputs.platelets is not None
    assert (inputs.ki67.value, inputs.ki67.unit) == (point("8"), "%")
    assert (inputs.bilirubin.value, inputs.bilirubin.unit) == (point("1.2"), "mg/dL")
    assert (inputs.platelets.value, inputs.platelets.unit) == (point("120"), "10*9/L")
    assert inputs.warnings == ()


@pytest.mark.parametrize(
    ("code", "value_quantity", "field"),
    [
        pytest.param(KI67, quantity(15, "foo"), "ki67", id="Ki-67 unit foo"),
        pytest.param(KI67, {"value": 15}, "ki67", id="Ki-67 without unit"),
        pytest.param(BILI, quantity(1.0, code="MG/DL"), "bilirubin", id="MG/DL"),
        pytest.param(PLT, quantity(150, "cells"), "platelets", id="platelets cells"),
    ],
)
def test_an_uninterpretable_latest_result_stays_chosen_without_falling_back(
    code: str, value_quantity: dict[str, Any], field: str
) -> None:
    good_unit = {"ki67": "%", "bilirubin": "mg/dL", "platelets": "10*9/L"}[field]
    inputs = map_resources(
        observation(code, id="old", date=OLDER, valueQuantity=quantity(1, good_unit)),
        observation(code, id="new", valueQuantity=value_quantity),
    )
    chosen = getattr(inputs, field)
    assert chosen.reference == "Observation/new"
    assert chosen.value is None
    assert chosen.problem is not None
    assert warned(inputs, "Observation/new", "Observation/new")
    assert not warned(inputs, "Observation/old")


def test_the_warning_for_an_unrecognised_unit_quotes_the_unit() -> None:
    inputs = map_resources(observation(KI67, id="7", valueQuantity=quantity(15, "foo")))
    assert warned(inputs, "Observation/7", "unrecognised unit 'foo'", "Observation/7")


def test_a_value_longer_than_28_digits_is_rounded_whatever_its_unit() -> None:
    """Normalising rounds to the decimal context (28 digits), by a factor of 1 too, so a
    bilirubin in mg/dL and the same in µmol/L decide alike (issue 12 review)."""
    from decimal import Decimal

    from service.criteria.values import Interval

    long = Decimal("2.00000000000000000000000000000000001")
    assert Interval.point(long).scaled(Decimal(1), divide=True).high == Decimal(2)
