"""The RiskAssessment written back (interfaces.md §5) and the service's CodeSystem are
valid FHIR R4 by the official JSON schema, and say what the evaluation decided."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from service import writeback
from service.mappers.codes import ASSESSMENT_SYSTEM, OBSERVATION_CODES
from service.writeback import WritebackError, build_risk_assessment, conditional_create_query
from tests.contract import evaluations
from tests.contract.fhir_schema import FhirValidator

CODESYSTEM_PATH = Path(writeback.__file__).with_name("data") / "codesystem-nelm-assessment.json"
WRITTEN_AT = datetime(2026, 11, 22, 9, 15, tzinfo=timezone(timedelta(hours=1)))
SET_ORDER = ["milan-net", "enets", "unos", "resection"]
ASSESSMENT_CODES = {  # terminology.md, "The service's own assessment codes"
    "hepatic-tumour-burden",
    "future-liver-remnant",
    "extrahepatic-disease",
    "metastatic-pattern",
    "hepatic-disease-resectable",
    "primary-resectable",
    "primary-resected",
    "refractory-hormonal-syndrome",
    "major-hepatectomy-planned",  # v1.1
}
OUTCOME_CODES = {
    f"{set_id}-{status}"
    for set_id in SET_ORDER
    for status in ("eligible", "ineligible", "indeterminate")
}


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    """Evaluate every story once for the module."""
    return {name: build() for name, build in evaluations.STORIES.items()}


@pytest.fixture(scope="module")
def codesystem() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(CODESYSTEM_PATH.read_text(encoding="utf-8"))
    return document


def write(result: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "occurred_at": WRITTEN_AT,
        "liver_metastasis_reference": evaluations.LIVER_METASTASIS,
        **overrides,
    }
    return build_risk_assessment(result, **arguments)


def identifier_of(resource: dict[str, Any]) -> str:
    [identifier] = resource["identifier"]
    assert identifier["system"] == writeback.EVALUATION_IDENTIFIER_SYSTEM
    value: str = identifier["value"]
    return value


def strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{path}/{index}")
    elif isinstance(node, str):
        yield path, node


# ---------------------------------------------------------------- validity


@pytest.mark.parametrize("story", list(evaluations.STORIES))
def test_the_risk_assessment_of_every_story_is_valid_fhir_r4(
    story: str, results: dict[str, Any], fhir: FhirValidator, result_validator: Draft202012Validator
) -> None:
    result = results[story]
    assert not list(result_validator.iter_errors(result)), "the story is not a legal result"
    assert fhir.errors(write(result)) == []


def test_the_risk_assessment_without_a_known_condition_is_valid_fhir_r4(
    results: dict[str, Any], fhir: FhirValidator
) -> None:
    resource = write(results["young_undocumented"], liver_metastasis_reference=None)
    assert "condition" not in resource
    assert fhir.errors(resource) == []


def test_the_shipped_codesystem_is_valid_fhir_r4(
    codesystem: dict[str, Any], fhir: FhirValidator
) -> None:
    assert fhir.errors(codesystem) == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda r: r["prediction"][0].update(rationale=""), "prediction/0/rationale"),
        (lambda r: r.update(occurrenceDateTime="2026-11-22T09:15:00"), "occurrenceDateTime"),
        (lambda r: r.update(eligibility="yes"), "'eligibility' was unexpected"),
        (lambda r: r["subject"].update(reference=""), "subject/reference"),
        (lambda r: r["method"]["coding"][0].update(code="nelm eligibility "), "method/coding"),
        (lambda r: r.update(resourceType="RiskAssesment"), "unknown resourceType"),
    ],
    ids=[
        "empty-string",
        "time-without-zone",
        "unknown-element",
        "empty-reference",
        "bad-code",
        "misspelt-type",
    ],
)
def test_the_schema_validator_rejects_what_fhir_forbids(
    change: Callable[[dict[str, Any]], None],
    complaint: str,
    results: dict[str, Any],
    fhir: FhirValidator,
) -> None:
    resource = copy.deepcopy(write(results["transplant_candidate"]))
    change(resource)
    errors = fhir.errors(resource)
    assert errors
    assert any(complaint in line for line in errors), errors


@pytest.mark.parametrize("story", list(evaluations.STORIES))
def test_no_string_is_empty_or_padded_and_every_reference_is_type_slash_id(
    story: str, results: dict[str, Any]
) -> None:
    resource = write(results[story])
    for path, text in strings(resource):
        assert text.strip() == text != "", path
        if path.endswith("/reference"):
            assert re.fullmatch(r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}", text), path


def test_the_narrative_is_well_formed_xhtml_that_escapes_the_reasons(
    results: dict[str, Any],
) -> None:
    result = copy.deepcopy(results["transplant_candidate"])
    result["assessments"][3]["criteria"][3]["reason"] = "burden <b>& spread</b>"
    div = write(result)["text"]["div"]
    root = ET.fromstring(div)
    assert root.tag == "{http://www.w3.org/1999/xhtml}div"
    assert "burden <b>& spread</b>" in "".join(root.itertext())
    assert len(root.findall(".//{http://www.w3.org/1999/xhtml}li")) == 4


# ---------------------------------------------------------------- what it says


@pytest.mark.parametrize(
    ("story", "status"),
    [
        ("all_eligible", "final"),
        ("transplant_candidate", "final"),
        ("older_with_missing_data", "preliminary"),
        ("young_undocumented", "preliminary"),
    ],
)
def test_status_is_final_only_when_every_set_is_decided(
    story: str, status: str, results: dict[str, Any]
) -> None:
    assert write(results[story])["status"] == status


def test_one_prediction_per_set_in_result_order_with_its_outcome_code(
    results: dict[str, Any],
) -> None:
    resource = write(results["older_with_missing_data"])
    codings = [p["outcome"]["coding"] for p in resource["prediction"]]
    assert [c[0]["system"] for c in codings] == [ASSESSMENT_SYSTEM] * 4
    assert [c[0]["code"] for c in codings] == [
        "milan-net-ineligible",
        "enets-ineligible",
        "unos-ineligible",
        "resection-indeterminate",
    ]


def test_outcome_text_reads_as_the_set_and_its_verdict(results: dict[str, Any]) -> None:
    texts = [p["outcome"]["text"] for p in write(results["transplant_candidate"])["prediction"]]
    assert texts == [
        "Liver transplantation, Milan-NET criteria: eligible",
        "Liver transplantation, ENETS 2016 guidance: eligible",
        "Liver transplantation, OPTN/UNOS MELD-exception criteria: eligible",
        "Curative-intent hepatic resection (± ablation): not eligible",
    ]


def test_rationale_names_the_deciding_criteria_in_clinical_words(
    results: dict[str, Any],
) -> None:
    decided = write(results["transplant_candidate"])["prediction"]
    assert decided[0]["rationale"] == "Eligible: all 7 criteria met."
    assert (
        "All hepatic disease resectable or ablatable with curative intent: not met, MDT "
        "assessment" in decided[3]["rationale"]
    )
    assert "Well-differentiated" not in decided[3]["rationale"]

    open_ = write(results["older_with_missing_data"])["prediction"]
    assert "Age under 55 years: not met, age 56 years is 55 or older." in open_[0]["rationale"]
    assert "portal system" not in open_[0]["rationale"], "unknowns do not decide it"
    resection = open_[3]["rationale"]
    assert "Fit for major surgery, no untreated carcinoid heart disease: undecided" in resection
    assert "To record: ECOG performance status." in resection
    assert "Well-differentiated" not in resection, "met criteria do not decide it"
    ids = {
        c["id"] for a in results["older_with_missing_data"]["assessments"] for c in a["criteria"]
    }
    for prediction in [*decided, *open_]:
        assert not [i for i in ids if re.search(rf"\b{i}\b", prediction["rationale"])], "no ids"
        assert not re.search(r"\(\d{3}[,)]", prediction["rationale"]), "no file numbers"


def test_basis_lists_every_evidence_reference_once_in_first_seen_order(
    results: dict[str, Any],
) -> None:
    result = results["transplant_candidate"]
    seen = [
        e["reference"] for a in result["assessments"] for c in a["criteria"] for e in c["evidence"]
    ]
    basis = [b["reference"] for b in write(result)["basis"]]
    assert basis == list(dict.fromkeys(seen))
    assert basis[0] == "Patient/patient", "the birthDate is the evidence of age_under_55"
    assert {"Observation/ki67", "Procedure/resection", "Observation/plt"} <= set(basis)


def test_subject_time_performer_and_condition_are_as_given(results: dict[str, Any]) -> None:
    resource = write(results["transplant_candidate"], device_reference="Device/cds-7")
    assert resource["subject"] == {"reference": "Patient/patient"}
    assert resource["occurrenceDateTime"] == "2026-11-22T09:15:00+01:00"
    assert resource["performer"]["reference"] == "Device/cds-7"
    assert resource["condition"] == {"reference": "Condition/liver-mets"}
    assert write(results["transplant_candidate"])["performer"]["reference"] == "Device/nelm-cds"


def test_method_is_the_service_code_naming_each_set_and_version(
    results: dict[str, Any],
) -> None:
    method = write(results["transplant_candidate"])["method"]
    assert [(c["system"], c["code"]) for c in method["coding"]] == [
        (ASSESSMENT_SYSTEM, "nelm-eligibility")
    ]
    for set_id in SET_ORDER:
        assert f"{set_id} 1.1.0" in method["text"]


def test_notes_state_the_mdt_role_then_the_result_notes_and_warnings(
    results: dict[str, Any],
) -> None:
    notes = [n["text"] for n in write(results["older_with_missing_data"])["note"]]
    assert notes[0] == writeback.MDT_STATEMENT
    assert sum("does not replace" in n for n in notes) == 1
    assert any(n.startswith("ELTR predictors") for n in notes)
    # Annotation.text is markdown: the unit's * _ [ ] must not turn into formatting.
    assert r"unrecognised unit 'cells\*x\_per \[field\]'" in notes[-1]


# ---------------------------------------------------------------- identifier


def test_writing_the_same_evaluation_twice_gives_the_same_identifier(
    results: dict[str, Any],
) -> None:
    result = results["transplant_candidate"]
    first = write(result)
    again = write(
        copy.deepcopy(result),
        occurred_at=WRITTEN_AT + timedelta(hours=3),
        device_reference="Device/other",
    )
    assert re.fullmatch(r"[0-9a-f]{64}", identifier_of(first))
    assert identifier_of(again) == identifier_of(first)
    assert conditional_create_query(again) == conditional_create_query(first)


def _criterion(result: dict[str, Any], set_index: int, criterion_id: str) -> dict[str, Any]:
    criteria = result["assessments"][set_index]["criteria"]
    found: dict[str, Any] = next(c for c in criteria if c["id"] == criterion_id)
    return found


CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "evidence value": lambda r: _criterion(r, 0, "low_grade")["evidence"][0].update(value=5),
    "evidence date": lambda r: _criterion(r, 0, "low_grade")["evidence"][0].update(
        date="2024-12-03"
    ),
    "evidence unit": lambda r: _criterion(r, 3, "no_portal_hypertension")["evidence"][0].update(
        unit="10*3/uL"
    ),
    "evidence reference": lambda r: _criterion(r, 0, "low_grade")["evidence"][0].update(
        reference="Observation/ki67-repeat"
    ),
    "more evidence": lambda r: _criterion(r, 0, "low_grade")["evidence"].append(
        {"reference": "Observation/grade", "value": "G1"}
    ),
    "criteria set version": lambda r: r["assessments"][2].update(version="1.0.0"),
    "criterion status": lambda r: _criterion(r, 3, "fit_for_surgery").update(status="unknown"),
    "patient": lambda r: r.update(patient="Patient/someone-else"),
    "evaluation date": lambda r: r.update(evaluationDate="2026-11-23"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_of_evidence_version_or_decision_gives_a_new_identifier(
    change: str, results: dict[str, Any]
) -> None:
    result = copy.deepcopy(results["transplant_candidate"])
    before = identifier_of(write(result))
    CHANGES[change](result)
    assert identifier_of(write(result)) != before


def test_wording_notes_and_engine_version_do_not_change_the_identifier(
    results: dict[str, Any],
) -> None:
    result = copy.deepcopy(results["transplant_candidate"])
    before = identifier_of(write(result))
    result["engine"]["version"] = "9.9.9"
    result["notes"] = []
    result["assessments"][0]["summary"] = "reworded"
    _criterion(result, 0, "low_grade")["reason"] = "reworded"
    assert identifier_of(write(result)) == before


def test_the_conditional_create_query_searches_the_identifier(results: dict[str, Any]) -> None:
    resource = write(results["young_undocumented"])
    assert conditional_create_query(resource) == (
        f"identifier=https://nelm-cds.github.io/fhir/sid/evaluation|{identifier_of(resource)}"
    )
    with pytest.raises(WritebackError, match="no identifier"):
        conditional_create_query({"resourceType": "RiskAssessment"})


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("overrides", "change", "message"),
    [
        ({"occurred_at": datetime(2026, 11, 22, 9, 15)}, None, "time zone"),
        ({"device_reference": "nelm-cds"}, None, "device_reference"),
        ({"device_reference": "Device/nelm-cds\n"}, None, "device_reference"),
        ({"liver_metastasis_reference": "Observation/ki67"}, None, "must reference a Condition"),
        ({}, lambda r: r.update(patient="patient 1"), "result.patient"),
        ({}, lambda r: r["assessments"][1].update(criteriaSet="milan"), "criteriaSet"),
        ({}, lambda r: r["assessments"][1].update(status="eligible?"), "status"),
        ({}, lambda r: r["assessments"][0].update(version=" "), "version"),
        ({}, lambda r: r.update(evaluationDate="22/11/2026"), "evaluationDate"),
    ],
    ids=[
        "naive-time",
        "bad-device",
        "trailing-newline",
        "condition-type",
        "bad-patient",
        "unknown-set",
        "bad-status",
        "blank-version",
        "bad-date",
    ],
)
def test_a_result_or_argument_that_cannot_be_written_is_refused_by_name(
    overrides: dict[str, Any],
    change: Callable[[dict[str, Any]], None] | None,
    message: str,
    results: dict[str, Any],
) -> None:
    result = copy.deepcopy(results["transplant_candidate"])
    if change is not None:
        change(result)
    with pytest.raises(WritebackError, match=message):
        write(result, **overrides)


def test_a_time_in_utc_is_written_with_its_offset(results: dict[str, Any]) -> None:
    moment = datetime(2026, 11, 22, 8, 15, 30, 123456, tzinfo=UTC)
    resource = write(results["young_undocumented"], occurred_at=moment)
    assert resource["occurrenceDateTime"] == "2026-11-22T08:15:30+00:00"


# ---------------------------------------------------------------- the CodeSystem


def test_the_codesystem_is_the_service_canonical_complete_and_active(
    codesystem: dict[str, Any],
) -> None:
    assert codesystem["url"] == ASSESSMENT_SYSTEM == writeback.ASSESSMENT_SYSTEM
    assert (codesystem["status"], codesystem["content"]) == ("active", "complete")
    codes = [c["code"] for c in codesystem["concept"]]
    assert len(codes) == len(set(codes)) == codesystem["count"]
    expected = ASSESSMENT_CODES | {"type-i", "type-ii", "type-iii", "nelm-eligibility"}
    expected |= {"nelm-eligibility-assessment"}
    assert set(codes) == expected | OUTCOME_CODES
    for concept in codesystem["concept"]:
        assert concept["display"].strip(), concept["code"]
        assert concept["definition"].strip(), concept["code"]


def test_every_assessment_code_the_mappers_read_is_defined(codesystem: dict[str, Any]) -> None:
    defined = {c["code"] for c in codesystem["concept"]}
    read = {
        code
        for code_set in OBSERVATION_CODES.values()
        for system, code in code_set.exact
        if system == ASSESSMENT_SYSTEM
    }
    assert read == ASSESSMENT_CODES
    assert read <= defined


@pytest.mark.parametrize("story", list(evaluations.STORIES))
def test_every_code_written_exists_in_the_codesystem_with_its_display(
    story: str, results: dict[str, Any], codesystem: dict[str, Any]
) -> None:
    displays = {c["code"]: c["display"] for c in codesystem["concept"]}
    resource = write(results[story])
    codings = [*resource["method"]["coding"]]
    codings += [c for p in resource["prediction"] for c in p["outcome"]["coding"]]
    for coding in codings:
        assert coding["system"] == codesystem["url"]
        assert displays.get(coding["code"]) == coding["display"], coding["code"]
