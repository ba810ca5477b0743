"""The draft's format, and the site-codes loader's review rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.mappers.codes import DEFAULT_TERMINOLOGY
from service.mappers.site_codes import SiteCodesError, load_terminology, terminology_from_mapping
from service.probe.draft import draft_site_codes
from service.probe.inventory import unmapped_codes
from service.probe.render import render_html

LOCAL = "urn:oid:1.2.3"


def _resource(kind: str, code: str, display: str, patient: str = "p") -> dict[str, Any]:
    return {
        "resourceType": kind,
        "code": {"coding": [{"system": LOCAL, "code": code, "display": display}]},
        "subject": {"reference": f"Patient/{patient}"},
    }


def _draft() -> dict[str, Any]:
    records = {
        "p": [
            _resource("Observation", "B1", "Bilirubin, total"),
            _resource("Observation", "X9", "Creatinine"),
            _resource("Condition", "N1", "NET of ileum"),
        ],
        "q": [_resource("Observation", "B1", "Bilirubin, total", "q")],
    }
    return draft_site_codes(unmapped_codes(records, DEFAULT_TERMINOLOGY), source="test")


def test_candidates_go_to_their_section_marked_pending() -> None:
    draft = _draft()
    (bilirubin,) = draft["observations"]["bilirubin"]
    assert bilirubin == {
        "system": LOCAL,
        "code": "B1",
        "review": "pending",
        "display": "Bilirubin, total",
        "seen": "2 Observations, 2 patients",
        "why": "the text says 'bilirubin'",
    }
    (site,) = draft["primary_sites"]
    assert (site["site"], site["drainage"], site["review"]) == ("ileum", "portal", "pending")
    assert [u["code"] for u in draft["_unassigned"]] == ["X9"]
    assert "review" not in draft["_unassigned"][0]


def test_a_pending_entry_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "draft.json"
    path.write_text(json.dumps(_draft()))
    with pytest.raises(
        SiteCodesError,
        match=r"observations\.bilirubin\[0\]: urn:oid:1\.2\.3\|B1 "
        r"\(Bilirubin, total\) is marked for review",
    ):
        load_terminology(path)


def test_accepted_entries_are_applied_and_notes_ignored() -> None:
    draft = _draft()
    draft["observations"]["bilirubin"][0]["review"] = "accepted"
    draft["primary_sites"][0]["review"] = "accepted"
    terminology = terminology_from_mapping(draft)
    assert terminology.observation_input({"coding": [{"system": LOCAL, "code": "B1"}]}) == (
        "bilirubin",
        (LOCAL, "B1"),
    )
    assert terminology.primary_sites[(LOCAL, "N1")].site == "ileum"


@pytest.mark.parametrize("value", ["pending", "rejected", "", None, True])
def test_only_accepted_applies(value: object) -> None:
    mapping = {"observations": {"ki67": [{"system": LOCAL, "code": "K", "review": value}]}}
    with pytest.raises(SiteCodesError, match="marked for review"):
        terminology_from_mapping(mapping)


def test_unknown_sections_are_still_refused_but_underscore_notes_are_not() -> None:
    terminology_from_mapping({"_about": "notes", "_unassigned": []})
    with pytest.raises(SiteCodesError, match="unknown section"):
        terminology_from_mapping({"about": "not a note"})


def test_the_html_report_escapes_the_sites_texts() -> None:
    records = {"p": [_resource("Observation", "B1", "<script>alert(1)</script> bilirubin")]}
    codes = unmapped_codes(records, DEFAULT_TERMINOLOGY)
    from service.probe.report import build_report
    from service.probe.sampling import Sample

    report = build_report(
        header={
            "version": "t",
            "fhirBase": "https://x",
            "evaluationDate": "2026-01-01",
            "generated": "now",
        },
        statement={},
        capability=[],
        searches=[],
        write=[],
        sample=Sample(["p"]),
        requested=1,
        usages=[],
        codes=codes,
        terminology=DEFAULT_TERMINOLOGY,
        draft_path=None,
    )
    html = render_html(report)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
