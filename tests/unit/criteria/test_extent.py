"""Extent of disease: extrahepatic spread, tumour burden (Milan-NET/UNOS and ENETS bands),
resectability of hepatic disease and UNOS bilobar_unresectable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from service.criteria.inputs import Finding
from service.criteria.status import Status
from tests.unit.criteria.conftest import (
    MET,
    NOT_MET,
    UNKNOWN,
    burden,
    condition,
    finding,
    make_inputs,
    refs,
    result_of,
    statuses_of,
)

TRANSPLANT_SETS = ("milan-net", "enets", "unos")
BONE = condition("C7B.03", "2026-02-01", ref="Condition/bone", display="Bone metastasis")
NODES = condition("C77.2", "2026-02-01", ref="Condition/nodes", display="Regional nodes")
OLD_BONE = condition("C7B.03", "2023-01-01", ref="Condition/old-bone", present=False)


UNREADABLE = "uninterpretable"
"""Table marker: a result is recorded but cannot be interpreted."""


def recorded(make: Callable[[Any], Finding[Any]], value: Any) -> Finding[Any] | None:
    """Return nothing for ``None``, an uninterpretable result for ``UNREADABLE``, else one."""
    if value is None:
        return None
    return make(None if value == UNREADABLE else value)


def staging(value: bool | None) -> Finding[Any]:
    """Return the staging assessment 'extrahepatic disease present'."""
    return finding(value, "2026-10-01", ref="Observation/staging")


def syndrome(value: bool | None) -> Finding[Any]:
    """Return the assessment 'hormonal syndrome refractory to medical therapy'."""
    return finding(value, ref="Observation/syndrome")


def pattern(value: str | None) -> Finding[Any]:
    """Return the Frilling metastatic pattern."""
    return finding(value, ref="Observation/pattern")


def hepatic_resectable(value: bool | None) -> Finding[Any]:
    """Return the assessment 'all hepatic disease resectable/ablatable'."""
    return finding(value, ref="Observation/hep-resectable")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"extrahepatic_staging": staging(False)}, MET, id="staging absent"),
        pytest.param({"extrahepatic_staging": staging(True)}, NOT_MET, id="staging present"),
        pytest.param({"extrahepatic_metastases": (BONE,)}, NOT_MET, id="bone metastasis"),
        pytest.param({"regional_node_metastases": (NODES,)}, NOT_MET, id="regional nodes C77"),
        pytest.param(
            {"regional_node_metastases": (NODES,), "extrahepatic_staging": staging(False)},
            NOT_MET,
            id="regional nodes beat newer staging 'absent'",
        ),
        pytest.param(
            {"extrahepatic_metastases": (BONE,), "extrahepatic_staging": staging(False)},
            NOT_MET,
            id="active Condition beats newer staging 'absent'",
        ),
        pytest.param(
            {"extrahepatic_metastases": (OLD_BONE,), "extrahepatic_staging": staging(False)},
            MET,
            id="resolved Condition is history",
        ),
        pytest.param({"extrahepatic_metastases": (OLD_BONE,)}, UNKNOWN, id="only history"),
        pytest.param({"extrahepatic_staging": staging(None)}, UNKNOWN, id="uninterpretable"),
        pytest.param({}, UNKNOWN, id="no Condition found is not evidence"),
    ],
)
def test_no_extrahepatic_disease_needs_negative_staging_and_no_active_spread(
    fields: dict[str, Any], expected: Status
) -> None:
    statuses = statuses_of(make_inputs(**fields), "no_extrahepatic_disease")
    assert statuses == dict.fromkeys(TRANSPLANT_SETS, expected)


def test_an_extrahepatic_condition_is_named_in_the_reason_and_evidence() -> None:
    inputs = make_inputs(extrahepatic_metastases=(BONE,), extrahepatic_staging=staging(False))
    result = result_of(inputs, "milan-net", "no_extrahepatic_disease")
    assert "extrahepatic metastasis recorded: Bone metastasis (C7B.03, 2026-02-01)" in result.reason
    assert refs(result) == ["Condition/bone"]


def test_no_staging_asks_for_staging() -> None:
    result = result_of(make_inputs(), "enets", "no_extrahepatic_disease")
    assert result.needs
    assert "staging" in result.needs[0]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"extrahepatic_staging": staging(False)}, MET, id="staging absent"),
        pytest.param({"extrahepatic_staging": staging(True)}, UNKNOWN, id="staging present"),
        pytest.param({"extrahepatic_metastases": (BONE,)}, UNKNOWN, id="bone metastasis"),
        pytest.param(
            {"extrahepatic_metastases": (BONE,), "extrahepatic_staging": staging(True)},
            UNKNOWN,
            id="Condition and positive staging",
        ),
        pytest.param(
            {"extrahepatic_metastases": (OLD_BONE,), "extrahepatic_staging": staging(False)},
            MET,
            id="resolved Condition is history",
        ),
        pytest.param(
            {"regional_node_metastases": (NODES,), "extrahepatic_staging": staging(False)},
            MET,
            id="regional nodes C77 go with the primary",
        ),
        pytest.param(
            {"regional_node_metastases": (NODES,)},
            UNKNOWN,
            id="regional nodes alone are no staging",
        ),
        pytest.param(
            {
                "regional_node_metastases": (NODES,),
                "extrahepatic_metastases": (BONE,),
                "extrahepatic_staging": staging(False),
            },
            UNKNOWN,
            id="regional nodes and a bone metastasis",
        ),
        pytest.param({}, UNKNOWN, id="nothing recorded"),
    ],
)
def test_liver_limited_disease_is_never_not_met(fields: dict[str, Any], expected: Status) -> None:
    result = result_of(make_inputs(**fields), "resection", "liver_limited_disease")
    assert result.status is expected
    assert result.status is not NOT_MET


def test_regional_nodes_count_for_transplantation_but_not_for_resection() -> None:
    inputs = make_inputs(regional_node_metastases=(NODES,), extrahepatic_staging=staging(False))
    assert statuses_of(inputs, "no_extrahepatic_disease") == dict.fromkeys(TRANSPLANT_SETS, NOT_MET)
    resection = result_of(inputs, "resection", "liver_limited_disease")
    assert resection.status is MET
    assert refs(resection) == ["Observation/staging"]
    transplant = result_of(inputs, "milan-net", "no_extrahepatic_disease")
    assert "Regional nodes (C77.2, 2026-02-01)" in transplant.reason
    assert refs(transplant) == ["Condition/nodes"]


def test_extrahepatic_spread_makes_liver_limited_disease_an_mdt_judgement() -> None:
    result = result_of(
        make_inputs(extrahepatic_metastases=(BONE,)), "resection", "liver_limited_disease"
    )
    assert (
        "liver-dominant disease with limited stable extrahepatic spread needs MDT judgement"
        in result.reason
    )
    assert refs(result) == ["Condition/bone"]
    assert any("MDT judgement" in need for need in result.needs)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("49.9", MET, id="49.9"),
        pytest.param("50", NOT_MET, id="exactly 50"),
        pytest.param("0", MET, id="0"),
        pytest.param("80", NOT_MET, id="80"),
        pytest.param("<50", MET, id="below 50"),
        pytest.param("<=50", UNKNOWN, id="at most 50 straddles"),
        pytest.param(">=50", NOT_MET, id="at least 50"),
        pytest.param("40-60", UNKNOWN, id="range 40-60 straddles"),
        pytest.param(None, UNKNOWN, id="uninterpretable"),
    ],
)
def test_liver_involvement_under_50_is_strictly_below_50(
    value: str | None, expected: Status
) -> None:
    statuses = statuses_of(
        make_inputs(hepatic_tumour_burden=burden(value)), "liver_involvement_under_50"
    )
    assert statuses == {"milan-net": expected, "unos": expected}


def test_burden_exactly_50_is_not_met_with_reason() -> None:
    result = result_of(
        make_inputs(hepatic_tumour_burden=burden("50")), "milan-net", "liver_involvement_under_50"
    )
    assert "hepatic tumour burden 50 % (2026-11-01) is 50 % or more" in result.reason
    assert refs(result) == ["Observation/burden"]


def test_no_burden_is_unknown_for_every_burden_criterion() -> None:
    inputs = make_inputs()
    assert statuses_of(inputs, "liver_involvement_under_50") == {
        "milan-net": UNKNOWN,
        "unos": UNKNOWN,
    }
    assert result_of(inputs, "enets", "liver_involvement").status is UNKNOWN


@pytest.mark.parametrize(
    ("value", "refractory", "expected"),
    [
        pytest.param("49.9", None, MET, id="49.9, syndrome absent"),
        pytest.param("49.9", False, MET, id="49.9, not refractory"),
        pytest.param("50", True, MET, id="50, refractory"),
        pytest.param("50", False, NOT_MET, id="50, not refractory"),
        pytest.param("50", None, UNKNOWN, id="50, syndrome not recorded"),
        pytest.param("74.9", True, MET, id="74.9, refractory"),
        pytest.param("74.9", False, NOT_MET, id="74.9, not refractory"),
        pytest.param("75", True, NOT_MET, id="75, refractory"),
        pytest.param("75", None, NOT_MET, id="75, syndrome not recorded"),
        pytest.param("60", UNREADABLE, UNKNOWN, id="60, uninterpretable syndrome"),
        pytest.param("<50", None, MET, id="below 50 touches one band"),
        pytest.param("<=50", None, UNKNOWN, id="at most 50 touches the middle band"),
        pytest.param("40-60", True, MET, id="40-60, refractory: both bands met"),
        pytest.param("40-60", False, UNKNOWN, id="40-60, not refractory: bands disagree"),
        pytest.param("40-60", None, UNKNOWN, id="40-60, syndrome not recorded"),
        pytest.param("<75", True, MET, id="below 75, refractory"),
        pytest.param("60-80", False, NOT_MET, id="60-80, not refractory: both not met"),
        pytest.param("60-80", True, UNKNOWN, id="60-80, refractory: bands disagree"),
        pytest.param(">=75", None, NOT_MET, id="at least 75"),
        pytest.param("40-80", True, UNKNOWN, id="40-80 spans all three bands"),
        pytest.param(None, True, UNKNOWN, id="uninterpretable burden"),
    ],
)
def test_enets_liver_involvement_bands_at_50_and_75_percent(
    value: str | None, refractory: bool | str | None, expected: Status
) -> None:
    inputs = make_inputs(
        hepatic_tumour_burden=burden(value),
        refractory_hormonal_syndrome=recorded(syndrome, refractory),
    )
    assert statuses_of(inputs, "liver_involvement") == {"enets": expected}


def test_enets_refractory_band_cites_the_syndrome_as_evidence() -> None:
    inputs = make_inputs(
        hepatic_tumour_burden=burden("60"), refractory_hormonal_syndrome=syndrome(True)
    )
    result = result_of(inputs, "enets", "liver_involvement")
    assert result.status is MET
    assert "below 75 % with a refractory hormonal syndrome" in result.reason
    assert refs(result) == ["Observation/burden", "Observation/syndrome"]


def test_enets_middle_band_without_syndrome_asks_whether_it_is_refractory() -> None:
    result = result_of(
        make_inputs(hepatic_tumour_burden=burden("60")), "enets", "liver_involvement"
    )
    assert result.status is UNKNOWN
    assert result.needs == ("whether the hormonal syndrome is refractory to medical therapy",)


def test_enets_interval_spanning_disagreeing_bands_says_so() -> None:
    inputs = make_inputs(
        hepatic_tumour_burden=burden("40-60"), refractory_hormonal_syndrome=syndrome(False)
    )
    result = result_of(inputs, "enets", "liver_involvement")
    assert "spans the 50 % / 75 % limits" in result.reason


@pytest.mark.parametrize(
    ("assessment", "frilling", "expected"),
    [
        pytest.param(True, None, MET, id="assessed resectable"),
        pytest.param(False, None, NOT_MET, id="assessed not resectable"),
        pytest.param(True, "type-iii", MET, id="assessment beats type III"),
        pytest.param(False, "type-i", NOT_MET, id="assessment beats type I"),
        pytest.param(None, "type-i", MET, id="type I"),
        pytest.param(None, "type-ii", UNKNOWN, id="type II"),
        pytest.param(None, "type-iii", NOT_MET, id="type III"),
        pytest.param(UNREADABLE, "type-i", UNKNOWN, id="uninterpretable assessment"),
        pytest.param(None, UNREADABLE, UNKNOWN, id="uninterpretable pattern"),
        pytest.param(None, None, UNKNOWN, id="nothing recorded"),
    ],
)
def test_all_disease_resectable_prefers_the_assessment_over_the_pattern(
    assessment: bool | str | None, frilling: str | None, expected: Status
) -> None:
    inputs = make_inputs(
        hepatic_disease_resectable=recorded(hepatic_resectable, assessment),
        metastatic_pattern=recorded(pattern, frilling),
    )
    assert statuses_of(inputs, "all_disease_resectable") == {"resection": expected}


def test_frilling_type_ii_alone_mentions_combined_or_two_stage_approaches() -> None:
    inputs = make_inputs(metastatic_pattern=pattern("type-ii"))
    result = result_of(inputs, "resection", "all_disease_resectable")
    assert "two-stage approach" in result.reason
    assert refs(result) == ["Observation/pattern"]
