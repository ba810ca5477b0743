"""Procedures: resection of the primary, and liver transplantation (terminology.md).

A completed Procedure is the resection of the primary when its code is in the value
set or its ``reasonReference`` points at the primary-tumour Condition (by id,
``urn:uuid`` fullUrl or absolute URL). SNOMED 18027006 is a liver transplantation.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.mappers import map_bundle

from .conftest import AT, bundle, condition, entry, map_resources, patient, procedure

UUID = "urn:uuid:0d9c7c8e-5b57-4b1a-9d2f-3c0b1f6a7e21"
OTHER_SURGERY = "387713003"  # surgical procedure, not in the resection value set


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("107938000", id="excision of small intestine"),
        pytest.param("116241004", id="pancreaticoduodenectomy"),
        pytest.param("80146002", id="appendectomy"),
        pytest.param("173171007", id="lobectomy of lung"),
    ],
)
def test_a_completed_procedure_with_a_resection_code_is_a_resection_of_the_primary(
    code: str,
) -> None:
    inputs = map_resources(procedure(code))
    assert [(p.reference, p.code) for p in inputs.primary_resections] == [("Procedure/pr1", code)]
    assert inputs.liver_transplants == ()


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param("Condition/primary", id="by id"),
        pytest.param("https://ehr.example.org/fhir/Condition/primary", id="absolute URL"),
    ],
)
def test_a_procedure_for_the_primary_tumour_condition_is_a_resection(reason: str) -> None:
    inputs = map_resources(
        condition("C7A.012", id="primary", clinical="resolved"),
        procedure(OTHER_SURGERY, reasons=(reason,)),
    )
    assert [(p.reference, p.code) for p in inputs.primary_resections] == [
        ("Procedure/pr1", OTHER_SURGERY)
    ]


def test_a_procedure_for_the_primary_tumour_resolves_a_urn_uuid_reason() -> None:
    primary = condition("C25.4")
    del primary["id"]
    the_bundle = bundle(
        patient(),
        entry(primary, UUID),
        procedure(OTHER_SURGERY, reasons=(UUID,)),
        type="transaction",
    )
    inputs = map_bundle(the_bundle, AT)
    assert [p.reference for p in inputs.primary_resections] == ["Procedure/pr1"]


def test_a_procedure_for_a_neuroendocrine_carcinoma_primary_is_a_resection() -> None:
    inputs = map_resources(
        condition("C7A.1", id="nec"), procedure(OTHER_SURGERY, reasons=("Condition/nec",))
    )
    assert len(inputs.primary_resections) == 1


@pytest.mark.parametrize(
    "resources",
    [
        pytest.param(
            [condition("K74.60", id="reason")], id="reason is another recognised condition"
        ),
        pytest.param([], id="reason is not in the bundle"),
        pytest.param(
            [condition("C7A.012", id="reason", verification="refuted")],
            id="reason is a refuted primary",
        ),
    ],
)
def test_a_procedure_for_something_else_is_not_a_resection(resources: list[dict[str, Any]]) -> None:
    inputs = map_resources(
        *resources,
        procedure(OTHER_SURGERY, reasons=("Condition/reason",)),
    )
    assert inputs.primary_resections == ()


def test_a_procedure_without_a_recognised_code_or_reason_is_ignored() -> None:
    inputs = map_resources(procedure(OTHER_SURGERY))
    assert inputs.primary_resections == ()
    assert inputs.liver_transplants == ()
    assert inputs.warnings == ()


def test_a_liver_transplantation_is_reported_as_such() -> None:
    inputs = map_resources(procedure("18027006", id="lt", performed="2020-05-01"))
    assert [(p.reference, p.code) for p in inputs.liver_transplants] == [
        ("Procedure/lt", "18027006")
    ]
    assert inputs.primary_resections == ()


def test_resections_are_listed_oldest_first_with_undated_ones_first() -> None:
    inputs = map_resources(
        procedure("80146002", id="recent", performed="2026-01-01"),
        procedure("80146002", id="undated", performed=None),
        procedure("107938000", id="old", performed="2019"),
    )
    assert [p.reference for p in inputs.primary_resections] == [
        "Procedure/undated",
        "Procedure/old",
        "Procedure/recent",
    ]
    assert inputs.primary_resections[0].date is None
