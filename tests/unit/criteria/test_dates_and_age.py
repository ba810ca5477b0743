"""age_under_55 (Milan-NET, ENETS, UNOS), partial dates and calendar-day arithmetic."""

from __future__ import annotations

import calendar
from datetime import date

import pytest

from service.criteria.status import Status
from service.criteria.values import DateFormatError, Evidence, parse_fhir_date
from tests.unit.criteria.conftest import (
    AT,
    MET,
    NOT_MET,
    PATIENT,
    UNKNOWN,
    make_inputs,
    result_of,
    span,
    statuses_of,
)

AGE_SETS = {"milan-net", "enets", "unos"}


@pytest.mark.parametrize(
    ("birth_date", "expected"),
    [
        pytest.param("1972-06-01", MET, id="exactly 54"),
        pytest.param("1971-06-01", NOT_MET, id="exactly 55"),
        pytest.param("1971-11-23", MET, id="day before the 55th birthday"),
        pytest.param("1971-11-22", NOT_MET, id="day of the 55th birthday"),
        pytest.param("1990-03-15", MET, id="36"),
        pytest.param("1940-01-01", NOT_MET, id="86"),
        pytest.param("1971", UNKNOWN, id="birth year 1971 gives 54 or 55"),
        pytest.param("1972", MET, id="birth year 1972 gives 53 or 54"),
        pytest.param("1970", NOT_MET, id="birth year 1970 gives 55 or 56"),
        pytest.param("1971-11", UNKNOWN, id="November 1971 straddles the birthday"),
        pytest.param("1971-10", NOT_MET, id="October 1971 is 55 every day"),
        pytest.param("1971-12", MET, id="December 1971 is 54 every day"),
        pytest.param(None, UNKNOWN, id="no birth date"),
        pytest.param("2027-01-01", UNKNOWN, id="birth date after the evaluation date"),
    ],
)
def test_age_under_55_follows_whole_years_on_the_evaluation_date(
    birth_date: str | None, expected: Status
) -> None:
    statuses = statuses_of(make_inputs(birth_date=span(birth_date)), "age_under_55")
    assert set(statuses) == AGE_SETS
    assert set(statuses.values()) == {expected}


def test_age_exactly_55_is_not_met_with_reason_and_evidence() -> None:
    result = result_of(make_inputs(birth_date=span("1971-06-01")), "milan-net", "age_under_55")
    assert result.status is NOT_MET
    assert "age 55 years is 55 or older" in result.reason
    assert result.evidence == (Evidence(PATIENT, 55, "a", "1971-06-01"),)
    assert result.needs == ()


def test_age_54_is_met_with_the_age_in_the_reason() -> None:
    result = result_of(make_inputs(birth_date=span("1972-06-01")), "enets", "age_under_55")
    assert result.status is MET
    assert "age 54 years is under 55" in result.reason
    assert result.evidence[0].value == 54


def test_birth_year_1971_on_2026_11_22_is_unknown_and_asks_for_the_full_date() -> None:
    result = result_of(make_inputs(birth_date=span("1971")), "unos", "age_under_55")
    assert result.status is UNKNOWN
    assert "54-55 years" in result.reason
    assert "2026-11-22" in result.reason
    assert any("full date" in need for need in result.needs)
    assert result.evidence[0].value == "54-55"


def test_missing_birth_date_is_unknown_never_met() -> None:
    result = result_of(make_inputs(), "milan-net", "age_under_55")
    assert result.status is UNKNOWN
    assert "not recorded" in result.reason
    assert result.needs


@pytest.mark.parametrize(
    ("evaluation_date", "expected"),
    [
        pytest.param(date(2027, 2, 28), MET, id="28 February before a leap-day birthday"),
        pytest.param(date(2027, 3, 1), NOT_MET, id="1 March after a leap-day birthday"),
    ],
)
def test_a_leap_day_birthday_is_reached_on_1_march_in_common_years(
    evaluation_date: date, expected: Status
) -> None:
    inputs = make_inputs(birth_date=span("1972-02-29"), evaluation_date=evaluation_date)
    assert set(statuses_of(inputs, "age_under_55").values()) == {expected}


def test_the_evaluation_date_not_today_decides_the_age() -> None:
    young = make_inputs(birth_date=span("1971-06-01"), evaluation_date=date(2026, 5, 31))
    old = make_inputs(birth_date=span("1971-06-01"), evaluation_date=date(2026, 6, 1))
    assert result_of(young, "milan-net", "age_under_55").status is MET
    assert result_of(old, "milan-net", "age_under_55").status is NOT_MET


@pytest.mark.parametrize(
    ("text", "earliest", "latest"),
    [
        ("1971", date(1971, 1, 1), date(1971, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-11-22", AT, AT),
        ("2026-11-22T23:30:00+14:00", AT, AT),
    ],
)
def test_a_fhir_date_stands_for_every_day_it_could_be(
    text: str, earliest: date, latest: date
) -> None:
    parsed = parse_fhir_date(text)
    assert (parsed.earliest, parsed.latest) == (earliest, latest)
    assert parsed.is_exact is (earliest == latest)


@pytest.mark.parametrize("year", [1, 4, 1900, 2000, 2023, 2024, 9999])
def test_a_month_stands_for_its_first_to_its_last_day(year: int) -> None:
    # parse_fhir_date works the last day out without the calendar module (CLI start-up)
    for month in range(1, 13):
        parsed = parse_fhir_date(f"{year:04d}-{month:02d}")
        last = calendar.monthrange(year, month)[1]
        assert (parsed.earliest, parsed.latest) == (date(year, month, 1), date(year, month, last))


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13", "26-11-22", "2026-11-22T10:00", ""])
def test_an_invalid_fhir_date_is_rejected(text: str) -> None:
    with pytest.raises(DateFormatError):
        parse_fhir_date(text)


def test_a_date_with_a_final_newline_is_no_date() -> None:
    with pytest.raises(DateFormatError):
        parse_fhir_date("2026-11-22\n")
