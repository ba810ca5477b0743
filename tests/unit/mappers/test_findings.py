"""Coded and yes/no results: grade, ECOG, disease status, Frilling pattern, assessments.

terminology.md gives the accepted values. An answer the service cannot interpret
stays the latest result with ``value=None`` and a warning; an impossible one (ECOG 7)
is unreadable, so an older result takes its place.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.mappers.codes import LOINC, NCIT, SNOMED

from .conftest import (
    DISEASE_STATUS,
    ECOG,
    GRADE,
    OLDER,
    OLDEST,
    assessment,
    map_resources,
    observation,
    point,
    quantity,
    warned,
)


def answer(system: str, code: str) -> dict[str, Any]:
    """Return a valueCodeableConcept with one coding."""
    return {"valueCodeableConcept": {"coding": [{"system": system, "code": code}]}}


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        pytest.param({"valueString": "G2"}, "G2", id="valueString G2"),
        pytest.param({"valueString": " g3 "}, "G3", id="valueString lower case"),
        pytest.param({"valueCodeableConcept": {"text": "g1"}}, "G1", id="concept text g1"),
        pytest.param(answer("urn:oid:1.2.3", "G3"), "G3", id="coding code G3"),
        pytest.param(answer(SNOMED, "1155708003"), "G1", id="SNOMED low"),
        pytest.param(answer(SNOMED, "1286893008"), "G2", id="SNOMED intermediate"),
        pytest.param(answer(SNOMED, "1155707008"), "G3", id="SNOMED high"),
    ],
)
def test_a_grade_is_read_in_every_accepted_form(value: dict[str, Any], grade: str) -> None:
    inputs = map_resources(observation(GRADE, **value))
    assert inputs.grade is not None
    assert inputs.grade.value == grade
    assert inputs.warnings == ()


def test_the_ncit_grade_code_is_recognised() -> None:
    inputs = map_resources(observation((NCIT, "C18000"), valueString="G1"))
    assert inputs.grade is not None
    assert inputs.grade.value == "G1"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"valueString": "G4"}, id="G4"),
        pytest.param({"valueString": "grade 2"}, id="extra words"),
        pytest.param({"valueCodeableConcept": {"text": "well differentiated"}}, id="text"),
        pytest.param({"valueInteger": 2}, id="integer"),
    ],
)
def test_an_uninterpretable_latest_grade_gives_no_value_and_no_fall_back(
    value: dict[str, Any],
) -> None:
    inputs = map_resources(
        observation(GRADE, id="old", date=OLDER, valueString="G1"),
        observation(GRADE, id="new", **value),
    )
    assert inputs.grade is not None
    assert (inputs.grade.reference, inputs.grade.value) == ("Observation/new", None)
    assert warned(inputs, "Observation/new")


@pytest.mark.parametrize("score", [0, 1, 2, 3, 4, 5])
def test_ecog_is_read_from_an_integer(score: int) -> None:
    inputs = map_resources(observation(ECOG, valueInteger=score))
    assert inputs.ecog is not None
    assert inputs.ecog.value == score


@pytest.mark.parametrize(
    ("code", "score"),
    [("LA9622-7", 0), ("LA9623-5", 1), ("LA9624-3", 2), ("LA9625-0", 3), ("LA9626-8", 4)]
    + [("LA9627-6", 5)],
)
def test_ecog_is_read_from_a_loinc_answer_code(code: str, score: int) -> None:
    inputs = map_resources(observation(ECOG, **answer(LOINC, code)))
    assert inputs.ecog is not None
    assert inputs.ecog.value == score


@pytest.mark.parametrize("score", [7, -1, 6])
def test_an_ecog_outside_0_to_5_is_unreadable_and_an_older_one_takes_its_place(
    score: int,
) -> None:
    inputs = map_resources(
        observation(ECOG, id="old", date=OLDER, valueInteger=1),
        observation(ECOG, id="new", valueInteger=score),
    )
    assert inputs.ecog is not None
    assert (inputs.ecog.reference, inputs.ecog.value) == ("Observation/old", 1)
    assert warned(inputs, "Observation/new", "not used")


def test_an_unknown_ecog_answer_code_gives_no_value() -> None:
    inputs = map_resources(observation(ECOG, **answer(LOINC, "LA9999-9")))
    assert inputs.ecog is not None
    assert inputs.ecog.value is None
    assert warned(inputs, "Observation/o1")


@pytest.mark.parametrize(
    ("code", "course"),
    [
        ("268910001", "responding"),
        ("359746009", "stable"),
        ("260415000", "responding"),
        ("271299001", "progressing"),
    ],
)
def test_disease_status_codes_give_the_course(code: str, course: str) -> None:
    inputs = map_resources(observation(DISEASE_STATUS, **answer(SNOMED, code)))
    assert [finding.value for finding in inputs.disease_course] == [course]


def test_an_undetermined_disease_status_is_ignored_silently() -> None:
    inputs = map_resources(observation(DISEASE_STATUS, **answer(SNOMED, "709137006")))
    assert inputs.disease_course == ()
    assert inputs.warnings == ()


def test_the_disease_course_lists_every_result_oldest_first() -> None:
    inputs = map_resources(
        observation(DISEASE_STATUS, id="c", **answer(SNOMED, "271299001")),
        observation(DISEASE_STATUS, id="a", date=OLDEST, **answer(SNOMED, "359746009")),
        observation(DISEASE_STATUS, id="u", date=OLDER, **answer(SNOMED, "709137006")),
        observation(DISEASE_STATUS, id="b", date=OLDER, **answer(SNOMED, "268910001")),
    )
    assert [(f.reference, f.value) for f in inputs.disease_course] == [
        ("Observation/a", "stable"),
        ("Observation/b", "responding"),
        ("Observation/c", "progressing"),
    ]


def test_an_unknown_disease_status_is_kept_without_a_value_and_reported() -> None:
    inputs = map_resources(observation(DISEASE_STATUS, **answer(SNOMED, "12345")))
    assert [f.value for f in inputs.disease_course] == [None]
    assert warned(inputs, "Observation/o1")


@pytest.mark.parametrize("pattern", ["type-i", "type-ii", "type-iii"])
def test_metastatic_pattern_codes_are_read(pattern: str) -> None:
    code = assessment("metastatic-pattern")
    inputs = map_resources(observation(code, **answer(*assessment(pattern))))
    assert inputs.metastatic_pattern is not None
    assert inputs.metastatic_pattern.value == pattern


def test_a_metastatic_pattern_in_another_system_is_uninterpretable() -> None:
    code = assessment("metastatic-pattern")
    inputs = map_resources(observation(code, **answer(SNOMED, "type-ii")))
    assert inputs.metastatic_pattern is not None
    assert inputs.metastatic_pattern.value is None


BOOLEAN_ASSESSMENTS = [
    ("extrahepatic-disease", "extrahepatic_staging"),
    ("hepatic-disease-resectable", "hepatic_disease_resectable"),
    ("primary-resectable", "primary_resectable"),
    ("primary-resected", "primary_resected"),
    ("refractory-hormonal-syndrome", "refractory_hormonal_syndrome"),
    ("major-hepatectomy-planned", "major_hepatectomy_planned"),
]


@pytest.mark.parametrize(("code", "field"), BOOLEAN_ASSESSMENTS)
@pytest.mark.parametrize("value", [True, False])
def test_yes_no_assessments_are_read_from_value_boolean(code: str, field: str, value: bool) -> None:
    inputs = map_resources(observation(assessment(code), valueBoolean=value))
    assert getattr(inputs, field).value is value


@pytest.mark.parametrize(("code", "field"), BOOLEAN_ASSESSMENTS)
def test_a_yes_no_assessment_written_as_a_string_is_uninterpretable(code: str, field: str) -> None:
    inputs = map_resources(
        observation(assessment(code), id="old", date=OLDER, valueBoolean=False),
        observation(assessment(code), id="new", valueString="yes"),
    )
    finding = getattr(inputs, field)
    assert (finding.reference, finding.value) == ("Observation/new", None)
    assert warned(inputs, "Observation/new")


@pytest.mark.parametrize(
    ("code", "field"),
    [
        ("hepatic-tumour-burden", "hepatic_tumour_burden"),
        ("future-liver-remnant", "future_liver_remnant"),
    ],
)
def test_percentage_assessments_are_read_in_percent(code: str, field: str) -> None:
    inputs = map_resources(observation(assessment(code), valueQuantity=quantity(35, code="%")))
    measurement = getattr(inputs, field)
    assert (measurement.value, measurement.unit) == (point("35"), "%")
