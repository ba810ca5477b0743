"""Worklist: identity, decisive missing data read from the result, ranking, safe CSV."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from service.screening.worklist import (
    decisive_missing,
    identity_of,
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
