"""Liver: bilirubin (ENETS low_bilirubin, resection adequate_liver_function), portal
hypertension (platelets, signs) and the future liver remnant; lab freshness."""

from __future__ import annotations

from typing import Any

import pytest

from service.criteria.status import Status
from tests.unit.criteria.conftest import (
    MET,
    NOT_MET,
    UNKNOWN,
    ago,
    bilirubin,
    condition,
    flr,
    make_inputs,
    platelets,
    refs,
    result_of,
)

BILIRUBIN_CRITERIA = [("enets", "low_bilirubin"), ("resection", "adequate_liver_function")]
SPLENOMEGALY = condition("R16.1", ref="Condition/spleen", display="Splenomegaly")
OLD_ASCITES = condition("R18.8", "2020-01-01", ref="Condition/ascites", present=False)
CIRRHOSIS = condition("K74.60", ref="Condition/cirrhosis", display="Cirrhosis")
STEATOSIS = condition("K76.0", ref="Condition/steatosis", display="Fatty liver")


@pytest.mark.parametrize(("set_id", "criterion_id"), BILIRUBIN_CRITERIA)
@pytest.mark.parametrize(
    ("lab", "expected"),
    [
        pytest.param(bilirubin("1.2"), MET, id="exactly the 1.2 default"),
        pytest.param(bilirubin("1.201"), NOT_MET, id="1.201 above the default"),
        pytest.param(bilirubin("0.5"), MET, id="0.5"),
        pytest.param(bilirubin("1.5", upper_limit="1.6"), MET, id="1.5 within a range high 1.6"),
        pytest.param(bilirubin("1.6", upper_limit="1.6"), MET, id="exactly the range high"),
        pytest.param(bilirubin("1.1", upper_limit="1.0"), NOT_MET, id="1.1 above a range high 1"),
        pytest.param(
            bilirubin("0.5", upper_limit_problem="unrecognised unit 'x'"),
            UNKNOWN,
            id="unusable reference range",
        ),
        pytest.param(bilirubin("<1"), MET, id="below 1"),
        pytest.param(bilirubin("<=1.5"), UNKNOWN, id="at most 1.5 straddles"),
        pytest.param(bilirubin(">1.2"), NOT_MET, id="above 1.2"),
        pytest.param(bilirubin("0.5", ago(90)), MET, id="exactly 90 days old is fresh"),
        pytest.param(bilirubin("0.5", ago(91)), UNKNOWN, id="91 days old, normal value"),
        pytest.param(bilirubin("3.0", ago(91)), UNKNOWN, id="91 days old, high value"),
        pytest.param(bilirubin("0.5", None), UNKNOWN, id="undated"),
        pytest.param(bilirubin("0.5", "2026-08"), UNKNOWN, id="August 2026 may be stale"),
        pytest.param(bilirubin("0.5", "2026-09"), MET, id="September 2026 is fresh"),
        pytest.param(bilirubin(None), UNKNOWN, id="uninterpretable"),
        pytest.param(None, UNKNOWN, id="no bilirubin"),
    ],
)
def test_bilirubin_must_be_fresh_and_within_the_upper_limit_of_normal(
    set_id: str, criterion_id: str, lab: Any, expected: Status
) -> None:
    result = result_of(make_inputs(bilirubin=lab), set_id, criterion_id)
    assert result.status is expected


def test_bilirubin_at_the_default_limit_says_which_limit_it_used() -> None:
    result = result_of(make_inputs(bilirubin=bilirubin("1.2")), "enets", "low_bilirubin")
    assert "within the upper limit of normal 1.2 mg/dL (default)" in result.reason
    assert result.evidence[0].reference == "Observation/bili"
    assert result.evidence[0].unit == "mg/dL"
    assert result.evidence[0].date == "2026-11-01"


def test_a_reference_range_high_replaces_the_default_limit() -> None:
    inputs = make_inputs(bilirubin=bilirubin("1.5", upper_limit="1.6"))
    result = result_of(inputs, "resection", "adequate_liver_function")
    assert "1.6 mg/dL (reference range)" in result.reason


def test_an_unusable_reference_range_is_unknown_even_if_the_default_would_decide() -> None:
    inputs = make_inputs(bilirubin=bilirubin("3.0", upper_limit_problem="unrecognised unit 'x'"))
    result = result_of(inputs, "enets", "low_bilirubin")
    assert result.status is UNKNOWN
    assert "reference range" in result.reason


def test_a_stale_bilirubin_gives_its_date_and_the_window() -> None:
    result = result_of(make_inputs(bilirubin=bilirubin("3.0", ago(91))), "enets", "low_bilirubin")
    assert result.reason == "latest total bilirubin 2026-08-23 is older than 90 days"
    assert result.needs == ("total bilirubin from the last 90 days",)
    assert refs(result) == ["Observation/bili"]


def test_an_undated_bilirubin_cannot_be_shown_fresh() -> None:
    result = result_of(make_inputs(bilirubin=bilirubin("0.5", None)), "enets", "low_bilirubin")
    assert "has no date" in result.reason


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"platelets": platelets("100")}, MET, id="exactly 100"),
        pytest.param({"platelets": platelets("99.9")}, NOT_MET, id="99.9"),
        pytest.param({"platelets": platelets("250")}, MET, id="250"),
        pytest.param({"platelets": platelets("60", ago(90))}, NOT_MET, id="60, 90 days old"),
        pytest.param({"platelets": platelets("60", ago(91))}, UNKNOWN, id="60, stale"),
        pytest.param({"platelets": platelets("250", ago(91))}, UNKNOWN, id="250, stale"),
        pytest.param({"platelets": platelets("250", None)}, UNKNOWN, id="undated"),
        pytest.param({"platelets": platelets("<100")}, NOT_MET, id="below 100"),
        pytest.param({"platelets": platelets(">=100")}, MET, id="at least 100"),
        pytest.param({"platelets": platelets("50-150")}, UNKNOWN, id="50-150 straddles"),
        pytest.param({"platelets": platelets(None)}, UNKNOWN, id="uninterpretable"),
        pytest.param(
            {"platelets": platelets("250"), "portal_hypertension_signs": (SPLENOMEGALY,)},
            NOT_MET,
            id="splenomegaly with normal platelets",
        ),
        pytest.param(
            {"portal_hypertension_signs": (SPLENOMEGALY,)}, NOT_MET, id="splenomegaly alone"
        ),
        pytest.param(
            {"platelets": platelets("60", ago(91)), "portal_hypertension_signs": (SPLENOMEGALY,)},
            NOT_MET,
            id="a sign decides even with a stale count",
        ),
        pytest.param(
            {"platelets": platelets("250"), "portal_hypertension_signs": (OLD_ASCITES,)},
            MET,
            id="resolved ascites is history",
        ),
        pytest.param({}, UNKNOWN, id="nothing recorded"),
    ],
)
def test_no_portal_hypertension_needs_fresh_platelets_of_at_least_100(
    fields: dict[str, Any], expected: Status
) -> None:
    result = result_of(make_inputs(**fields), "resection", "no_portal_hypertension")
    assert result.status is expected


def test_a_stale_platelet_count_of_60_is_unknown_not_not_met() -> None:
    inputs = make_inputs(platelets=platelets("60", ago(91)))
    result = result_of(inputs, "resection", "no_portal_hypertension")
    assert result.status is UNKNOWN
    assert result.reason == "latest platelet count 2026-08-23 is older than 90 days"
    assert result.needs == ("platelet count from the last 90 days",)


def test_low_platelets_and_a_sign_are_both_cited() -> None:
    inputs = make_inputs(platelets=platelets("80"), portal_hypertension_signs=(SPLENOMEGALY,))
    result = result_of(inputs, "resection", "no_portal_hypertension")
    assert result.status is NOT_MET
    assert "Splenomegaly recorded (R16.1" in result.reason
    assert "below 100 10*9/L" in result.reason
    assert refs(result) == ["Condition/spleen", "Observation/plt"]


def test_platelets_exactly_100_are_met_with_the_count_as_evidence() -> None:
    result = result_of(
        make_inputs(platelets=platelets("100")), "resection", "no_portal_hypertension"
    )
    assert "platelets 100 10*9/L (2026-11-01) at least 100" in result.reason
    assert result.evidence[0].value == 100
    assert result.evidence[0].unit == "10*9/L"


@pytest.mark.parametrize(
    ("liver", "remnant", "expected"),
    [
        pytest.param((), "20", MET, id="normal liver, exactly 20"),
        pytest.param((), "19.9", NOT_MET, id="normal liver, 19.9"),
        pytest.param(("steatosis",), "30", MET, id="steatosis, exactly 30"),
        pytest.param(("steatosis",), "29.9", NOT_MET, id="steatosis, 29.9"),
        pytest.param(("steatosis",), "25", NOT_MET, id="steatosis, 25 enough for a normal liver"),
        pytest.param(("cirrhosis",), "40", MET, id="cirrhosis, exactly 40"),
        pytest.param(("cirrhosis",), "39.9", NOT_MET, id="cirrhosis, 39.9"),
        pytest.param(("cirrhosis", "steatosis"), "35", NOT_MET, id="cirrhosis wins, 35"),
        pytest.param(("old cirrhosis",), "25", MET, id="cirrhosis not present, 25"),
        pytest.param((), "15-25", UNKNOWN, id="normal liver, 15-25 straddles"),
        pytest.param((), ">=20", MET, id="normal liver, at least 20"),
        pytest.param((), None, UNKNOWN, id="uninterpretable remnant"),
        pytest.param(("cirrhosis",), "missing", UNKNOWN, id="no remnant recorded"),
    ],
)
def test_future_liver_remnant_threshold_depends_on_the_liver(
    liver: tuple[str, ...], remnant: str | None, expected: Status
) -> None:
    old_cirrhosis = condition("K74.60", "2019-01-01", ref="Condition/old", present=False)
    cirrhosis = (CIRRHOSIS,) if "cirrhosis" in liver else ()
    if "old cirrhosis" in liver:
        cirrhosis = (old_cirrhosis,)
    inputs = make_inputs(
        cirrhosis=cirrhosis,
        significant_liver_disease=(STEATOSIS,) if "steatosis" in liver else (),
        future_liver_remnant=None if remnant == "missing" else flr(remnant),
    )
    result = result_of(inputs, "resection", "adequate_future_liver_remnant")
    assert result.status is expected


def test_flr_names_the_liver_threshold_and_cites_the_liver_condition() -> None:
    inputs = make_inputs(significant_liver_disease=(STEATOSIS,), future_liver_remnant=flr("29.9"))
    result = result_of(inputs, "resection", "adequate_future_liver_remnant")
    assert "is below 30 % for a significant underlying liver disease (K76.0)" in result.reason
    assert refs(result) == ["Observation/flr", "Condition/steatosis"]


def test_flr_for_a_normal_liver_says_no_liver_disease_was_recorded() -> None:
    inputs = make_inputs(future_liver_remnant=flr("20"))
    result = result_of(inputs, "resection", "adequate_future_liver_remnant")
    assert "at least 20 % for a normal liver" in result.reason
    assert refs(result) == ["Observation/flr"]
