"""What the page shows, from a result: labels, values with units, links, what to record."""

from __future__ import annotations

from typing import Any

import pytest

from service.criteria.notes import SUPPORT_NOTE
from service.pages.view import page_view, reference_href

BASE = "https://fhir.example.test/r4"


def result(*criteria: dict[str, Any], set_id: str = "milan-net", **extra: Any) -> dict[str, Any]:
    return {
        "patient": "Patient/p1",
        "evaluationDate": "2026-11-22",
        "engine": {"name": "nelm-cds", "version": "9.9.9"},
        "assessments": [
            {
                "criteriaSet": set_id,
                "version": "1.0.0",
                "title": "A title",
                "pathway": "transplant",
                "status": "indeterminate",
                "summary": "one sentence",
                "criteria": list(criteria),
            }
        ],
        "notes": extra.get("notes", []),
        "warnings": extra.get("warnings", []),
    }


def criterion(criterion_id: str = "low_grade", status: str = "met", **fields: Any) -> Any:
    return {
        "id": criterion_id,
        "status": status,
        "reason": "r",
        "evidence": [],
        "needs": [],
        **fields,
    }


@pytest.mark.parametrize(
    ("evidence", "value"),
    [
        ({"value": 8, "unit": "%"}, "8 %"),
        ({"value": 51, "unit": "a"}, "51 years"),
        ({"value": 188, "unit": "10*9/L"}, "188 ×10⁹/L"),
        ({"value": 0.585, "unit": "mg/dL"}, "0.585 mg/dL"),
        ({"value": False}, "no"),
        ({"value": True}, "yes"),
        ({"value": "C7A.012"}, "C7A.012"),
        ({"value": 0}, "0"),
        ({"unit": "%"}, None),
        ({}, None),
    ],
)
def test_evidence_values_are_shown_with_readable_units(
    evidence: dict[str, Any], value: str | None
) -> None:
    item = {"reference": "Observation/o1", **evidence}
    view = page_view(result(criterion(evidence=[item])))
    assert view.sets[0].criteria[0].evidence[0].value == value


@pytest.mark.parametrize(
    ("date", "day"),
    [
        ("2026-11-16T07:40:00+01:00", "2026-11-16"),
        ("2026-11", "2026-11"),
        ("1975", "1975"),
        ("someday", None),
        (None, None),
    ],
)
def test_evidence_dates_are_shown_as_days(date: str | None, day: str | None) -> None:
    item: dict[str, Any] = {"reference": "Observation/o1", "value": 1}
    if date is not None:
        item["date"] = date
    shown = page_view(result(criterion(evidence=[item]))).sets[0].criteria[0].evidence[0]
    assert shown.day == day
    assert shown.date == date


@pytest.mark.parametrize(
    ("base", "reference", "href"),
    [
        (BASE, "Observation/o-1.2", f"{BASE}/Observation/o-1.2"),
        (BASE + "/", "Patient/p1", f"{BASE}/Patient/p1"),
        (None, "Observation/o1", None),
        ("", "Observation/o1", None),
        (BASE, "javascript:alert(1)", None),
        (BASE, "Observation/../../admin", None),
        (BASE, "https://elsewhere.example/Observation/1", None),
        (BASE, "Observation/o1/_history/2", None),
        (BASE, "urn:uuid:0f1e", None),
        (BASE, None, None),
    ],
)
def test_references_are_linked_only_as_plain_type_and_id_under_a_fhir_base(
    base: str | None, reference: Any, href: str | None
) -> None:
    assert reference_href(base, reference) == href


def test_criteria_get_their_labels_and_sources_from_the_criteria_set() -> None:
    shown = page_view(result(criterion("age_under_55"))).sets[0]
    assert shown.criteria[0].label == "Age under 55 years"
    assert shown.criteria[0].source
    assert shown.name == "Milan-NET"
    assert shown.pathway_text == "Liver transplantation"


def test_an_unknown_set_or_criterion_falls_back_to_its_id() -> None:
    shown = page_view(result(criterion("new_rule"), set_id="new-set")).sets[0]
    assert shown.name == "new-set"
    assert shown.criteria[0].label == "new_rule"
    assert shown.criteria[0].source is None
    assert shown.source is None


def test_counts_name_each_status_present() -> None:
    shown = page_view(
        result(
            criterion("a", "met"),
            criterion("b", "unknown", needs=["x"]),
            criterion("c", "unknown", needs=["y"]),
        )
    ).sets[0]
    assert shown.counts == "1 met, 2 unknown"


def test_what_to_record_lists_each_need_once_in_page_order() -> None:
    view = page_view(
        result(
            criterion("a", "unknown", needs=["Ki-67", "grade"]),
            criterion("b", "met"),
            criterion("c", "unknown", needs=["grade", "burden"]),
        )
    )
    assert view.to_record == ("Ki-67", "grade", "burden")


def test_the_support_note_is_not_repeated_among_the_notes() -> None:
    view = page_view(result(criterion(), notes=["a note", SUPPORT_NOTE]))
    assert view.notes == ("a note",)


def test_warnings_keep_their_reference_when_they_have_one() -> None:
    view = page_view(
        result(
            criterion(),
            warnings=[{"reference": "Observation/o1", "message": "m1"}, {"message": "m2"}],
        ),
        fhir_base=BASE,
    )
    assert [(w.reference, w.href, w.message) for w in view.warnings] == [
        ("Observation/o1", f"{BASE}/Observation/o1", "m1"),
        (None, None, "m2"),
    ]
