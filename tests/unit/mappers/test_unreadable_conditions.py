"""Unreadable Conditions whose code is an exclusion are kept as such (criteria.md §7, v1.1).

They are reported in ``warnings`` and handed to the criteria as
``unreadable_conditions`` (with the input they would count in), never silently dropped;
other unreadable Conditions are skipped with a warning as before. The tumour's site and
histology are read whatever the clinical status, so an unreadable clinical status does
not hide a primary site or a neuroendocrine carcinoma.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.criteria import DEFAULT_SETS, EvaluationConfig, evaluate
from service.criteria.status import Status
from service.mappers.codes import ICD10CM, SNOMED

from .conftest import condition, map_resources, warned

TEXT_ONLY = {"clinicalStatus": {"text": "active"}}


@pytest.mark.parametrize(
    ("code", "input_name"),
    [
        pytest.param("C7B.03", "extrahepatic_metastases", id="bone metastasis"),
        pytest.param("C78.01", "extrahepatic_metastases", id="lung metastasis"),
        pytest.param("C77.2", "regional_node_metastases", id="regional nodes"),
        pytest.param("K74.60", "cirrhosis", id="cirrhosis"),
        pytest.param("K71.6", "significant_liver_disease", id="toxic liver injury"),
        pytest.param("R18.8", "portal_hypertension_signs", id="ascites"),
        pytest.param((SNOMED, "36222008"), "carcinoid_heart_disease", id="carcinoid heart"),
    ],
)
def test_an_exclusion_condition_with_an_unreadable_status_is_kept_as_unreadable(
    code: Any, input_name: str
) -> None:
    inputs = map_resources(condition(code, id="x", clinical=None) | TEXT_ONLY)
    assert getattr(inputs, input_name) == ()
    [kept] = inputs.unreadable_conditions
    assert (kept.reference, kept.input) == ("Condition/x", input_name)
    assert "clinicalStatus" in kept.problem
    assert warned(inputs, "Condition/x", "clinicalStatus", "left unknown")


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param({"onsetDateTime": "2025-13-01"}, id="invalid date"),
        pytest.param({"foo": 1}, id="not valid FHIR"),
        pytest.param({"verificationStatus": {"text": "confirmed"}}, id="verification text only"),
    ],
)
def test_any_unreadable_element_of_an_exclusion_condition_keeps_it(broken: dict[str, Any]) -> None:
    inputs = map_resources(condition("C7B.04", id="x") | broken)
    assert [u.reference for u in inputs.unreadable_conditions] == ["Condition/x"]


def test_a_refuted_exclusion_with_an_unreadable_clinical_status_is_not_kept() -> None:
    resource = condition("C7B.03", id="x", clinical=None, verification="refuted") | TEXT_ONLY
    inputs = map_resources(resource)
    assert inputs.unreadable_conditions == ()


def test_a_condition_that_is_no_exclusion_is_skipped_with_a_warning_only() -> None:
    inputs = map_resources(condition("C7B.02", id="liver", clinical=None) | TEXT_ONLY)
    assert inputs.unreadable_conditions == ()
    assert inputs.liver_metastases == ()
    assert warned(inputs, "Condition/liver", "not used")


def test_a_carcinoma_with_a_text_only_clinical_status_still_counts() -> None:
    inputs = map_resources(condition("C7A.1", id="nec", clinical=None) | TEXT_ONLY)
    assert [f.reference for f in inputs.neuroendocrine_carcinoma] == ["Condition/nec"]
    assert inputs.unreadable_conditions == ()


def test_a_primary_site_with_a_text_only_clinical_status_still_says_where() -> None:
    inputs = map_resources(condition("C7A.090", id="lung", clinical=None) | TEXT_ONLY)
    assert [(s.reference, s.site) for s in inputs.primary_sites] == [
        ("Condition/lung", "lung/bronchus")
    ]


def test_an_unreadable_extrahepatic_condition_leaves_no_extrahepatic_disease_unknown() -> None:
    inputs = map_resources(condition("C7B.03", id="x", clinical=None) | TEXT_ONLY)
    evaluation = evaluate(inputs, DEFAULT_SETS, EvaluationConfig())
    milan = evaluation.set_results[0]
    result = next(r for r in milan.results if r.id == "no_extrahepatic_disease")
    assert result.status is Status.UNKNOWN
    assert "Condition/x" in result.reason


def test_the_unknown_primary_code_is_marked_as_such() -> None:
    inputs = map_resources(condition((SNOMED, "285613005"), id="mup"))
    [site] = inputs.primary_sites
    assert site.unknown_primary
    assert site.drainage == "not_portal"
    assert [f.reference for f in inputs.liver_metastases] == ["Condition/mup"]


def test_a_condition_no_input_is_made_of_is_not_read_nor_validated() -> None:
    """Carcinoid syndrome is recognised (terminology.md; the probe counts it) but no
    criterion reads it, so a broken one costs nothing and warns of nothing (issue 12)."""
    inputs = map_resources(
        condition("E34.00", id="syndrome") | {"foo": 1},
        condition("K74.60", id="cirrhosis"),
    )
    assert inputs.warnings == ()
    assert [fact.reference for fact in inputs.cirrhosis] == ["Condition/cirrhosis"]


def test_the_categories_read_are_the_ones_the_inputs_are_made_of() -> None:
    import inspect
    import re

    from service.mappers import build
    from service.mappers.conditions import READ_CATEGORIES

    used = set(
        re.findall(r'conditions\.(?:present|any_status)\("(\w+)"\)', inspect.getsource(build))
    )
    assert used
    assert {*used, "primary_site"} == READ_CATEGORIES


def test_a_tumour_condition_also_coded_as_a_syndrome_is_read_as_before() -> None:
    """A carcinoma coded with carcinoid syndrome too is still a tumour descriptor with an
    unreadable status: skipping the syndrome category must not make it readable."""
    mixed = condition("C7A.1", id="mixed", clinical=None) | TEXT_ONLY
    mixed["code"]["coding"].insert(0, {"system": ICD10CM, "code": "E34.0"})
    inputs = map_resources(mixed)
    assert inputs.neuroendocrine_carcinoma == ()
    assert warned(inputs, "Condition/mixed", "unreadable")
