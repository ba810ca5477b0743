"""Every criterion says in words when it is met, not met and unknown, with its own numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from service.criteria import DEFAULT_SETS, EvaluationConfig
from service.criteria.documentation import (
    CRITERION_RULES,
    CriterionRules,
    DocumentationError,
    check_documented,
    rule_text,
    threshold_text,
)
from service.criteria.model import Criterion, Threshold
from service.records import replace

ALL_CRITERIA = [(s.id, c) for s in DEFAULT_SETS for c in s.criteria]


def criterion(set_id: str, criterion_id: str) -> Criterion:
    return next(s for s in DEFAULT_SETS if s.id == set_id).criterion(criterion_id)


@pytest.mark.parametrize(
    ("set_id", "item"), ALL_CRITERIA, ids=[f"{s}.{c.id}" for s, c in ALL_CRITERIA]
)
def test_every_published_criterion_has_three_filled_in_rules(set_id: str, item: Criterion) -> None:
    text = rule_text(item)
    for rule in (text.met, text.not_met, text.unknown):
        assert len(rule) > 15
        assert "{" not in rule
        assert "}" not in rule
    for threshold in item.thresholds.values():
        assert threshold_text(threshold) in text.met + text.not_met + text.unknown


@pytest.mark.parametrize(
    ("threshold", "shown"),
    [
        (Threshold(Decimal(55), "a"), "55 years"),
        (Threshold(Decimal("20"), "%"), "20 %"),
        (Threshold(Decimal(182), "d"), "182 days"),
        (Threshold(Decimal(100), "10*9/L"), "100 × 10⁹/L"),
        (Threshold(Decimal("1.5"), "mg/dL"), "1.5 mg/dL"),
        (Threshold(Decimal("20.0"), "%"), "20 %"),
    ],
)
def test_thresholds_are_written_as_clinicians_write_them(threshold: Threshold, shown: str) -> None:
    assert threshold_text(threshold) == shown


def test_a_changed_threshold_changes_the_text() -> None:
    age = criterion("milan-net", "age_under_55")
    older = replace(age, thresholds={"limit": Threshold(Decimal(60), "a")})
    assert "under 55 years" in rule_text(age).met
    assert "under 60 years" in rule_text(older).met
    assert "55" not in rule_text(older).met


def test_the_configured_defaults_appear_in_the_text() -> None:
    fit = criterion("resection", "fit_for_surgery")
    bilirubin = criterion("enets", "low_bilirubin")
    platelets = criterion("resection", "no_portal_hypertension")
    assert "at most 2 " in rule_text(fit).met
    config = EvaluationConfig(
        bilirubin_upper_limit_mg_dl=Decimal("1.0"), max_ecog_for_surgery=1, lab_freshness_days=30
    )
    assert "at most 1 " in rule_text(fit, config).met
    assert "ECOG above 1" in rule_text(fit, config).not_met
    assert "1 mg/dL (configurable default)" in rule_text(bilirubin, config).met
    assert "last 30 days" in rule_text(platelets, config).met
    assert "last 90 days" in rule_text(platelets).met


def test_the_g3_reading_of_each_grade_criterion_follows_the_spec() -> None:
    transplant = rule_text(criterion("milan-net", "low_grade"))
    resection = rule_text(criterion("resection", "well_differentiated"))
    assert "G3" in transplant.not_met
    assert "G3" not in resection.not_met
    assert "G3" in resection.unknown
    assert "MDT decides" in resection.unknown


def test_the_published_sets_pass_the_check() -> None:
    check_documented(DEFAULT_SETS)


def test_a_criterion_without_text_fails_the_check() -> None:
    milan = DEFAULT_SETS[0]
    stray = replace(milan.criteria[0], id="new_criterion")
    with pytest.raises(DocumentationError, match="'milan-net', criterion 'new_criterion'"):
        check_documented((replace(milan, criteria=(*milan.criteria, stray)), *DEFAULT_SETS[1:]))
    with pytest.raises(DocumentationError, match="no met/not met/unknown text"):
        rule_text(stray)


def test_text_naming_a_threshold_the_criterion_lacks_fails_the_check() -> None:
    entry = CRITERION_RULES["age_under_55"]
    wrong = CriterionRules(
        met="Age under {ki67_limit}.", not_met=entry.not_met, unknown=entry.unknown
    )
    rules = {**CRITERION_RULES, "age_under_55": wrong}
    with pytest.raises(DocumentationError, match=r"names \['ki67_limit'\]"):
        check_documented(DEFAULT_SETS, rules)


def test_text_for_a_criterion_no_set_has_fails_the_check() -> None:
    with pytest.raises(DocumentationError, match="criteria no set has"):
        check_documented(DEFAULT_SETS[:1])
