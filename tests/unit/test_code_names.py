"""Codes named as the record names them: display text beside the code, never instead."""

from __future__ import annotations

from typing import Any

from service.code_names import code_names, name_codes
from service.mappers import record_from_bundle


def _record(*resources: dict[str, Any]) -> Any:
    patient = {"resourceType": "Patient", "id": "p"}
    entries = [{"resource": r} for r in (patient, *resources)]
    return record_from_bundle({"resourceType": "Bundle", "type": "collection", "entry": entries})


def _condition(cid: str, code: str, display: str | None = None, text: str | None = None) -> Any:
    coding: dict[str, Any] = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}
    if display is not None:
        coding["display"] = display
    concept: dict[str, Any] = {"coding": [coding]}
    if text is not None:
        concept["text"] = text
    return {
        "resourceType": "Condition",
        "id": cid,
        "subject": {"reference": "Patient/p"},
        "code": concept,
    }


def _result(*evidence: dict[str, Any]) -> dict[str, Any]:
    return {"assessments": [{"criteria": [{"evidence": list(evidence)}]}]}


def test_a_code_gets_the_display_of_its_own_coding_then_the_concept_text() -> None:
    record = _record(
        _condition("bone", "C7B.03", "Secondary carcinoid tumors of bone"),
        _condition("node", "C77.2", text="Mesenteric node metastasis"),
        _condition("bare", "C7B.04"),
    )
    result = _result(
        {"reference": "Condition/bone", "value": "C7B.03"},
        {"reference": "Condition/node", "value": "C77.2"},
        {"reference": "Condition/bare", "value": "C7B.04"},
        {"reference": "Observation/x", "value": "12"},
    )
    assert code_names(result, record) == {
        "C7B.03": "Secondary carcinoid tumors of bone",
        "C77.2": "Mesenteric node metastasis",
    }
    assert code_names(result, None) == {}


def test_a_sentence_keeps_the_code_and_never_repeats_a_name_it_says() -> None:
    names = {"C7B.03": "Secondary carcinoid tumors of bone", "C7A.012": "ileum"}
    assert name_codes("extrahepatic metastasis recorded (C7B.03)", names) == (
        "extrahepatic metastasis recorded (Secondary carcinoid tumors of bone, C7B.03)"
    )
    assert name_codes("primary in the ileum (C7A.012)", names) == ("primary in the ileum (C7A.012)")
    assert name_codes("no code here", names) == "no code here"


def test_a_dated_mention_is_named_and_only_the_first_mention_of_a_code() -> None:
    names = {"C7B.03": "Secondary carcinoid tumors of bone"}
    text = "metastasis (C7B.03, 2026-09-01). Again (C7B.03, 2026-09-01); and (C7B.031)"
    assert name_codes(text, names) == (
        "metastasis (Secondary carcinoid tumors of bone, C7B.03, 2026-09-01). "
        "Again (C7B.03, 2026-09-01); and (C7B.031)"
    )
    assert name_codes("no mention of C7B.03 in brackets", names) == (
        "no mention of C7B.03 in brackets"
    )


def test_a_display_put_in_is_not_searched_again_for_another_code() -> None:
    names = {"C7B.03": "Y (C7B.8)", "C7B.8": "Z"}
    assert name_codes("x (C7B.03); then (C7B.8)", names) == (
        "x (Y (C7B.8), C7B.03); then (Z, C7B.8)"
    )


def test_a_long_display_is_cut() -> None:
    from service.code_names import MAX_DISPLAY

    record = _record(_condition("bone", "C7B.03", "bone " * 60))
    result = _result({"reference": "Condition/bone", "value": "C7B.03"})
    name = code_names(result, record)["C7B.03"]
    assert len(name) == MAX_DISPLAY
    assert name.endswith("bone…")
