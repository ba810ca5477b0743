"""The demo patients tell the same stories any day: their dates move with today."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from service.demo_store import DEMO_DATE, DemoStore, shift_dates
from service.engine import evaluate_record
from tests.conftest import TESTS

EXPECTED = sorted((TESTS / "fixtures" / "demo_expected").glob("*.expected.json"))


def _statuses(result: dict[str, Any]) -> dict[str, Any]:
    return {
        a["criteriaSet"]: {
            "status": a["status"],
            "criteria": {c["id"]: c["status"] for c in a["criteria"]},
        }
        for a in result["assessments"]
    }


@pytest.mark.parametrize(
    "days", [0, 1, 400, 3650], ids=["same-day", "tomorrow", "13-months", "10-years"]
)
@pytest.mark.parametrize("path", EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_a_demo_story_evaluates_the_same_on_any_day(path: Any, days: int) -> None:
    expected = json.loads(path.read_text(encoding="utf-8"))
    today = DEMO_DATE + timedelta(days=days)
    store = DemoStore.load(today=today)
    record = store.record(expected["patient"].split("/")[1])
    assert record is not None
    assert _statuses(evaluate_record(record, today)) == expected["sets"]


def test_full_dates_move_and_partial_dates_and_other_fields_stay() -> None:
    resource = {
        "birthDate": "1977-04-18",
        "effectiveDateTime": "2026-11-01T10:30:00+01:00",
        "effectivePeriod": {"start": "2026-10-01", "end": "2026"},
        "valueString": "2026-11-01",
        "issued": "2026-11-02T08:00:00Z",
    }
    moved = shift_dates(resource, 30)
    assert moved == {
        "birthDate": "1977-05-18",
        "effectiveDateTime": "2026-12-01T10:30:00+01:00",
        "effectivePeriod": {"start": "2026-10-31", "end": "2026"},
        "valueString": "2026-11-01",
        "issued": "2026-12-02T08:00:00Z",
    }


def test_the_pinned_day_leaves_the_files_as_written() -> None:
    store = DemoStore.load()
    patient = store.bundles["demo-transplant"]["entry"][0]["resource"]
    assert patient["birthDate"] == "1977-04-18"
    assert (
        DemoStore.load(today=date(2027, 11, 22)).bundles["demo-transplant"]["entry"][0]["resource"][
            "birthDate"
        ]
        == "1978-04-18"
    )
