"""Dates: which element dates a resource, the cut-off, and which result is most recent.

criteria.md §3 and §7: Observation ``effectiveDateTime``, else ``effectivePeriod.end``,
else ``effectiveInstant``, else ``issued``; Condition ``onsetDateTime`` else
``recordedDate``; Procedure ``performedDateTime`` else ``performedPeriod.end``.
Anything dated after the evaluation date is ignored. The most recent wins; ties go to
the later ``meta.lastUpdated``, then the greater id; undated results rank oldest. An
invalid date is unreadable. Partial dates are spans; a dateTime keeps its written day.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from service.criteria.values import DateFormatError, parse_fhir_date

from .conftest import (
    KI67,
    OLDER,
    OLDEST,
    RECENT,
    condition,
    map_resources,
    observation,
    point,
    procedure,
    quantity,
    warned,
)

FIVE = {"valueQuantity": quantity(5, "%")}


def ki67(id: str, date: str | None = RECENT, **elements: Any) -> dict[str, Any]:
    """Return a final Ki-67 of 5 % (the value does not matter in these tests)."""
    return observation(KI67, id=id, date=date, **FIVE, **elements)


def chosen_ki67(*resources: dict[str, Any]) -> str:
    """Return the reference of the Ki-67 result the mapper chose."""
    inputs = map_resources(*resources)
    assert inputs.ki67 is not None
    return inputs.ki67.reference


@pytest.mark.parametrize(
    ("elements", "expected"),
    [
        pytest.param(
            {"effectivePeriod": {"start": "2026-10-01", "end": "2026-10-03"}},
            "2026-10-03",
            id="effectivePeriod.end",
        ),
        pytest.param(
            {"effectiveInstant": "2026-10-04T08:00:00Z"},
            "2026-10-04T08:00:00Z",
            id="effectiveInstant",
        ),
        pytest.param({"issued": "2026-10-05T08:00:00Z"}, "2026-10-05T08:00:00Z", id="issued"),
        pytest.param(
            {"effectivePeriod": {"end": "2026-10-03"}, "issued": "2026-10-05T08:00:00Z"},
            "2026-10-03",
            id="period end before issued",
        ),
        pytest.param(
            {"effectiveInstant": "2026-10-04T08:00:00Z", "issued": "2026-10-05T08:00:00Z"},
            "2026-10-04T08:00:00Z",
            id="instant before issued",
        ),
        pytest.param(
            {"effectivePeriod": {"start": "2026-10-01"}, "issued": "2026-10-05T08:00:00Z"},
            "2026-10-05T08:00:00Z",
            id="period without end falls to issued",
        ),
    ],
)
def test_an_observation_is_dated_by_the_first_date_element_in_the_spec_order(
    elements: dict[str, Any], expected: str
) -> None:
    inputs = map_resources(ki67("o1", date=None, **elements))
    assert inputs.ki67 is not None
    assert inputs.ki67.date is not None
    assert inputs.ki67.date.text == expected


def test_effective_date_time_comes_before_issued() -> None:
    inputs = map_resources(ki67("o1", date=OLDEST, issued="2026-11-20T08:00:00Z"))
    assert inputs.ki67 is not None
    assert inputs.ki67.date is not None
    assert inputs.ki67.date.text == OLDEST


@pytest.mark.parametrize(
    ("elements", "expected"),
    [
        pytest.param({}, "2025-01-01", id="onsetDateTime"),
        pytest.param({"recordedDate": "2025-03-01"}, "2025-01-01", id="onset before recorded"),
    ],
)
def test_a_condition_is_dated_by_its_onset(elements: dict[str, Any], expected: str) -> None:
    inputs = map_resources(condition("K74.60", **elements))
    assert [fact.date.text for fact in inputs.cirrhosis if fact.date] == [expected]


def test_a_condition_without_onset_date_time_is_dated_by_its_recorded_date() -> None:
    inputs = map_resources(condition("K74.60", onset=None, recordedDate="2025-03-01"))
    assert [fact.date.text for fact in inputs.cirrhosis if fact.date] == ["2025-03-01"]


def test_a_procedure_is_dated_by_performed_date_time_else_the_end_of_its_period() -> None:
    inputs = map_resources(
        procedure("80146002", id="a"),
        procedure(
            "80146002",
            id="b",
            performed=None,
            performedPeriod={"start": "2025-07-01", "end": "2025-07-02"},
        ),
    )
    assert [(p.reference, p.date.text if p.date else None) for p in inputs.primary_resections] == [
        ("Procedure/a", "2025-06-01"),
        ("Procedure/b", "2025-07-02"),
    ]


def test_the_most_recent_result_wins_whatever_the_bundle_order() -> None:
    assert chosen_ki67(ki67("new"), ki67("old", OLDER), ki67("oldest", OLDEST)) == (
        "Observation/new"
    )
    assert chosen_ki67(ki67("oldest", OLDEST), ki67("old", OLDER), ki67("new")) == (
        "Observation/new"
    )


def test_results_dated_after_the_evaluation_date_are_ignored() -> None:
    assert chosen_ki67(ki67("today", "2026-11-22"), ki67("tomorrow", "2026-11-23")) == (
        "Observation/today"
    )


def test_conditions_and_procedures_dated_after_the_evaluation_date_are_ignored() -> None:
    inputs = map_resources(
        condition("K74.60", onset="2026-11-23"),
        condition("C25.4", id="primary", onset="2026-12-01"),
        procedure("116241004", performed="2026-11-23"),
        procedure("18027006", id="lt", performed="2027-01-01"),
    )
    assert inputs.cirrhosis == ()
    assert inputs.primary_sites == ()
    assert inputs.primary_resections == ()
    assert inputs.liver_transplants == ()


def test_a_condition_and_a_procedure_dated_on_the_evaluation_date_are_used() -> None:
    inputs = map_resources(
        condition("K74.60", onset="2026-11-22"), procedure("116241004", performed="2026-11-22")
    )
    assert len(inputs.cirrhosis) == 1
    assert len(inputs.primary_resections) == 1


def meta(last_updated: str) -> dict[str, Any]:
    """Return a ``meta`` element with ``lastUpdated``."""
    return {"meta": {"lastUpdated": last_updated}}


def test_a_tie_on_the_date_goes_to_the_later_last_updated() -> None:
    assert (
        chosen_ki67(
            ki67("b", **meta("2026-11-01T10:00:00Z")), ki67("a", **meta("2026-11-02T10:00:00Z"))
        )
        == "Observation/a"
    )


def test_a_last_updated_beats_none_on_a_tie() -> None:
    assert chosen_ki67(ki67("z"), ki67("a", **meta("2026-11-02T10:00:00Z"))) == "Observation/a"


def test_last_updated_compares_instants_across_time_zones() -> None:
    later_in_utc = meta("2026-11-02T10:00:00+00:00")
    earlier_in_utc = meta("2026-11-02T11:00:00+02:00")
    assert chosen_ki67(ki67("a", **later_in_utc), ki67("b", **earlier_in_utc)) == "Observation/a"


def test_a_full_tie_goes_to_the_greater_id_in_string_order() -> None:
    same = meta("2026-11-02T10:00:00Z")
    assert chosen_ki67(ki67("o9", **same), ki67("o10", **same)) == "Observation/o9"
    assert chosen_ki67(ki67("a"), ki67("b")) == "Observation/b"


def test_dates_compare_as_calendar_days_so_the_time_of_day_does_not_break_a_tie() -> None:
    late_in_the_day = ki67("a", "2026-11-01T23:00:00Z")
    assert chosen_ki67(late_in_the_day, ki67("b", "2026-11-01")) == "Observation/b"


def test_undated_results_rank_oldest() -> None:
    assert chosen_ki67(ki67("old", OLDEST), ki67("undated", None)) == "Observation/old"


def test_an_undated_result_is_used_when_it_is_the_only_one() -> None:
    inputs = map_resources(ki67("undated", None))
    assert inputs.ki67 is not None
    assert inputs.ki67.date is None


@pytest.mark.parametrize("bad_date", ["2026-02-30", "2026-13-01", "yesterday", "2026-11-01T10:00"])
def test_an_invalid_date_is_reported_and_an_older_result_takes_its_place(bad_date: str) -> None:
    inputs = map_resources(ki67("old", OLDER), ki67("bad", bad_date))
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/old"
    assert warned(inputs, "Observation/bad", "effectiveDateTime")


@pytest.mark.parametrize("bad_date", ["2026-02-30", "2026-13-01", "yesterday"])
def test_conditions_and_procedures_with_an_invalid_date_are_reported_and_not_used(
    bad_date: str,
) -> None:
    inputs = map_resources(
        condition("K74.60", onset=bad_date), procedure("116241004", performed=bad_date)
    )
    assert inputs.cirrhosis == ()
    assert inputs.primary_resections == ()
    assert warned(inputs, "Condition/c1", "onsetDateTime")
    assert warned(inputs, "Procedure/pr1", "performedDateTime")


def test_an_invalid_last_updated_is_reported_and_the_resource_not_used() -> None:
    inputs = map_resources(ki67("old", OLDER), ki67("bad", **meta("yesterday")))
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/old"
    assert warned(inputs, "Observation/bad", "lastUpdated")


@pytest.mark.parametrize(
    ("text", "earliest", "latest"),
    [
        pytest.param("2026", date(2026, 1, 1), date(2026, 12, 31), id="year"),
        pytest.param("2026-04", date(2026, 4, 1), date(2026, 4, 30), id="year and month"),
        pytest.param("2024-02", date(2024, 2, 1), date(2024, 2, 29), id="leap February"),
        pytest.param("2026-04-15", date(2026, 4, 15), date(2026, 4, 15), id="date"),
        pytest.param(
            "2026-04-15T23:30:00-05:00", date(2026, 4, 15), date(2026, 4, 15), id="west offset"
        ),
        pytest.param(
            "2026-04-15T00:30:00+14:00", date(2026, 4, 15), date(2026, 4, 15), id="east offset"
        ),
        pytest.param(
            "2026-04-15T10:00:00.123Z", date(2026, 4, 15), date(2026, 4, 15), id="fraction"
        ),
    ],
)
def test_fhir_dates_become_the_span_of_days_they_could_be(
    text: str, earliest: date, latest: date
) -> None:
    span = parse_fhir_date(text)
    assert (span.earliest, span.latest, span.text) == (earliest, latest, text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30",
        "2026-13-01",
        "yesterday",
        "2026-4-1",
        "0000",
        "2026-04-15T10:00:00",
        "2026-04-15T24:00:00Z",
        "2026-04-15 10:00:00Z",
        "",
    ],
)
def test_invalid_fhir_dates_are_rejected(text: str) -> None:
    with pytest.raises(DateFormatError):
        parse_fhir_date(text)


def test_a_partial_date_that_may_fall_on_or_before_the_evaluation_date_is_used() -> None:
    inputs = map_resources(ki67("year", "2026"))
    assert inputs.ki67 is not None
    assert inputs.ki67.date is not None
    assert (inputs.ki67.date.earliest, inputs.ki67.date.latest) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
    )


def test_a_partial_date_wholly_after_the_evaluation_date_is_ignored() -> None:
    assert chosen_ki67(ki67("old", OLDER), ki67("december", "2026-12")) == "Observation/old"


def test_a_date_time_keeps_the_day_as_written_whatever_its_offset() -> None:
    late_on_the_day = ki67("late", "2026-11-22T23:30:00-05:00")  # 23rd in UTC
    next_day = ki67("next", "2026-11-23T00:30:00+02:00")  # still the 22nd in UTC
    inputs = map_resources(ki67("old", OLDER), late_on_the_day, next_day)
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/late"
    assert inputs.ki67.date is not None
    assert inputs.ki67.date.earliest == date(2026, 11, 22)


def test_the_chosen_result_keeps_its_value_and_date() -> None:
    inputs = map_resources(
        observation(KI67, id="a", date=OLDER, valueQuantity=quantity(3, "%")),
        observation(KI67, id="b", date="2026-10-15", valueQuantity=quantity(12, "%")),
    )
    assert inputs.ki67 is not None
    assert inputs.ki67.value == point("12")
    assert inputs.ki67.date is not None
    assert inputs.ki67.date.earliest == date(2026, 10, 15)
