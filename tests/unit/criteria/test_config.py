"""EvaluationConfig: the configurable defaults change decisions; bad values are refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from service.criteria import ConfigError, EvaluationConfig
from service.criteria.status import Status
from tests.unit.criteria.conftest import (
    MET,
    NOT_MET,
    UNKNOWN,
    ago,
    bilirubin,
    finding,
    make_inputs,
    platelets,
    result_of,
)


def test_the_defaults_are_those_of_the_spec() -> None:
    config = EvaluationConfig()
    assert config.bilirubin_upper_limit_mg_dl == Decimal("1.2")
    assert config.max_ecog_for_surgery == 2
    assert config.lab_freshness_days == 90


@pytest.mark.parametrize(
    ("max_ecog", "ecog", "expected"),
    [
        pytest.param(2, 3, NOT_MET, id="default limit 2, ECOG 3"),
        pytest.param(3, 3, MET, id="limit raised to 3, ECOG 3"),
        pytest.param(1, 2, NOT_MET, id="limit lowered to 1, ECOG 2"),
        pytest.param(0, 0, MET, id="limit 0, ECOG 0"),
    ],
)
def test_max_ecog_for_surgery_moves_the_fitness_limit(
    max_ecog: int, ecog: int, expected: Status
) -> None:
    config = EvaluationConfig(max_ecog_for_surgery=max_ecog)
    result = result_of(make_inputs(ecog=finding(ecog)), "resection", "fit_for_surgery", config)
    assert result.status is expected
    assert f"{ecog}" in result.reason
    assert f"{max_ecog}" in result.reason


@pytest.mark.parametrize(
    ("limit", "value", "expected"),
    [
        pytest.param("1.2", "1.1", MET, id="default 1.2, bilirubin 1.1"),
        pytest.param("1.0", "1.1", NOT_MET, id="limit 1.0, bilirubin 1.1"),
        pytest.param("1.0", "1.0", MET, id="limit 1.0, bilirubin exactly 1.0"),
        pytest.param("2.0", "1.5", MET, id="limit 2.0, bilirubin 1.5"),
    ],
)
def test_the_bilirubin_default_limit_is_configurable(
    limit: str, value: str, expected: Status
) -> None:
    config = EvaluationConfig(bilirubin_upper_limit_mg_dl=Decimal(limit))
    inputs = make_inputs(bilirubin=bilirubin(value))
    for set_id, criterion_id in (
        ("enets", "low_bilirubin"),
        ("resection", "adequate_liver_function"),
    ):
        assert result_of(inputs, set_id, criterion_id, config).status is expected


def test_a_reference_range_high_still_beats_the_configured_limit() -> None:
    config = EvaluationConfig(bilirubin_upper_limit_mg_dl=Decimal("1.0"))
    inputs = make_inputs(bilirubin=bilirubin("1.1", upper_limit="1.3"))
    assert result_of(inputs, "enets", "low_bilirubin", config).status is MET


@pytest.mark.parametrize(
    ("window", "age", "expected"),
    [
        pytest.param(90, 100, UNKNOWN, id="default 90 days, 100 days old"),
        pytest.param(120, 100, MET, id="120 days, 100 days old"),
        pytest.param(30, 30, MET, id="30 days, exactly 30 days old"),
        pytest.param(30, 31, UNKNOWN, id="30 days, 31 days old"),
        pytest.param(0, 0, MET, id="0 days, taken on the evaluation date"),
    ],
)
def test_lab_freshness_days_moves_the_stale_cutoff(window: int, age: int, expected: Status) -> None:
    config = EvaluationConfig(lab_freshness_days=window)
    inputs = make_inputs(platelets=platelets("150", ago(age)), bilirubin=bilirubin("0.5", ago(age)))
    assert result_of(inputs, "resection", "no_portal_hypertension", config).status is expected
    assert result_of(inputs, "enets", "low_bilirubin", config).status is expected


def test_a_shorter_window_is_named_in_the_reason_and_the_needs() -> None:
    config = EvaluationConfig(lab_freshness_days=30)
    inputs = make_inputs(platelets=platelets("150", ago(31)))
    result = result_of(inputs, "resection", "no_portal_hypertension", config)
    assert result.reason == f"latest platelet count {ago(31)} is older than 30 days"
    assert result.needs == ("platelet count from the last 30 days",)


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"bilirubin_upper_limit_mg_dl": 1.2}, id="bilirubin as a float"),
        pytest.param({"bilirubin_upper_limit_mg_dl": Decimal(0)}, id="bilirubin zero"),
        pytest.param({"bilirubin_upper_limit_mg_dl": Decimal("-1")}, id="bilirubin negative"),
        pytest.param({"bilirubin_upper_limit_mg_dl": Decimal("NaN")}, id="bilirubin NaN"),
        pytest.param({"bilirubin_upper_limit_mg_dl": Decimal("sNaN")}, id="bilirubin sNaN"),
        pytest.param({"bilirubin_upper_limit_mg_dl": Decimal("Infinity")}, id="bilirubin inf"),
        pytest.param({"max_ecog_for_surgery": 6}, id="ECOG 6"),
        pytest.param({"max_ecog_for_surgery": -1}, id="ECOG -1"),
        pytest.param({"max_ecog_for_surgery": True}, id="ECOG as a bool"),
        pytest.param({"max_ecog_for_surgery": "2"}, id="ECOG as a string"),
        pytest.param({"lab_freshness_days": -1}, id="negative window"),
        pytest.param({"lab_freshness_days": True}, id="window as a bool"),
        pytest.param({"lab_freshness_days": 1.5}, id="fractional window"),
    ],
)
def test_a_bad_value_raises_config_error(settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        EvaluationConfig(**settings)


def test_config_error_is_a_value_error_naming_the_setting() -> None:
    assert issubclass(ConfigError, ValueError)
    with pytest.raises(ConfigError, match="max_ecog_for_surgery"):
        EvaluationConfig(max_ecog_for_surgery=9)


def test_from_mapping_parses_strings_from_the_environment() -> None:
    config = EvaluationConfig.from_mapping(
        {
            "bilirubin_upper_limit_mg_dl": "1.0",
            "max_ecog_for_surgery": "1",
            "lab_freshness_days": "60",
        }
    )
    assert config == EvaluationConfig(Decimal("1.0"), 1, 60)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param({"lab_freshness": "60"}, "unknown evaluation setting\\(s\\): lab_freshness"),
        pytest.param({"lab_freshness_days": "sixty"}, "setting lab_freshness_days: 'sixty'"),
        pytest.param({"bilirubin_upper_limit_mg_dl": "1,2"}, "setting bilirubin_upper_limit_mg_dl"),
        pytest.param({"max_ecog_for_surgery": "7"}, "max_ecog_for_surgery must be"),
    ],
)
def test_from_mapping_names_the_bad_setting(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EvaluationConfig.from_mapping(values)


def test_from_mapping_refuses_a_bilirubin_limit_that_is_not_a_number() -> None:
    with pytest.raises(ConfigError, match="bilirubin_upper_limit_mg_dl must be a finite number"):
        EvaluationConfig.from_mapping({"bilirubin_upper_limit_mg_dl": "NaN"})
