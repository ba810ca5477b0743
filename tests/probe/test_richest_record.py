"""The search checks run on the sampled patient whose record holds the most kinds of
resource, so a check is not run on a type that patient has none of."""

from __future__ import annotations

from typing import Any

from service.probe.sampling import richest_record


def _record(*kinds: str) -> list[dict[str, Any]]:
    return [{"resourceType": "Patient"}] + [{"resourceType": k} for k in kinds]


def test_the_patient_with_more_kinds_wins_over_more_resources() -> None:
    records = {
        "many-observations": _record(*["Observation"] * 30),
        "all-three": _record("Observation", "Condition", "Procedure"),
    }
    assert richest_record(records, ["many-observations", "all-three"]) == "all-three"


def test_more_resources_break_a_tie_of_kinds_and_the_first_wins_a_full_tie() -> None:
    records = {
        "a": _record("Observation", "Condition"),
        "b": _record("Observation", "Condition", "Condition"),
        "c": _record("Observation", "Condition", "Condition"),
    }
    assert richest_record(records, ["a", "b", "c"]) == "b"
    assert richest_record(records, ["c", "b"]) == "c"
    assert richest_record(records, ["a"]) == "a"
