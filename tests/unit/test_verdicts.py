"""Pathway verdicts in clinical words (service.verdicts), shared by card, page and note."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from service.criteria.data_items import item
from service.demo_store import DemoStore
from service.engine import evaluate_record
from service.verdicts import clinical_text, pathway_verdicts, short_reason, to_record_text
from service.writeback import build_risk_assessment

AT = date(2026, 11, 22)


def demo(patient_id: str) -> dict[str, Any]:
    record = DemoStore.load().record(patient_id)
    assert record is not None
    return evaluate_record(record, AT)


def sentences(patient_id: str) -> list[str]:
    return [v.sentence for v in pathway_verdicts(demo(patient_id))]


def test_an_eligible_pathway_names_its_sets() -> None:
    assert sentences("demo-transplant")[0] == (
        "Liver transplantation: eligible under Milan-NET, ENETS and UNOS."
    )


def test_a_closed_pathway_names_the_finding_that_closes_most_sets_without_dates() -> None:
    # since criteria 1.1 a G3 NET closes transplantation and leaves resection to the MDT
    assert sentences("demo-g3")[0] == (
        "Liver transplantation: not eligible — Ki-67 28 % exceeds 20 % (G3)."
    )
    assert sentences("demo-resection")[0] == (
        "Liver transplantation: not eligible — age 65 years is 55 or older."
    )


def test_an_undecided_pathway_names_the_most_decisive_item_or_the_mdt_decision() -> None:
    result = demo("demo-missing")
    first = item(result["decisiveData"]["toRecord"][0]["key"]).in_sentence
    assert sentences("demo-missing")[0] == f"Liver transplantation: undecided — record: {first}."
    assert sentences("demo-extrahepatic")[1] == (
        "Liver resection: undecided — needs the MDT judgement on liver-dominant disease with "
        "limited extrahepatic spread."
    )


@pytest.mark.parametrize(
    ("reason", "short"),
    [
        ("Ki-67 28 % (2026-01-10) exceeds 20 % (G3)", "Ki-67 28 % exceeds 20 % (G3)"),
        (
            "platelets 85 10*9/L (2026-11-16) below 100 10*9/L",
            "platelets 85 ×10⁹/L below 100 ×10⁹/L",
        ),
        (
            "primary_resected: MDT assessment (2026-01-01): primary not resected; more",
            "MDT assessment: primary not resected",
        ),
        (
            "extrahepatic metastasis recorded: extrahepatic metastasis (C7B.03, 2026-01-10)",
            "extrahepatic metastasis recorded (C7B.03)",
        ),
        (
            "primary in ileum (C7A.012, Condition/primary-1) drains to the portal system",
            "primary in ileum (C7A.012) drains to the portal system",
        ),
        ("a finding (000, 001 Fig. 2) noted", "a finding noted"),
    ],
)
def test_a_short_reason_keeps_the_finding_and_drops_dates_ids_and_file_numbers(
    reason: str, short: str
) -> None:
    assert short_reason(reason) == short


def test_clinical_text_keeps_dates_but_not_references_or_file_numbers() -> None:
    text = "Ki-67 9 % (2024-03-01, Observation/k1); see (003)"
    assert clinical_text(text) == "Ki-67 9 % (2024-03-01); see"


def test_the_risk_assessment_note_carries_the_same_ranking() -> None:
    result = demo("demo-missing")
    resource = build_risk_assessment(
        result, occurred_at=datetime(2026, 11, 22, tzinfo=UTC), liver_metastasis_reference=None
    )
    text = to_record_text(result)
    assert text is not None
    assert text.startswith("What would change the verdict, most decisive first: 1. ")
    notes = [note["text"] for note in resource["note"]]
    assert any(note.startswith("What would change the verdict") for note in notes)
    labels = [item["label"] for item in result["decisiveData"]["toRecord"]]
    positions = [text.index(label) for label in labels]
    assert positions == sorted(positions)


def test_no_ranking_note_when_nothing_could_change_a_verdict() -> None:
    assert to_record_text(demo("demo-transplant")) is None


def test_the_record_s_names_are_written_as_fhir_strings() -> None:
    """A display text from the record is cleaned of control characters before it is put
    into the rationale and notes (a FHIR string may not carry them)."""
    result = demo("demo-extrahepatic")
    resource = build_risk_assessment(
        result,
        liver_metastasis_reference=None,
        code_names={"C7B.03": "Secondary carcinoid\x00 tumors\n of bone", "C25.4": "\x07"},
    )
    rationales = " ".join(p["rationale"] for p in resource["prediction"])
    assert "(Secondary carcinoid tumors of bone, C7B.03, " in rationales
    assert not any(ord(c) < 32 for c in rationales)
