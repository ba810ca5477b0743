"""Malformed resources are skipped with a warning; an older good result decides.

criteria.md §6 and §7 "Reading resources": a field the service reads with the wrong
type or an impossible value (``valueQuantity.value: "abc"``), or a resource that is
not valid FHIR R4, is skipped as if absent and reported with its reference. An
Observation without any ``value[x]`` is not a result, and is not reported.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import (
    BILI,
    KI67,
    OLDER,
    PLT,
    condition,
    map_resources,
    observation,
    point,
    procedure,
    quantity,
    warned,
    warned_refs,
)

BROKEN_KI67 = [
    pytest.param({"valueQuantity": quantity("abc", "%")}, id="value is a string"),
    pytest.param({"valueQuantity": quantity(True, "%")}, id="value is a boolean"),
    pytest.param({"valueQuantity": {"unit": "%"}}, id="Quantity without value"),
    pytest.param({"valueQuantity": quantity(15, 7)}, id="unit is a number"),
    pytest.param({"valueQuantity": "15 %"}, id="Quantity is a string"),
    pytest.param({"valueQuantity": quantity(15, "%"), "foo": 1}, id="unknown element"),
    pytest.param({"valueQuantity": quantity(15, "%"), "subject": "Patient/p1"}, id="bare subject"),
    pytest.param(
        {"valueQuantity": quantity(15, "%"), "effectiveDateTime": 20261101}, id="date is a number"
    ),
    pytest.param(
        {"valueQuantity": quantity(15, "%"), "referenceRange": {"high": quantity(1, "%")}},
        id="referenceRange not a list",
    ),
]


@pytest.mark.parametrize("elements", BROKEN_KI67)
def test_a_malformed_latest_result_is_reported_and_the_older_good_one_decides(
    elements: dict[str, Any],
) -> None:
    resource = observation(KI67, id="new") | elements
    inputs = map_resources(
        observation(KI67, id="old", date=OLDER, valueQuantity=quantity(4, "%")), resource
    )
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/old"
    assert inputs.ki67.value == point("4")
    assert warned(inputs, "Observation/new", "not used")


@pytest.mark.parametrize("elements", BROKEN_KI67)
def test_a_malformed_only_result_leaves_the_input_empty(elements: dict[str, Any]) -> None:
    inputs = map_resources(observation(KI67, id="new") | elements)
    assert inputs.ki67 is None
    assert warned(inputs, "Observation/new")


def test_the_warning_for_an_invalid_resource_names_the_element_not_the_value() -> None:
    inputs = map_resources(observation(KI67, valueQuantity=quantity(15, "%")) | {"foo": "secret"})
    (warning,) = inputs.warnings
    assert warning.reference == "Observation/o1"
    assert "foo" in warning.message
    assert "secret" not in warning.message


def test_an_observation_without_a_value_is_not_a_result_and_not_reported() -> None:
    absent = {"dataAbsentReason": {"coding": [{"code": "not-performed"}]}}
    inputs = map_resources(
        observation(KI67, id="old", date=OLDER, valueQuantity=quantity(4, "%")),
        observation(KI67, id="new", **absent),
        observation(BILI, id="bili", **absent),
    )
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/old"
    assert inputs.bilirubin is None
    assert inputs.warnings == ()


def test_each_unreadable_candidate_is_reported_once() -> None:
    inputs = map_resources(
        observation(PLT, id="good", date="2026-08-01", valueQuantity=quantity(150, "K/uL")),
        observation(PLT, id="bad1", date=OLDER, valueQuantity=quantity("abc", "K/uL")),
        observation(PLT, id="bad2", valueQuantity=quantity(150, "K/uL")) | {"foo": 1},
    )
    assert inputs.platelets is not None
    assert inputs.platelets.reference == "Observation/good"
    assert [w.reference for w in inputs.warnings].count("Observation/bad2") == 1
    assert warned_refs(inputs) >= {"Observation/bad1", "Observation/bad2"}


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param({"foo": 1}, id="unknown element"),
        pytest.param({"subject": "Patient/p1"}, id="bare subject"),
        pytest.param({"onsetDateTime": 2025}, id="date is a number"),
    ],
)
def test_a_malformed_condition_is_reported_and_not_used(broken: dict[str, Any]) -> None:
    inputs = map_resources(
        condition("C7B.03", id="bad") | broken, condition("K74.60", id="good", onset=OLDER)
    )
    assert inputs.extrahepatic_metastases == ()
    assert [fact.reference for fact in inputs.cirrhosis] == ["Condition/good"]
    assert warned(inputs, "Condition/bad")


def test_a_malformed_primary_site_gives_way_to_a_readable_one() -> None:
    inputs = map_resources(
        condition("C7A.026", id="bad", onset="2026-01-01") | {"foo": 1},
        condition("C7A.012", id="good", onset="2025-01-01"),
    )
    assert [site.reference for site in inputs.primary_sites] == ["Condition/good"]
    assert warned(inputs, "Condition/bad")


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param({"foo": 1}, id="unknown element"),
        pytest.param({"subject": "Patient/p1"}, id="bare subject"),
        pytest.param({"performedPeriod": "2025"}, id="period is a string"),
    ],
)
def test_a_malformed_procedure_is_reported_and_not_used(broken: dict[str, Any]) -> None:
    resource = procedure("116241004", id="bad") | broken
    if "performedPeriod" in broken:
        del resource["performedDateTime"]
    inputs = map_resources(resource, procedure("80146002", id="good", performed="2024-01-01"))
    assert [p.reference for p in inputs.primary_resections] == ["Procedure/good"]
    assert warned(inputs, "Procedure/bad")


def test_a_resource_of_an_unused_type_is_neither_used_nor_reported() -> None:
    inputs = map_resources(
        {"resourceType": "Encounter", "id": "e1", "foo": 1},
        observation(KI67, valueQuantity=quantity(4, "%")),
    )
    assert inputs.ki67 is not None
    assert inputs.warnings == ()


def test_an_unrecognised_observation_is_not_read_even_when_malformed() -> None:
    inputs = map_resources(observation("8310-5", valueQuantity=quantity("abc", "Cel")))
    assert inputs.warnings == ()


def test_a_failure_is_reported_again_for_the_same_resource() -> None:
    from service.mappers.errors import UnreadableError
    from service.mappers.reading import make_entry
    from service.mappers.validation import validate_resource

    broken = {
        "resourceType": "Observation",
        "id": "cache-1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
        "valueQuantity": {"value": 150, "unit": "K/uL"},
        "foo": 1,
    }
    for _ in range(2):
        with pytest.raises(UnreadableError, match="foo"):
            validate_resource(make_entry(broken, None, 0))
