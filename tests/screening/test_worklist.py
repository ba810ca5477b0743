"""Worklist: identity, decisive missing data read from the result, ranking, safe CSV."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from service.screening.worklist import (
    decisive_missing,
    identity_of,
    mdt_decisions,
    missing_text,
    rank_key,
    write_worklist,
)


def _summary(pid: str, net: bool, **statuses: str) -> dict[str, Any]:
    base = {
        "milan-net": "ineligible",
        "enets": "ineligible",
        "unos": "ineligible",
        "resection": "ineligible",
    }
    return {
        "patient": f"Patient/{pid}",
        "net": net,
        "statuses": {**base, **statuses},
        "missing": [],
    }


def test_identity_comes_from_name_mr_identifier_and_birth_date() -> None:
    patient = {
        "name": [{"family": "Novak", "given": ["Peter", "J"]}],
        "identifier": [
            {"value": "X1"},
            {"type": {"coding": [{"code": "MR"}]}, "value": "MRN-1"},
        ],
        "birthDate": "1970-02-03",
    }
    assert identity_of(patient) == {
        "name": "Peter J Novak",
        "mrn": "MRN-1",
        "birthDate": "1970-02-03",
    }
    assert identity_of({"name": "garbage", "identifier": [1]}) == {
        "name": "",
        "mrn": "",
        "birthDate": "",
    }


def test_decisive_missing_data_is_the_results_ranked_to_record_list() -> None:
    result = {
        "decisiveData": {
            "toRecord": [
                {
                    "key": "hepatic-tumour-burden",
                    "label": "tumour burden",
                    "couldChange": ["milan-net", "enets"],
                    "decides": ["milan-net"],
                    "askedBy": [],
                },
                {"key": "x", "label": 3},
                {"key": "flr", "label": "FLR", "couldChange": ["resection"], "decides": []},
            ],
            "wouldNotChange": [{"key": "ecog", "label": "ECOG"}],
        }
    }
    items = decisive_missing(result)
    assert [i["item"] for i in items] == ["tumour burden", "FLR"]
    assert items[0]["sets"] == ["milan-net", "enets"]
    assert missing_text(items) == "tumour burden (decides milan-net); FLR"
    assert decisive_missing({"assessments": []}) == []


def test_rank_puts_net_then_eligible_then_undecided_first() -> None:
    rows = [
        _summary("a", False, **{"milan-net": "eligible"}),
        _summary("b", True),
        _summary("c", True, resection="indeterminate"),
        _summary("d", True, enets="eligible"),
        _summary("e", True, enets="eligible", unos="eligible"),
    ]
    assert [r["patient"][-1] for r in sorted(rows, key=rank_key)] == ["e", "d", "c", "b", "a"]


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted(tmp_path: Path) -> None:
    row = _summary("x", True)
    row["name"] = '=HYPERLINK("http://evil")'
    row["missing"] = [{"item": "+1", "sets": []}]
    path = tmp_path / "w.csv"
    assert write_worklist(path, [row, {"patient": "Patient/failed", "error": "no Patient"}]) == 1
    with path.open(encoding="utf-8") as handle:
        written = next(csv.DictReader(handle))
    assert written["name"].startswith("'=")
    assert written["decisive_missing_data"] == "'+1"


def test_an_mdt_judgement_ends_the_cell_and_sets_can_be_named_for_people() -> None:
    result = {
        "decisiveData": {
            "toRecord": [
                {"key": "flr", "label": "FLR", "couldChange": ["enets"], "decides": ["enets"]}
            ],
            "mdtDecisions": [
                {"key": "mdt-g3", "label": "MDT decision on resecting G3 disease"},
                {"key": "bad", "label": None},
            ],
        }
    }
    mdt = mdt_decisions(result)
    assert mdt == ["MDT decision on resecting G3 disease"]
    items = decisive_missing(result)
    assert missing_text(items, mdt) == (
        "FLR (decides enets); MDT to decide: MDT decision on resecting G3 disease"
    )
    assert missing_text(items, (), {"enets": "ENETS"}) == "FLR (decides ENETS)"
    assert missing_text([], mdt) == "MDT to decide: MDT decision on resecting G3 disease"
    assert mdt_decisions({"assessments": []}) == []


def test_a_deceased_patient_sorts_after_the_living_candidates() -> None:
    dead = {**_summary("a", True, **{"milan-net": "eligible"}), "deceased": True}
    rows = [dead, _summary("b", True), _summary("c", False)]
    assert [r["patient"][-1] for r in sorted(rows, key=rank_key)] == ["b", "a", "c"]


def test_a_set_left_to_the_mdt_says_so_in_the_summary_and_the_worklist(tmp_path: Path) -> None:
    """The demo G3 patient: resection undecided, partly on the MDT's G3 decision."""
    import json
    from datetime import date

    from service.criteria import EvaluationConfig
    from service.mappers.site_codes import load_terminology
    from service.screening.evaluate import evaluate_group

    demo = Path(__file__).resolve().parents[2] / "service" / "data" / "demo" / "demo-g3.json"
    resources = [e["resource"] for e in json.loads(demo.read_text(encoding="utf-8"))["entry"]]
    group = [(r["resourceType"] == "Patient", json.dumps(r)) for r in resources]
    group.sort(key=lambda row: not row[0])
    outcome = evaluate_group(
        "demo-g3", group, date(2026, 11, 22), load_terminology(None), EvaluationConfig()
    )
    assert outcome.summary["statuses"]["resection"] == "indeterminate"
    assert outcome.summary["mdt"] == ["MDT decision on resecting G3 disease"]
    write_worklist(tmp_path / "w.csv", [outcome.summary])
    with (tmp_path / "w.csv").open(encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["decisive_missing_data"].endswith(
        "; MDT to decide: MDT decision on resecting G3 disease"
    )


def test_the_summary_keeps_the_record_s_names_for_the_written_words() -> None:
    """--write-back works from stored results, without the record: the summary keeps the
    names the record gives the codes, so its RiskAssessment says what the API's does."""
    import json
    from datetime import date

    from service.criteria import EvaluationConfig
    from service.mappers.site_codes import load_terminology
    from service.screening.evaluate import evaluate_group
    from service.writeback import build_risk_assessment

    demo = Path(__file__).resolve().parents[2] / "service" / "data" / "demo"
    bundle = json.loads((demo / "demo-extrahepatic.json").read_text(encoding="utf-8"))
    resources = [e["resource"] for e in bundle["entry"]]
    group = sorted(
        ((r["resourceType"] == "Patient", json.dumps(r)) for r in resources),
        key=lambda row: not row[0],
    )
    outcome = evaluate_group(
        "demo-extrahepatic", group, date(2026, 11, 22), load_terminology(None), EvaluationConfig()
    )
    assert outcome.summary["codeNames"]["C7B.03"] == "Secondary carcinoid tumors of bone"
    assert outcome.result is not None
    resource = build_risk_assessment(
        json.loads(outcome.result),
        liver_metastasis_reference=None,
        code_names=outcome.summary["codeNames"],
    )
    assert "Secondary carcinoid tumors of bone, C7B.03" in resource["prediction"][0]["rationale"]
