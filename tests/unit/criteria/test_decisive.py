"""What would change the verdict (service.criteria.decisive): exactly the missing items that
can move an indeterminate set, ranked, with the items that alone decide a set marked."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from service.criteria import DEFAULT_SETS, CriteriaInputs, EvaluationConfig
from service.criteria.data_items import DATA_ITEMS, item_for_need
from service.criteria.decisive import DecisiveData, decisive_data
from service.criteria.inputs import Finding, Measurement
from service.criteria.status import SetStatus
from service.criteria.values import DateSpan, Interval
from service.engine import evaluate_bundle
from service.records import replace
from tests.conftest import SCENARIOS
from tests.unit.criteria.conftest import (
    AT,
    ago,
    condition,
    course,
    evaluate_all,
    finding,
    platelets,
    primary_site,
    procedure,
    resection_candidate,
    span,
    transplant_candidate,
)
from tests.unit.criteria.test_sets import random_inputs


def decisive(inputs: CriteriaInputs) -> DecisiveData:
    return decisive_data(evaluate_all(inputs))


def to_record(inputs: CriteriaInputs) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Return ``{key: (could change, alone decides)}`` in ranked order."""
    return {i.item.key: (i.changes, i.decides) for i in decisive(inputs).to_record}


def statuses(inputs: CriteriaInputs) -> dict[str, SetStatus]:
    return {r.criteria_set.id: r.status for r in evaluate_all(inputs).set_results}


# ------------------------------------------------------------------ clinical stories


def test_nothing_is_to_record_when_every_set_is_decided() -> None:
    # the patient: four sets not eligible, yet "2 data items would decide"
    inputs = replace(
        transplant_candidate(),
        birth_date=span("1950-01-01"),
        ecog=None,
        future_liver_remnant=None,
    )
    assert set(statuses(inputs).values()) == {SetStatus.INELIGIBLE}
    result = decisive(inputs)
    assert result.to_record == ()
    apart = {i.item.key for i in result.would_not_change}
    assert apart == {"ecog", "future-liver-remnant"}


def test_the_only_open_criterion_s_item_alone_decides_its_sets() -> None:
    inputs = replace(
        transplant_candidate(),
        hepatic_tumour_burden=None,
        refractory_hormonal_syndrome=finding(False),
    )
    assert to_record(inputs) == {
        "hepatic-tumour-burden": (("milan-net", "enets", "unos"), ("milan-net", "enets", "unos"))
    }


def test_enets_is_not_decided_by_the_burden_alone_when_the_syndrome_could_matter() -> None:
    # a burden of 50-<75 % needs the refractory syndrome, which is not recorded
    inputs = replace(transplant_candidate(), hepatic_tumour_burden=None)
    assert inputs.refractory_hormonal_syndrome is None
    assert to_record(inputs)["hepatic-tumour-burden"] == (
        ("milan-net", "enets", "unos"),
        ("milan-net", "unos"),
    )


def test_an_item_of_a_criterion_that_cannot_fail_changes_nothing_beside_another_unknown() -> None:
    # resection's liver_limited_disease is never not_met from data: staging alone cannot
    # close the set while the ECOG is missing too; transplant sets are closed by age
    inputs = replace(
        resection_candidate(),
        extrahepatic_staging=None,
        ecog=None,
        birth_date=span("1950-01-01"),
    )
    assert statuses(inputs)["resection"] is SetStatus.INDETERMINATE
    ranked = to_record(inputs)
    assert "extrahepatic-disease" not in ranked
    assert ranked["ecog"] == (("resection",), ())
    apart = {i.item.key for i in decisive(inputs).would_not_change}
    assert "extrahepatic-disease" in apart


def test_staging_decides_resection_when_it_is_the_only_open_item() -> None:
    inputs = replace(resection_candidate(), extrahepatic_staging=None, birth_date=span("1950"))
    ranked = to_record(inputs)
    # negative staging makes it eligible; positive staging leaves it for MDT judgement
    assert ranked["extrahepatic-disease"] == (("resection",), ())


def test_items_rank_by_the_number_of_verdicts_they_could_change() -> None:
    inputs = replace(transplant_candidate(), hepatic_tumour_burden=None, ecog=None, bilirubin=None)
    keys = list(to_record(inputs))
    assert keys.index("hepatic-tumour-burden") < keys.index("bilirubin")


def test_a_combining_criterion_is_decided_by_its_only_unknown_part() -> None:
    # UNOS primary_and_extrahepatic_resected: staging met, primary resection unknown
    inputs = replace(transplant_candidate(), primary_resections=())
    changes, decides = to_record(inputs)["primary-resected"]
    assert "unos" in changes
    assert "unos" in decides
    assert "milan-net" in decides
    # ENETS wants the resection 182 days ago: an assessment "resected" dated today leaves
    # that open (criteria.md §7), so the item changes ENETS without deciding it
    assert "enets" in changes
    assert "enets" not in decides


def test_two_unknown_parts_of_a_combination_each_change_but_neither_decides() -> None:
    inputs = replace(transplant_candidate(), primary_resections=(), extrahepatic_staging=None)
    ranked = to_record(inputs)
    assert "unos" in ranked["primary-resected"][0]
    assert "unos" not in ranked["primary-resected"][1]
    assert "unos" in ranked["extrahepatic-disease"][0]
    assert "unos" not in ranked["extrahepatic-disease"][1]


def test_the_flr_of_the_resection_set_can_change_the_unos_verdict() -> None:
    # UNOS bilobar_unresectable reads the resection set: type II, no resectability assessment
    inputs = replace(
        transplant_candidate(),
        metastatic_pattern=finding("type-ii"),
        hepatic_disease_resectable=None,
        future_liver_remnant=None,
    )
    assert statuses(inputs)["unos"] is SetStatus.INDETERMINATE
    ranked = to_record(inputs)
    changes, decides = ranked["future-liver-remnant"]
    assert "unos" in changes
    assert "unos" not in decides  # an adequate FLR leaves bilobar_unresectable open
    assert "unos" in ranked["hepatic-disease-resectable"][1]


def test_a_stale_lab_is_to_record_and_a_fresh_one_is_not() -> None:
    stale = replace(resection_candidate(), platelets=platelets("220", ago(91)))
    assert to_record(stale)["platelets"] == (("resection",), ("resection",))
    assert "platelets" not in to_record(resection_candidate())


def test_an_mdt_judgement_is_shown_apart_and_never_to_record() -> None:
    inputs = replace(
        resection_candidate(),
        extrahepatic_metastases=(condition("C7B.03"),),
        birth_date=span("1950-01-01"),
    )
    result = decisive(inputs)
    assert [i.item.key for i in result.mdt_decisions] == ["mdt-liver-dominant-disease"]
    assert result.to_record == ()


def test_a_disease_course_is_to_record_when_it_could_close_the_transplant_sets() -> None:
    inputs = replace(transplant_candidate(), disease_course=())
    changes, decides = to_record(inputs)["disease-status"]
    assert changes == ("milan-net", "enets", "unos")
    assert decides == ("milan-net", "enets", "unos")


def test_a_missing_age_and_an_unknown_grade() -> None:
    inputs = replace(transplant_candidate(), birth_date=None, ki67=None, grade=None)
    ranked = to_record(inputs)
    assert ranked["birth-date"][0] == ("milan-net", "enets", "unos")
    assert "milan-net" not in ranked["birth-date"][1]  # its grade is unknown too
    assert "milan-net" in ranked["ki67"][0]


# ------------------------------------------------------------ against brute force

PERCENT = [Decimal(v) / 2 for v in range(0, 201)]


def _day(days_before: int = 0) -> DateSpan:
    day = AT - timedelta(days=days_before)
    return DateSpan(day, day, day.isoformat())


def _measure(unit: str, values: list[Decimal]) -> list[Measurement]:
    return [Measurement("Observation/g", _day(), Interval.point(v), unit) for v in values]


def _condition_readings(inputs: CriteriaInputs) -> list[dict[str, Any]]:
    """Return the unreadable Conditions read again: each present or not, one at a time
    and all together."""
    unreadable = inputs.unreadable_conditions
    readings: list[dict[str, Any]] = [{"unreadable_conditions": ()}] if unreadable else []
    for chosen in [*([u] for u in unreadable), list(unreadable)]:
        if not chosen:
            continue
        change: dict[str, Any] = {"unreadable_conditions": ()}
        for u in chosen:
            change[u.input] = (*change.get(u.input, getattr(inputs, u.input)), u.as_present())
        readings.append(change)
    return readings


def grid(key: str, inputs: CriteriaInputs) -> list[dict[str, Any]]:
    """Return many recordings of ``key`` (written here, apart from the module's classes)."""
    found = lambda value: Finding("Observation/g", _day(), value, str(value))  # noqa: E731
    resections = inputs.primary_resections
    by_key: dict[str, list[dict[str, Any]]] = {
        "birth-date": [
            {"birth_date": span((AT - timedelta(days=d)).isoformat())}
            for d in range(0, 100 * 366, 97)
        ],
        "ki67": [{"ki67": m} for m in _measure("%", PERCENT)],
        "grade": [{"grade": found(g)} for g in ("G1", "G2", "G3")],
        "primary-site": [
            {"primary_sites": (primary_site(site, drainage),)}
            for site, drainage in (("ileum", "portal"), ("lung", "not_portal"))
        ]
        + [{"primary_sites": (*inputs.primary_sites, primary_site("ileum", "portal"))}],
        "primary-resected": [
            {"primary_resections": (*resections, procedure(ago(d)))} for d in range(0, 400, 13)
        ]
        + [{"primary_resected": found(v)} for v in (True, False)],
        "primary-resection-date": [
            {"primary_resections": (*resections, procedure(ago(d)))} for d in range(0, 400, 13)
        ],
        "primary-resectable": [{"primary_resectable": found(v)} for v in (True, False)],
        "extrahepatic-disease": [{"extrahepatic_staging": found(v)} for v in (True, False)],
        "hepatic-tumour-burden": [{"hepatic_tumour_burden": m} for m in _measure("%", PERCENT)],
        "refractory-hormonal-syndrome": [
            {"refractory_hormonal_syndrome": found(v)} for v in (True, False)
        ],
        "metastatic-pattern": [
            {"metastatic_pattern": found(p)} for p in ("type-i", "type-ii", "type-iii")
        ],
        "hepatic-disease-resectable": [
            {"hepatic_disease_resectable": found(v)} for v in (True, False)
        ],
        "future-liver-remnant": [{"future_liver_remnant": m} for m in _measure("%", PERCENT)],
        "disease-status": [
            {"disease_course": (*inputs.disease_course, *added)}
            for added in (
                (course("progressing", 0),),
                (course("stable", 0),),
                (course("stable", 200), course("stable", 0)),
                (course("responding", 182), course("responding", 0)),
            )
        ],
        "bilirubin": [{"bilirubin": m} for m in _measure("mg/dL", PERCENT[:20])],
        "platelets": [
            {"platelets": m} for m in _measure("10*9/L", [Decimal(v) for v in range(0, 400, 5)])
        ],
        "ecog": [{"ecog": found(v)} for v in range(6)],
        "condition-status": _condition_readings(inputs),
    }
    return by_key.get(key, [])


def brute_force(inputs: CriteriaInputs, key: str) -> tuple[set[str], set[str]]:
    """Return the open sets some recording of ``key`` moves, and those every one moves."""
    before = statuses(inputs)
    open_sets = {s for s, status in before.items() if status is SetStatus.INDETERMINATE}
    moved_any: set[str] = set()
    moved_all = set(open_sets)
    for change in grid(key, inputs):
        after = statuses(replace(inputs, **change))
        moved = {s for s in open_sets if after[s] is not SetStatus.INDETERMINATE}
        moved_any |= moved
        moved_all &= moved
    return moved_any, moved_all if grid(key, inputs) else set()


@pytest.mark.parametrize("seed", range(12))
def test_the_ranked_items_are_exactly_those_a_recording_can_change(seed: int) -> None:
    inputs = random_inputs(seed)
    result = decisive(inputs)
    reported = {i.item.key: i for i in (*result.to_record, *result.would_not_change)}
    for key, impact in reported.items():
        moved_any, moved_all = brute_force(inputs, key)
        assert set(impact.changes) == moved_any, key
        assert set(impact.decides) == moved_all & moved_any, key
    for impact in result.would_not_change:
        assert impact.changes == ()


@pytest.mark.parametrize("seed", range(12))
def test_a_missing_item_left_out_of_the_ranking_could_change_nothing(seed: int) -> None:
    inputs = random_inputs(seed)
    ranked = {i.item.key for i in decisive(inputs).to_record}
    # the date of a resection, and which of two primaries, are asked for by the rules
    # only when a resection or two primaries are recorded; absent, they are the same
    # recordings as "primary-resected" and "primary-site"
    duplicates = {"primary-resection-date", "mdt-which-primary"}
    for data_item in DATA_ITEMS:
        absent = all(getattr(inputs, f, None) in (None, ()) for f in data_item.fields)
        if data_item.fields and absent and data_item.key not in ranked | duplicates:
            assert brute_force(inputs, data_item.key)[0] == set(), data_item.key


@pytest.mark.parametrize("seed", range(12))
def test_an_asked_for_item_is_either_to_record_or_kept_apart(seed: int) -> None:
    inputs = random_inputs(seed)
    evaluation = evaluate_all(inputs)
    asked = {
        item_for_need(need).key  # type: ignore[union-attr]
        for set_result in evaluation.set_results
        for criterion in set_result.results
        for need in criterion.needs
    }
    result = decisive_data(evaluation)
    listed = [i.item.key for i in (*result.to_record, *result.mdt_decisions)]
    listed += [i.item.key for i in result.would_not_change]
    assert asked <= set(listed)
    assert len(listed) == len(set(listed))


def test_every_item_has_a_unique_key_in_the_json_key_shape() -> None:
    keys = [i.key for i in DATA_ITEMS]
    assert len(keys) == len(set(keys))
    schema_path = "tests/contract/evaluation-result.schema.json"
    with open(schema_path, encoding="utf-8") as handle:
        schema = json.load(handle)
    pattern = schema["properties"]["decisiveData"]["properties"]["toRecord"]["items"]
    assert pattern["properties"]["key"]["pattern"] == "^[a-z0-9]+(-[a-z0-9]+)*$"
    import re

    assert all(re.fullmatch(pattern["properties"]["key"]["pattern"], key) for key in keys)


# ------------------------------------------------------------------ every need has a key


def _all_needs() -> set[str]:
    needs: set[str] = set()
    for seed in range(200):
        for set_result in evaluate_all(random_inputs(seed)).set_results:
            for criterion in set_result.results:
                needs.update(criterion.needs)
    for path in sorted(SCENARIOS.glob("*.json")):
        if path.name.endswith(".expected.json"):
            continue
        expected = json.loads(path.with_name(path.stem + ".expected.json").read_text("utf-8"))
        bundle = json.loads(path.read_text(encoding="utf-8"))
        result = evaluate_bundle(bundle, date.fromisoformat(expected["evaluationDate"]))
        for assessment in result["assessments"]:
            for criterion in assessment["criteria"]:
                needs.update(criterion["needs"])
    return needs


def test_every_need_the_rules_give_names_a_data_item() -> None:
    unclaimed = sorted(need for need in _all_needs() if item_for_need(need) is None)
    assert unclaimed == [], (
        "add these needs texts to service/criteria/data_items.py (a key per data item)"
    )


def test_a_shorter_freshness_window_still_names_the_lab() -> None:
    config = EvaluationConfig(lab_freshness_days=30)
    inputs = replace(resection_candidate(), platelets=platelets("220", ago(31)))
    result = decisive_data(evaluate_all(inputs, config))
    assert [i.item.key for i in result.to_record] == ["platelets"]


def test_the_analysis_reevaluates_with_the_evaluation_s_own_configuration() -> None:
    inputs = replace(resection_candidate(), platelets=platelets("220", ago(60)))
    assert to_record(inputs) == {}
    strict = decisive_data(evaluate_all(inputs, EvaluationConfig(lab_freshness_days=30)))
    assert [i.item.key for i in strict.to_record] == ["platelets"]


def test_sets_other_than_the_published_ones_are_not_assumed() -> None:
    assert [s.id for s in DEFAULT_SETS] == ["milan-net", "enets", "unos", "resection"]


def test_hypothetical_values_never_reach_the_evaluation_result() -> None:
    inputs = replace(transplant_candidate(), hepatic_tumour_burden=None)
    evaluation = evaluate_all(inputs)
    decisive_data(evaluation)
    assert evaluation.inputs.hepatic_tumour_burden is None
    assert statuses(inputs)["milan-net"] is SetStatus.INDETERMINATE
