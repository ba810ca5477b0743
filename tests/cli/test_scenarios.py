"""Every scenario bundle, run through the CLI, gives the expected result set by set and
criterion by criterion, and validates against the result schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import SCENARIOS

SCENARIO_FILES = sorted(
    p for p in SCENARIOS.glob("*.json") if not p.name.endswith(".expected.json")
)


def expectation(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8")
    )
    return result


def run_cli(path: Path, at: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "service", "evaluate", "--bundle", str(path), "--at", at],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    output: dict[str, Any] = json.loads(completed.stdout)
    return output


def test_there_are_scenarios_to_run() -> None:
    assert len(SCENARIO_FILES) >= 15


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_scenario_matches_its_expectation(
    path: Path, result_validator: Draft202012Validator
) -> None:
    expected = expectation(path)
    result = run_cli(path, expected["evaluationDate"])
    errors = sorted(result_validator.iter_errors(result), key=str)
    assert not errors, errors[0].message
    assert result["patient"] == expected["patient"]
    got = {
        a["criteriaSet"]: {
            "status": a["status"],
            "criteria": {c["id"]: c["status"] for c in a["criteria"]},
        }
        for a in result["assessments"]
    }
    assert got == expected["sets"], json.dumps(
        {
            a["criteriaSet"]: {c["id"]: c["reason"] for c in a["criteria"]}
            for a in result["assessments"]
        },
        indent=1,
    )
    warned = {w.get("reference") for w in result["warnings"]}
    assert set(expected.get("warningReferences", [])) <= warned
    for fragment in expected.get("notesContaining", []):
        assert any(fragment in note for note in result["notes"]), fragment
