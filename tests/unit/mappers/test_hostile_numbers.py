"""Numbers no laboratory value can be (issue 9 item 5): kept by the JSON reader, reported
as uninterpretable by the readers (the result stays the latest, its criterion unknown,
with a warning), never a crash and never silently 0.

The rule (service.mappers.json_text): finite, written in at most 40 characters, and 0 or
of a magnitude from 1e-12 up to (not including) 1e15.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from service.criteria import DEFAULT_SETS, EvaluationConfig, evaluate
from service.criteria.status import Status
from service.mappers import load_bundle_json, map_bundle
from service.mappers.json_text import HostileNumber, JsonTextError, parse_json

from .conftest import (
    AT,
    BILI,
    ECOG,
    KI67,
    OLDER,
    PLT,
    bundle,
    observation,
    patient,
    warned,
    without_hostile_numbers,
)

HUGE = "9" * 5000


@pytest.mark.parametrize(
    "literal",
    [
        "1e25",
        "1E25",
        "1e400",
        "-1e400",
        HUGE,
        "NaN",
        "Infinity",
        "-Infinity",
        "1e15",
        "1e-300",
        "123456789012345678901234567890123456789012",
    ],
)
def test_a_number_outside_the_rule_is_kept_as_hostile(literal: str) -> None:
    parsed = parse_json(f'{{"value": {literal}}}')
    assert isinstance(parsed["value"], HostileNumber)
    assert len(str(parsed["value"])) <= 40


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("20.5248", Decimal("20.5248")),
        ("1e-05", Decimal("0.00001")),
        ("0", 0),
        ("-3", -3),
        ("999999999999999", 999999999999999),
        ("9.99e14", Decimal("9.99e14")),
        ("1e-12", Decimal("1e-12")),
        ("150000", 150000),
    ],
)
def test_a_number_inside_the_rule_is_exact(literal: str, value: Any) -> None:
    parsed = parse_json(f'{{"value": {literal}}}')["value"]
    assert parsed == value
    assert type(parsed) is type(value)


@pytest.mark.parametrize("text", ["{", "[1,]", "nan", b"\xff\xfe"])
def test_text_that_is_not_json_is_refused_in_words(text: Any) -> None:
    with pytest.raises(JsonTextError, match="not valid JSON"):
        parse_json(text)


def test_structure_is_checked_apart_from_hostile_values() -> None:
    node = {"a": [1, HostileNumber("1e400")], "b": {"c": 2}}
    cleaned = without_hostile_numbers(node)
    assert cleaned == {"a": [1, Decimal(0)], "b": {"c": 2}}
    assert cleaned["b"] is node["b"]
    plain = {"a": [1, 2]}
    assert without_hostile_numbers(plain) is plain


def bundle_text(*resources: str) -> str:
    """Return a Bundle with the Patient and raw JSON resources (hostile literals inside)."""
    entries = ",".join(
        ['{"resource": {"resourceType": "Patient", "id": "p1"}}']
        + [f'{{"resource": {r}}}' for r in resources]
    )
    return f'{{"resourceType": "Bundle", "type": "collection", "entry": [{entries}]}}'


def obs(id: str, code: str, value: str, date: str = "2026-11-01", unit: str = "%") -> str:
    return (
        f'{{"resourceType": "Observation", "id": "{id}", "status": "final", '
        f'"code": {{"coding": [{{"system": "http://loinc.org", "code": "{code}"}}]}}, '
        f'"subject": {{"reference": "Patient/p1"}}, "effectiveDateTime": "{date}", '
        f'"valueQuantity": {{"value": {value}, "unit": "{unit}", '
        f'"system": "http://unitsofmeasure.org", "code": "{unit}"}}}}'
    )


@pytest.mark.parametrize("literal", ["1e25", "1e400", HUGE, "NaN", "Infinity", "-1e30"])
def test_a_hostile_latest_ki67_is_uninterpretable_without_fall_back(literal: str) -> None:
    text = bundle_text(obs("old", KI67, "4", OLDER), obs("new", KI67, literal))
    inputs = map_bundle(load_bundle_json(text), AT)
    assert inputs.ki67 is not None
    assert (inputs.ki67.reference, inputs.ki67.value) == ("Observation/new", None)
    assert warned(inputs, "Observation/new", "not a value a laboratory can report")
    evaluation = evaluate(inputs, DEFAULT_SETS, EvaluationConfig())
    milan = {r.id: r for r in evaluation.set_results[0].results}
    assert milan["low_grade"].status is Status.UNKNOWN


@pytest.mark.parametrize(
    ("code", "unit", "field"),
    [(BILI, "mg/dL", "bilirubin"), (PLT, "10*3/uL", "platelets")],
)
def test_hostile_labs_are_uninterpretable(code: str, unit: str, field: str) -> None:
    text = bundle_text(obs("lab", code, "1e400", unit=unit))
    inputs = map_bundle(load_bundle_json(text), AT)
    measurement = getattr(inputs, field)
    assert measurement is not None
    assert measurement.value is None
    assert warned(inputs, "Observation/lab")


def test_a_hostile_reference_range_makes_the_bilirubin_limit_unusable() -> None:
    resource = obs("bili", BILI, "0.8", unit="mg/dL")[:-1] + (
        ', "referenceRange": [{"high": {"value": 1e400, "system": '
        '"http://unitsofmeasure.org", "code": "mg/dL"}}]}'
    )
    inputs = map_bundle(load_bundle_json(bundle_text(resource)), AT)
    assert inputs.bilirubin is not None
    assert inputs.bilirubin.upper_limit_problem is not None


def test_a_hostile_ecog_integer_is_uninterpretable() -> None:
    resource = (
        '{"resourceType": "Observation", "id": "ecog", "status": "final", "code": {"coding": '
        f'[{{"system": "http://loinc.org", "code": "{ECOG}"}}]}}, "effectiveDateTime": '
        f'"2026-11-01", "valueInteger": {HUGE}}}'
    )
    inputs = map_bundle(load_bundle_json(bundle_text(resource)), AT)
    assert inputs.ecog is not None
    assert inputs.ecog.value is None
    assert warned(inputs, "Observation/ecog")


@pytest.mark.parametrize(
    "value_string", ["1e25 %", f"{'9' * 60} %", "0.0000000000001 %", "5" * 300]
)
def test_a_hostile_value_string_is_uninterpretable(value_string: str) -> None:
    resource = observation(KI67, id="s", valueString=value_string)
    inputs = map_bundle(bundle(patient(), resource), AT)
    assert inputs.ki67 is not None
    assert inputs.ki67.value is None


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        pytest.param("29593-1", "not a CodeableConcept", id="a string"),
        pytest.param({"coding": {"system": "http://loinc.org"}}, "not a list", id="coding object"),
        pytest.param({"coding": ["29593-1"]}, "not an object", id="coding a string"),
        pytest.param(
            {"coding": [{"system": "http://loinc.org", "code": 29593}]},
            "code is not a string",
            id="code a number",
        ),
    ],
)
def test_a_malformed_observation_code_is_a_warning_not_a_silent_drop(
    code: Any, problem: str
) -> None:
    resource = observation(KI67, id="bad") | {"code": code, "valueQuantity": {"value": 5}}
    inputs = map_bundle(bundle(patient(), resource), AT)
    assert inputs.ki67 is None
    assert warned(inputs, "Observation/bad", problem)
