"""Which earlier assessments a new one supersedes (pure), and the demo store doing it."""

from __future__ import annotations

from typing import Any

from service.demo_store import DemoStore
from service.sources import DemoSource
from service.supersession import plan_supersession
from service.writeback import EVALUATION_IDENTIFIER_SYSTEM


def _assessment(
    rid: str, day: str, status: str = "final", *, ours: bool = True, patient: str = "p"
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": rid,
        "status": status,
        "subject": {"reference": f"Patient/{patient}"},
        "occurrenceDateTime": day,
        "note": [{"text": "MDT statement"}],
        "prediction": [{"outcome": {"text": "x"}, "rationale": "y"}],
    }
    if ours:
        resource["identifier"] = [{"system": EVALUATION_IDENTIFIER_SYSTEM, "value": rid}]
    return resource


def test_only_the_services_current_earlier_assessments_of_the_patient_are_superseded() -> None:
    new = _assessment("new", "2026-11-22")
    existing = [
        _assessment("old", "2026-11-01"),
        _assessment("same-day", "2026-11-22", "preliminary"),
        _assessment("already", "2026-10-01", "amended"),
        _assessment("foreign", "2026-10-01", ours=False),
        _assessment("other-patient", "2026-10-01", patient="q"),
        _assessment("later", "2026-12-01"),
    ]
    plan = plan_supersession(new, existing)
    assert [a["id"] for a in plan.amended] == ["old", "same-day"]
    assert {a["status"] for a in plan.amended} == {"amended"}
    notes = [n["text"] for n in plan.resource["note"]]
    assert notes[0] == "MDT statement"
    assert "Supersedes the assessment as of 2026-11-01 (RiskAssessment/old)." in notes
    assert (
        "A later assessment remains the current one: the assessment as of 2026-12-01 "
        "(RiskAssessment/later)." in notes
    )
    assert "Supersedes the assessment as of 2026-11-01" in plan.resource["text"]["div"]
    assert plan.amended[0]["note"][1]["text"].startswith("Superseded by the assessment as of")
    assert existing[0]["status"] == "final", "the stored resources are not changed in place"


def test_the_demo_store_keeps_both_and_counts_versions() -> None:
    source = DemoSource(DemoStore.load())
    source.write_risk_assessment(_assessment("a", "2026-11-01"))
    written = source.write_risk_assessment(_assessment("b", "2026-11-22"))
    assert written.superseded == ("RiskAssessment/a",)
    assert written.location is None
    older = source._written["a"]
    assert (older["status"], older["meta"]["versionId"]) == ("amended", "2")
