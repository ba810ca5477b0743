"""Notes shown with a result (criteria.md §5 and §7 "Result"); they never change a status."""

from __future__ import annotations

from typing import Any

import pytest

from service.criteria import CriteriaInputs
from service.criteria.inputs import PrimarySite
from service.criteria.notes import (
    ABLATION_NOTE,
    ELTR_NOTE,
    FRENCH_NOTE,
    FRILLING_II_NOTE,
    SUPPORT_NOTE,
)
from service.criteria.sources import cite
from service.records import replace
from tests.unit.criteria.conftest import (
    condition,
    evaluate_all,
    finding,
    ki67,
    make_inputs,
    primary_site,
    procedure,
    span,
    transplant_candidate,
)


def notes_of(**fields: Any) -> tuple[str, ...]:
    """Return the notes of a full evaluation of inputs with these fields."""
    return evaluate_all(make_inputs(**fields)).notes


@pytest.mark.parametrize(
    ("birth_date", "shown"),
    [
        pytest.param("1980-06-01", True, id="46"),
        pytest.param("1980-11-22", True, id="46 on the birthday"),
        pytest.param("1980-11-23", False, id="45 the day before turning 46"),
        pytest.param("1981-06-01", False, id="45"),
        pytest.param("1990-01-01", False, id="36"),
        pytest.param("1979", True, id="birth year 1979 gives 46 or 47"),
        pytest.param("1981", False, id="birth year 1981 gives 44 or 45"),
        pytest.param("1980", False, id="birth year 1980 gives 45 or 46, not surely over 45"),
        pytest.param(None, False, id="no birth date"),
    ],
)
def test_the_eltr_note_is_shown_when_the_patient_is_older_than_45(
    birth_date: str | None, shown: bool
) -> None:
    assert (ELTR_NOTE in notes_of(birth_date=span(birth_date))) is shown


@pytest.mark.parametrize(
    ("sites", "shown"),
    [
        pytest.param((primary_site("duodenum", "portal", code="C7A.010"),), True, id="duodenum"),
        pytest.param((primary_site("pancreas", "portal", code="C25.4"),), True, id="pancreas"),
        pytest.param((primary_site("ileum", "portal"),), False, id="ileum"),
        pytest.param((primary_site("rectum", "not_portal"),), False, id="rectum"),
        pytest.param(
            (
                primary_site("pancreas", "portal", "2024-01-01", code="C25.4"),
                primary_site("unspecified site", "undetermined", "2025-01-01", code="C7A.00"),
            ),
            True,
            id="the located pancreas decides over a newer unspecified site",
        ),
        pytest.param((), False, id="no primary site"),
    ],
)
def test_the_french_study_note_is_shown_for_a_duodenal_or_pancreatic_primary(
    sites: tuple[PrimarySite, ...], shown: bool
) -> None:
    assert (FRENCH_NOTE in notes_of(primary_sites=sites)) is shown


@pytest.mark.parametrize(
    ("pattern", "shown"),
    [("type-ii", True), ("type-i", False), ("type-iii", False), (None, False)],
)
def test_the_frilling_type_ii_note_is_shown_only_for_type_ii(
    pattern: str | None, shown: bool
) -> None:
    recorded = None if pattern is None else finding(pattern)
    assert (FRILLING_II_NOTE in notes_of(metastatic_pattern=recorded)) is shown


def test_a_liver_transplantation_in_the_history_is_noted_with_its_reference_and_date() -> None:
    transplant = procedure("2019-04-02", ref="Procedure/lt-1", code="18027006")
    notes = notes_of(liver_transplants=(transplant,))
    noted = [note for note in notes if "liver transplantation is already recorded" in note]
    assert noted == [
        "A liver transplantation is already recorded (Procedure/lt-1, 2019-04-02): these "
        "criteria describe a first transplantation."
    ]


def test_each_recorded_liver_transplantation_gets_its_own_note() -> None:
    first = procedure("2015-01-01", ref="Procedure/lt-1", code="18027006")
    second = procedure(None, ref="Procedure/lt-2", code="18027006")
    notes = notes_of(liver_transplants=(first, second))
    assert sum("already recorded" in note for note in notes) == 2
    assert any("Procedure/lt-2, undated" in note for note in notes)


def test_no_transplant_history_note_without_a_recorded_transplantation() -> None:
    assert not any("already recorded" in note for note in notes_of())


@pytest.mark.parametrize(
    "inputs",
    [
        pytest.param(make_inputs(), id="empty"),
        pytest.param(transplant_candidate(), id="transplant candidate"),
        pytest.param(make_inputs(ki67=ki67("50")), id="high grade"),
    ],
)
def test_the_mdt_statement_is_always_the_last_note(inputs: CriteriaInputs) -> None:
    notes = evaluate_all(inputs).notes
    assert notes[-1] == SUPPORT_NOTE
    assert notes.count(SUPPORT_NOTE) == 1
    assert "does not replace" in SUPPORT_NOTE


def test_the_favourable_factors_note_names_what_applies() -> None:
    notes = notes_of(
        birth_date=span("1980-06-01"), primary_sites=(primary_site("ileum", "portal"),)
    )
    favourable = [note for note in notes if note.startswith("Favourable factors")]
    assert len(favourable) == 1
    assert "an age under 50 and a primary in the ileum" in favourable[0]


def test_no_favourable_factors_note_for_an_older_patient_with_a_pancreatic_primary() -> None:
    notes = notes_of(
        birth_date=span("1960-01-01"),
        primary_sites=(primary_site("pancreas", "portal", code="C25.4"),),
    )
    assert not any(note.startswith("Favourable factors") for note in notes)


def test_the_ablation_note_is_dropped_once_resection_is_ineligible() -> None:
    assert ABLATION_NOTE in notes_of()
    assert ABLATION_NOTE not in notes_of(ecog=finding(4, ref="Observation/ecog"))
    assert ABLATION_NOTE in notes_of(ki67=ki67("50")), "a G3 NET leaves resection undecided"


def test_notes_that_apply_do_not_change_any_status() -> None:
    plain = transplant_candidate()
    noted = replace(
        plain,
        primary_sites=(primary_site("pancreas", "portal", code="C25.4"),),
        metastatic_pattern=finding("type-ii", ref="Observation/pattern"),
        liver_transplants=(procedure("2019-04-02", ref="Procedure/lt-1", code="18027006"),),
    )
    before, after = evaluate_all(plain), evaluate_all(noted)
    assert FRENCH_NOTE in after.notes
    assert FRILLING_II_NOTE in after.notes
    assert ELTR_NOTE in after.notes
    milan_before, milan_after = before.set_results[0], after.set_results[0]
    assert milan_before.status is milan_after.status
    assert [r.status for r in milan_before.results] == [r.status for r in milan_after.results]


def poor_differentiation_notes(**fields: Any) -> list[str]:
    """Return the European-registry notes on poor differentiation."""
    return [n for n in notes_of(**fields) if "poor tumour differentiation" in n]


@pytest.mark.parametrize(
    ("fields", "shown", "which"),
    [
        pytest.param({"ki67": ki67("21")}, True, "a Ki-67 of 21", id="Ki-67 21"),
        pytest.param({"ki67": ki67("20")}, False, None, id="Ki-67 exactly 20"),
        pytest.param({"ki67": ki67("15-25")}, False, None, id="Ki-67 straddling 20"),
        pytest.param({"ki67": ki67(">20")}, True, "a Ki-67 of >20", id="Ki-67 above 20"),
        pytest.param({"grade": finding("G3")}, True, "grade G3", id="grade G3"),
        pytest.param({"grade": finding("G2")}, False, None, id="grade G2"),
        pytest.param(
            {"neuroendocrine_carcinoma": (condition("C7A.1", present=False),)},
            True,
            "a neuroendocrine carcinoma",
            id="NEC, even resolved",
        ),
        pytest.param({}, False, None, id="nothing recorded"),
    ],
)
def test_the_poor_differentiation_note_is_shown_for_ki67_above_20_g3_or_nec(
    fields: dict[str, Any], shown: bool, which: str | None
) -> None:
    notes = poor_differentiation_notes(**fields)
    assert bool(notes) is shown
    if which is not None:
        assert which in notes[0]
        assert cite("(004)") in notes[0]


def milan_notes(**fields: Any) -> list[str]:
    """Return the notes on Milan-NET's Ki-67 < 10 % reading."""
    return [
        n for n in notes_of(**fields) if n.startswith(cite("Milan-NET as given by 003 and 004"))
    ]


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        pytest.param({"ki67": ki67("15")}, True, id="Ki-67 15, low grade met"),
        pytest.param({"ki67": ki67("10.5")}, True, id="Ki-67 10.5"),
        pytest.param({"ki67": ki67("20")}, True, id="Ki-67 exactly 20"),
        pytest.param({"ki67": ki67("10")}, False, id="Ki-67 exactly 10 is not above 10"),
        pytest.param({"ki67": ki67("5")}, False, id="Ki-67 5"),
        pytest.param({"ki67": ki67("24")}, False, id="Ki-67 24: low grade not met"),
        pytest.param(
            {"ki67": ki67("15"), "neuroendocrine_carcinoma": (condition("C7A.1"),)},
            False,
            id="NEC: low grade not met",
        ),
        pytest.param(
            {"ki67": ki67("8-15"), "grade": finding("G2")},
            False,
            id="Ki-67 8-15 is not surely above 10",
        ),
        pytest.param({"grade": finding("G2")}, False, id="grade only"),
    ],
)
def test_the_milan_ki67_note_is_shown_when_low_grade_is_met_above_10(
    fields: dict[str, Any], shown: bool
) -> None:
    notes = milan_notes(**fields)
    assert bool(notes) is shown
    if shown:
        assert "Ki-67 below 10 %" in notes[0]
        assert cite("(003, 004)") in notes[0]


@pytest.mark.parametrize(
    ("sites", "french", "favourable"),
    [
        pytest.param(
            (
                primary_site("ileum", "portal", "2024-01-01"),
                primary_site("pancreas", "portal", "2025-01-01", code="C25.4"),
            ),
            True,
            "a primary in the ileum",
            id="agreeing ileum and pancreas",
        ),
        pytest.param(
            (
                primary_site("pancreas", "portal", "2024-01-01", code="C25.4"),
                primary_site("lung/bronchus", "not_portal", "2025-01-01", code="C7A.090"),
            ),
            True,
            "a primary in the lung/bronchus",
            id="disagreeing pancreas and lung",
        ),
    ],
)
def test_site_notes_apply_to_every_primary_that_says_where(
    sites: tuple[PrimarySite, ...], french: bool, favourable: str
) -> None:
    notes = notes_of(birth_date=span("1960-01-01"), primary_sites=sites)
    assert (FRENCH_NOTE in notes) is french
    assert any(favourable in note for note in notes if note.startswith("Favourable"))
