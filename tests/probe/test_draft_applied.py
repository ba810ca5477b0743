"""End to end: the probe's draft, once reviewed and applied, turns the local records'
unknowns into the decisions their standard-coded twins get."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.engine import evaluate_record
from service.fhir import Allowlist, FhirClient
from service.mappers.codes import DEFAULT_TERMINOLOGY
from service.mappers.site_codes import SiteCodesError, load_terminology
from tests.integration.sekmet import FhirServer
from tests.probe.conftest import ProbeRun

DEMO = [f"demo-{n}" for n in ("extrahepatic", "g3", "missing", "resection", "transplant")]


def _review(draft: dict[str, Any]) -> dict[str, Any]:
    """Accept every candidate, as a reviewer who checked them would."""

    def accept(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            entry["review"] = "accepted"

    for section in ("observations", "conditions", "procedures"):
        for entries in draft.get(section, {}).values():
            accept(entries)
    accept(draft.get("primary_sites", []))
    return draft


def _statuses(result: dict[str, Any]) -> dict[str, Any]:
    return {
        a["criteriaSet"]: (a["status"], {c["id"]: c["status"] for c in a["criteria"]})
        for a in result["assessments"]
    }


def test_the_unreviewed_draft_is_refused_naming_an_entry(probed: ProbeRun) -> None:
    path = probed.folder / "site-codes.draft.json"
    with pytest.raises(SiteCodesError, match=r"marked for review \('pending'\).*\"accepted\""):
        load_terminology(path)


def test_the_draft_marks_every_candidate_for_review(probed: ProbeRun) -> None:
    draft = probed.draft()
    entries = [
        e
        for s in ("observations", "conditions", "procedures")
        for es in draft.get(s, {}).values()
        for e in es
    ] + draft.get("primary_sites", [])
    assert entries
    assert {e["review"] for e in entries} == {"pending"}
    assert {e["code"] for e in draft["_unassigned"]} >= {"BILI-D", "MPV", "CREA"}
    assert "BILI-D" not in json.dumps({k: v for k, v in draft.items() if k != "_unassigned"})


def test_the_reviewed_draft_turns_unknowns_into_decisions(
    probed: ProbeRun, site_server: FhirServer, tmp_path: Path
) -> None:
    reviewed = tmp_path / "site-codes.json"
    reviewed.write_text(json.dumps(_review(probed.draft())), encoding="utf-8")
    site_terms = load_terminology(reviewed)
    at = datetime.now(UTC).date()
    base = site_server.base_url
    with FhirClient(base, allowlist=Allowlist([base])) as client:
        for patient in DEMO:
            standard = client.fetch_patient(patient, DEFAULT_TERMINOLOGY)
            expected = _statuses(evaluate_record(standard, at, terminology=DEFAULT_TERMINOLOGY))
            local_before = evaluate_record(
                client.fetch_patient(f"site-{patient}", DEFAULT_TERMINOLOGY),
                at,
                terminology=DEFAULT_TERMINOLOGY,
            )
            local_after = evaluate_record(
                client.fetch_patient(f"site-{patient}", site_terms), at, terminology=site_terms
            )
            unknown_before = sum(
                c["status"] == "unknown" for a in local_before["assessments"] for c in a["criteria"]
            )
            unknown_after = sum(
                c["status"] == "unknown" for a in local_after["assessments"] for c in a["criteria"]
            )
            assert unknown_after < unknown_before, patient
            assert _statuses(local_after) == expected, patient
