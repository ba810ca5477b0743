"""The card: summary under 140 characters, indicator rule, Markdown detail, links."""

from __future__ import annotations

import copy
import re
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from service.cdshooks.cards import (
    MAX_SUMMARY,
    build_card,
    card_detail,
    card_indicator,
    card_summary,
    clinician_page_url,
    has_net_liver_metastasis,
)
from service.criteria.data_items import item
from service.criteria.inputs import ConditionFact, CriteriaInputs
from service.engine import evaluate_bundle, run_evaluation
from service.mappers import load_bundle_json
from service.mappers.bundle import record_from_resources
from service.mappers.reading import make_entry
from tests.cdshooks.conftest import AT, DEMO
from tests.conftest import SCENARIOS

SCENARIO_BUNDLES = sorted(p for p in SCENARIOS.glob("*.json") if ".expected." not in p.name)


def demo_result(patient_id: str) -> dict[str, Any]:
    bundle = load_bundle_json((DEMO / f"{patient_id}.json").read_bytes())
    return evaluate_bundle(bundle, AT)


def g3_unfit_result() -> dict[str, Any]:
    """Return demo-g3 with a newer ECOG 3: every pathway closed.

    Since criteria 1.1 a G3 NET without carcinoma leaves resection to the MDT, so demo-g3
    alone is undecided for resection; the ECOG closes it (fit_for_surgery not met).
    """
    bundle = load_bundle_json((DEMO / "demo-g3.json").read_bytes())
    ecog = {
        "resourceType": "Observation",
        "id": "demo-g3-ecog-3",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "89247-1"}]},
        "subject": {"reference": "Patient/demo-g3"},
        "effectiveDateTime": "2026-11-15",
        "valueInteger": 3,
    }
    bundle["entry"].append({"resource": ecog})
    return evaluate_bundle(bundle, AT)


def with_statuses(result: dict[str, Any], **statuses: str) -> dict[str, Any]:
    """Return a copy of ``result`` with set statuses replaced (``milan_net="eligible"``)."""
    changed = copy.deepcopy(result)
    for assessment in changed["assessments"]:
        key = assessment["criteriaSet"].replace("-", "_")
        if key in statuses:
            assessment["status"] = statuses[key]
    return changed


# --- summary ---------------------------------------------------------------------------


def test_summary_names_eligible_transplant_sets_and_why_resection_is_closed() -> None:
    summary = card_summary(demo_result("demo-transplant"))
    assert summary == (
        "Transplant: eligible (Milan-NET, ENETS, UNOS) · Resection: not eligible, "
        "MDT assessment: all hepatic disease not resectable/ablatable"
    )


def test_summary_names_for_each_closed_pathway_the_finding_that_closes_most_sets() -> None:
    # Ki-67 28 % closes all three transplant sets (the progression only some); since
    # criteria 1.1 a G3 NET leaves resection to the MDT, so resection is undecided.
    summary = card_summary(demo_result("demo-g3"))
    assert summary.startswith("Transplant: not eligible, Ki-67 28 % exceeds 20 % (G3)")
    assert " · Resection: undecided" in summary
    assert len(summary) < 140


def test_summary_names_the_reason_of_the_closed_pathway_only() -> None:
    summary = card_summary(demo_result("demo-resection"))
    assert summary == "Transplant: not eligible, age 65 years is 55 or older · Resection: eligible"


def test_summary_names_the_most_decisive_item_to_record_when_undecided() -> None:
    result = demo_result("demo-missing")
    summary = card_summary(result)
    first = item(result["decisiveData"]["toRecord"][0]["key"]).in_sentence
    assert summary.startswith(f"Transplant: undecided, record {first}")
    assert len(summary) < 140


def test_summary_has_no_finding_when_every_pathway_is_open() -> None:
    result = with_statuses(demo_result("demo-transplant"), resection="eligible")
    assert card_summary(result) == (
        "Transplant: eligible (Milan-NET, ENETS, UNOS) · Resection: eligible"
    )


def test_a_long_finding_is_dropped_whole_never_cut_mid_phrase() -> None:
    result = g3_unfit_result()
    for assessment in result["assessments"]:
        for criterion in assessment["criteria"]:
            if criterion["status"] == "not_met":
                criterion["reason"] = "a very long reason " * 20
    summary = card_summary(result)
    assert summary == "Transplant: not eligible · Resection: not eligible"


def test_the_later_pathway_s_finding_is_dropped_before_the_first_one() -> None:
    result = g3_unfit_result()
    resection = result["assessments"][3]
    for criterion in resection["criteria"]:
        if criterion["status"] == "not_met":
            criterion["reason"] = "a long but clinically worded reason " * 3
    summary = card_summary(result)
    # the transplant finding (Ki-67 28 %, which also closes UNOS since criteria 1.1) stays
    assert summary.startswith("Transplant: not eligible, Ki-67 28 % exceeds 20 % (G3)")
    assert summary.endswith(" · Resection: not eligible")


def test_summary_shows_platelets_in_clinical_units_without_dates_or_references() -> None:
    result = demo_result("demo-transplant")
    resection = result["assessments"][3]
    for criterion in resection["criteria"]:
        if criterion["id"] == "no_portal_hypertension":
            criterion.update(
                status="not_met",
                reason="platelets 85 10*9/L (2026-11-16) below 100 10*9/L",
                evidence=[{"reference": "Observation/plt", "value": 85, "unit": "10*9/L"}],
            )
        elif criterion["status"] == "not_met":
            criterion["status"] = "met"
    summary = card_summary(result)
    assert summary.endswith("Resection: not eligible, platelets 85 ×10⁹/L below 100 ×10⁹/L")


def test_summary_never_shows_criterion_ids_or_source_file_numbers() -> None:
    result = demo_result("demo-g3")
    for assessment in result["assessments"]:
        for criterion in assessment["criteria"]:
            if criterion["status"] == "not_met":
                criterion["reason"] = (
                    "primary_resected: MDT assessment (2026-01-01): primary not resected "
                    "(001, 004); selected resections of G3 disease are reported (003)"
                )
    summary = card_summary(result)
    assert "primary_resected" not in summary
    assert not re.search(r"\(\d{3}", summary)
    assert "MDT assessment: primary not resected" in summary


@pytest.mark.parametrize("path", SCENARIO_BUNDLES, ids=lambda p: p.stem)
def test_every_scenario_gets_a_summary_under_140_and_the_documented_indicator(
    path: Path,
) -> None:
    result = evaluate_bundle(load_bundle_json(path.read_bytes()), AT)
    card = build_card(result, public_base_url="https://cds.example.org", patient_id="p1")
    assert 0 < len(card["summary"]) <= MAX_SUMMARY < 140
    assert "\n" not in card["summary"]
    any_eligible = any(a["status"] == "eligible" for a in result["assessments"])
    assert card["indicator"] == ("warning" if any_eligible else "info")


SEED_CITATION = re.compile(r"(?<![\w/.-])00[0-4](?![\w-])")
"""A source review cited by its file number ("(001, 004)", "001 Fig. 2"), not a resource id."""


@pytest.mark.parametrize("path", SCENARIO_BUNDLES, ids=lambda p: p.stem)
def test_cards_cite_source_reviews_by_name_never_by_file_number(path: Path) -> None:
    result = evaluate_bundle(load_bundle_json(path.read_bytes()), AT)
    card = build_card(result, public_base_url="https://cds.example.org", patient_id="p1")
    for text in (card["summary"], card["detail"], card["source"]["label"]):
        assert not SEED_CITATION.search(text), SEED_CITATION.findall(text)


# --- indicator -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "indicator"),
    [
        ({"milan_net": "eligible"}, "warning"),
        ({"resection": "eligible"}, "warning"),
        (
            {
                "milan_net": "ineligible",
                "enets": "indeterminate",
                "unos": "ineligible",
                "resection": "indeterminate",
            },
            "info",
        ),
        (
            {
                "milan_net": "ineligible",
                "enets": "ineligible",
                "unos": "ineligible",
                "resection": "ineligible",
            },
            "info",
        ),
    ],
)
def test_indicator_is_warning_when_any_set_is_eligible_else_info_never_critical(
    statuses: dict[str, str], indicator: str
) -> None:
    base = with_statuses(
        demo_result("demo-missing"),
        milan_net="indeterminate",
        enets="indeterminate",
        unos="indeterminate",
        resection="indeterminate",
    )
    assert card_indicator(with_statuses(base, **statuses)) == indicator


# --- detail ----------------------------------------------------------------------------


def test_detail_says_each_pathway_s_verdict_then_one_line_per_set_by_label() -> None:
    detail = card_detail(demo_result("demo-extrahepatic"))
    assert detail.startswith("**Liver transplantation: not eligible — extrahepatic metastasis")
    assert "**Liver resection: undecided — needs the MDT judgement" in detail
    set_lines = [line for line in detail.splitlines() if line.startswith("- ") and " v" in line]
    assert len(set_lines) == 4
    milan, _, _, resection = set_lines
    assert milan.startswith("- Milan-NET v")
    assert "not eligible; not met: No extrahepatic disease" in milan
    assert "undecided; unknown: Liver-limited disease" in resection
    assert "`" not in detail
    assert "no_extrahepatic_disease" not in detail
    assert "**For the MDT to decide:** MDT judgement on liver-dominant disease" in detail


def test_detail_lists_what_to_record_once_ranked_as_the_result_ranks_it() -> None:
    result = demo_result("demo-missing")
    detail = card_detail(result)
    assert detail.count("**To record**") == 1
    numbered = [line for line in detail.splitlines() if re.match(r"\d+\. ", line)]
    labels = [item["label"] for item in result["decisiveData"]["toRecord"]]
    assert len(numbered) == len(labels)
    for number, (line, label) in enumerate(zip(numbered, labels, strict=True), start=1):
        assert line.startswith(f"{number}. {label}: could change ")


def test_detail_has_nothing_to_record_when_every_set_is_decided() -> None:
    result = g3_unfit_result()
    assert result["decisiveData"]["toRecord"] == []
    assert "To record" not in card_detail(result)


def test_detail_says_eligible_sets_met_every_criterion() -> None:
    detail = card_detail(demo_result("demo-transplant"))
    assert "- Milan-NET v" in detail
    assert "eligible; all 7 criteria met." in detail


def test_detail_states_that_the_card_supports_and_does_not_replace_the_mdt() -> None:
    detail = card_detail(demo_result("demo-transplant"))
    assert "supports, and does not replace" in detail
    assert detail.count("does not replace") == 1  # the engine's own note is not repeated


def test_detail_lists_the_results_notes() -> None:
    detail = card_detail(demo_result("demo-resection"))
    assert "Notes:" in detail
    assert "ELTR predictors" in detail


def test_detail_escapes_markdown_and_html_coming_from_the_record() -> None:
    result = demo_result("demo-g3")
    for assessment in result["assessments"][:3]:
        for criterion in assessment["criteria"]:
            if criterion["status"] == "not_met":
                criterion["reason"] = "[click](https://evil.example) <img src=x> *bold*"
    detail = card_detail(result)
    assert "[click](" not in detail
    assert not re.search(r"(?<!\\)[<>\[\]]", detail)  # every bracket from data is escaped
    assert r"\[click\]" in detail
    assert r"\<img src=x\>" in detail
    assert r"\*bold\*" in detail


def test_detail_shows_notes_without_source_file_numbers() -> None:
    detail = card_detail(demo_result("demo-resection"))
    assert "10*9/L" not in detail
    assert "ELTR predictors" in detail
    assert not re.search(r"\(\d{3}", detail)


def test_detail_counts_data_warnings() -> None:
    result = demo_result("demo-transplant")
    result["warnings"] = [{"reference": "Observation/x", "message": "unreadable"}]
    assert "1 data warning(s)" in card_detail(result)


# --- the card --------------------------------------------------------------------------


def test_card_has_uuid_source_and_an_absolute_link_to_the_clinician_page() -> None:
    card = build_card(
        demo_result("demo-transplant"),
        public_base_url="https://cds.example.org/",
        patient_id="demo-transplant",
    )
    assert uuid.UUID(card["uuid"]).version == 4
    assert card["source"]["label"]
    assert card["source"]["url"] == "https://cds.example.org/criteria"
    assert card["source"]["topic"]["code"] == "nelm-eligibility"
    assert card["links"] == [
        {
            "label": "Open the full NELM eligibility evaluation",
            "url": "https://cds.example.org/patients/demo-transplant/evaluation",
            "type": "absolute",
        }
    ]
    assert all(reason["display"] for reason in card["overrideReasons"])
    assert "suggestions" not in card  # no suggestion, so no selectionBehavior either


def test_each_card_gets_a_new_uuid_unless_one_is_given() -> None:
    result = demo_result("demo-transplant")
    first = build_card(result, public_base_url="https://x.example", patient_id="p")
    second = build_card(result, public_base_url="https://x.example", patient_id="p")
    assert first["uuid"] != second["uuid"]
    given = build_card(result, public_base_url="https://x.example", patient_id="p", card_uuid="u")
    assert given["uuid"] == "u"


def test_clinician_page_url_is_built_from_the_public_base_url() -> None:
    assert clinician_page_url("https://h.example/nelm/", "a.b-1") == (
        "https://h.example/nelm/patients/a.b-1/evaluation"
    )


def test_clinician_page_url_carries_a_page_token_when_given() -> None:
    assert clinician_page_url("https://h.example/", "p1", "ab.c_d-e") == (
        "https://h.example/patients/p1/evaluation?token=ab.c_d-e"
    )


def test_the_card_link_carries_the_page_token_it_is_given() -> None:
    card = build_card(
        demo_result("demo-transplant"),
        public_base_url="https://cds.example.org",
        patient_id="demo-transplant",
        page_token="signed.token",
    )
    assert card["links"][0]["url"] == (
        "https://cds.example.org/patients/demo-transplant/evaluation?token=signed.token"
    )


# --- who gets a card -------------------------------------------------------------------


def inputs_with(**facts: Any) -> CriteriaInputs:
    return CriteriaInputs(patient="Patient/p", evaluation_date=date(2026, 11, 22), **facts)


def fact(code: str, reference: str = "Condition/c") -> ConditionFact:
    return ConditionFact(reference, None, code, code, present=True)


@pytest.mark.parametrize(
    ("facts", "card"),
    [
        ({}, False),
        ({"liver_metastases": (fact("C7B.02"),)}, True),
        ({"liver_metastases": (fact("C78.7"),)}, False),
        ({"liver_metastases": (fact("94381002"),)}, False),
        ({"liver_metastases": (fact("C78.7"),), "primary_sites": (fact("C7A.012"),)}, True),
        (
            {"liver_metastases": (fact("C78.7"),), "neuroendocrine_carcinoma": (fact("C7A.1"),)},
            True,
        ),
        (
            {"liver_metastases": (fact("C78.7"),), "carcinoid_heart_disease": (fact("E34.01"),)},
            True,
        ),
        ({"primary_sites": (fact("C7A.012"),)}, False),
    ],
    ids=[
        "nothing",
        "C7B.02 secondary carcinoid of liver",
        "C78.7 without a NET",
        "SNOMED liver metastasis without a NET",
        "C78.7 with a NET primary",
        "C78.7 with a neuroendocrine carcinoma",
        "C78.7 with carcinoid heart disease",
        "NET primary without liver metastasis",
    ],
)
def test_a_card_needs_a_present_liver_metastasis_of_a_neuroendocrine_tumour(
    facts: dict[str, Any], card: bool
) -> None:
    assert has_net_liver_metastasis(inputs_with(**facts)) is card


def test_a_resolved_liver_metastasis_gets_no_card() -> None:
    patient = make_entry({"resourceType": "Patient", "id": "p"}, None, 0)
    metastasis = make_entry(
        {
            "resourceType": "Condition",
            "id": "m",
            "clinicalStatus": {"coding": [{"code": "resolved"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C7B.02"}]},
            "subject": {"reference": "Patient/p"},
        },
        None,
        1,
    )
    evaluation = run_evaluation(record_from_resources(patient, [metastasis]), AT)
    assert not has_net_liver_metastasis(evaluation.inputs)


def test_the_summary_names_an_item_to_record_as_a_phrase_not_a_question() -> None:
    """demo-g3: resection waits on the MDT's resectability assessment, which the list asks
    as a question; the summary says it as a noun phrase, with no "(%)" or "?"."""
    summary = card_summary(demo_result("demo-g3"))
    assert summary.endswith(
        "Resection: undecided, record MDT assessment of liver-disease resectability"
    )
    assert "?" not in summary
    missing = card_summary(demo_result("demo-missing"))
    assert missing.startswith("Transplant: undecided, record Ki-67 index ·")
    assert "(%)" not in missing


def test_every_item_a_sentence_can_name_has_a_phrase_without_a_question() -> None:
    from service.criteria.data_items import DATA_ITEMS

    for data_item in DATA_ITEMS:
        if data_item.judgement or data_item.key.startswith("mdt-"):
            continue  # said as "needs the <label>"
        assert "?" not in data_item.in_sentence, data_item.key
        assert "(%)" not in data_item.in_sentence, data_item.key


def test_an_undecided_set_with_many_unknowns_is_one_short_line() -> None:
    """demo-missing: the ranked list says what to record once; the set lines only count
    what is unknown instead of repeating each set's criteria."""
    detail = card_detail(demo_result("demo-missing"))
    set_lines = [line for line in detail.splitlines() if line.startswith("- ") and " v" in line]
    assert len(set_lines) == 4
    assert set_lines[0].startswith("- Milan-NET v")
    assert set_lines[0].endswith("undecided; 5 of 7 criteria unknown.")
    assert all("criteria unknown." in line for line in set_lines)
    assert "**To record** (most decisive first):" in detail
