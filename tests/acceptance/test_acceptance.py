"""Every acceptance case, run through the command line, gives the answer criteria.md v1.1
asks for: set by set, criterion by criterion, and on warnings.

The cases (``cases/*.json``) and their expectations were written from the spec alone, not
from the engine (see README.md here). By default each case runs through the CLI's own entry
point in this process (``service.cli.main``, the function ``python -m service`` calls), which
keeps the suite fast; set ``NELM_ACCEPTANCE_SUBPROCESS=1`` to run each case as
``python -m service evaluate --bundle F --at DATE`` in a child process, as the checkers do.
A failure lists every difference of the case at once.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from service.cli import main as cli_main

CASES = Path(__file__).resolve().parent / "cases"
CASE_FILES = sorted(p for p in CASES.glob("*.json") if not p.name.endswith(".expected.json"))
SUBPROCESS = os.environ.get("NELM_ACCEPTANCE_SUBPROCESS") == "1"


def expectation(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8")
    )
    return document


def run_subprocess(path: Path, at: str) -> tuple[int, str, str]:
    completed = subprocess.run(
        [sys.executable, "-m", "service", "evaluate", "--bundle", str(path), "--at", at],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return completed.returncode, completed.stdout, completed.stderr


def run_in_process(path: Path, at: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli_main(["evaluate", "--bundle", str(path), "--at", at])
    return status, out.getvalue(), err.getvalue()


def evaluate(path: Path, at: str, *, subprocess_run: bool = SUBPROCESS) -> dict[str, Any]:
    status, stdout, stderr = (run_subprocess if subprocess_run else run_in_process)(path, at)
    assert status == 0, f"exit status {status}: {stderr}"
    assert stderr == ""
    result: dict[str, Any] = json.loads(stdout)
    return result


# ---------------------------------------------------------------- comparison


def _criteria(assessment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in assessment.get("criteria", [])}


def _criterion_anywhere(result: dict[str, Any], criterion_id: str) -> list[dict[str, Any]]:
    return [
        c for a in result["assessments"] for c in a.get("criteria", []) if c["id"] == criterion_id
    ]


def _text(criterion: dict[str, Any]) -> str:
    return json.dumps(
        {k: criterion.get(k) for k in ("reason", "evidence", "needs")}, ensure_ascii=False
    ).lower()


def set_differences(expected: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """Return one line per difference in set versions, set statuses and criteria."""
    lines: list[str] = []
    got_sets = {a.get("criteriaSet"): a for a in result["assessments"]}
    for set_id, want in expected["sets"].items():
        got = got_sets.get(set_id)
        if got is None:
            lines.append(f"{set_id}: missing from the result")
            continue
        if got.get("version") != want["version"]:
            lines.append(f"{set_id}: version {got.get('version')!r}, expected {want['version']!r}")
        if got.get("status") != want["status"]:
            lines.append(f"{set_id}: set status {got.get('status')}, expected {want['status']}")
        got_criteria = _criteria(got)
        for criterion_id, status in want["criteria"].items():
            actual = got_criteria.get(criterion_id)
            if actual is None:
                lines.append(f"{set_id}.{criterion_id}: missing, expected {status}")
            elif actual["status"] != status:
                lines.append(
                    f"{set_id}.{criterion_id}: got {actual['status']}, expected {status}"
                    f" -- reason: {actual.get('reason')!r}; needs: {actual.get('needs')}"
                )
        for extra in sorted(set(got_criteria) - set(want["criteria"])):
            lines.append(f"{set_id}.{extra}: not a criterion of {set_id} in criteria.md v1.1")
    return lines


def result_rule_differences(result: dict[str, Any]) -> list[str]:
    """Return breaches of criteria.md section 7 "Result": needs and evidence by status."""
    lines = []
    for assessment in result["assessments"]:
        for c in assessment.get("criteria", []):
            where = f"{assessment.get('criteriaSet')}.{c['id']}"
            if c["status"] == "unknown" and not c.get("needs"):
                lines.append(f"{where}: unknown with empty needs")
            if c["status"] != "unknown" and c.get("needs"):
                lines.append(f"{where}: {c['status']} with non-empty needs {c['needs']}")
            if c["status"] != "unknown" and not c.get("evidence"):
                lines.append(f"{where}: {c['status']} without evidence")
    return lines


def _warning_matches(want: dict[str, Any], warning: dict[str, Any]) -> bool:
    if want["reference"] is not None and warning.get("reference") != want["reference"]:
        return False
    message = str(warning.get("message", "")).lower()
    return all(any(p.lower() in message for p in group) for group in want["phrases"])


def warning_differences(expected: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """Return expected warnings not given and (when exact) warnings not expected."""
    warnings = result["warnings"]
    lines = []
    unmatched = list(warnings)
    for want in expected["warnings"]:
        hits = [w for w in warnings if _warning_matches(want, w)]
        if not hits:
            lines.append(
                f"warning missing: reference {want['reference']} with {want['phrases']}"
                f" (warnings given: {warnings})"
            )
        unmatched = [w for w in unmatched if w not in hits]
    if expected["exactWarnings"]:
        lines += [f"unexpected warning: {w}" for w in unmatched]
    return lines


def detail_differences(expected: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """Return differences in notes, in what criteria mention, and in evidence references."""
    lines = []
    notes = [n.lower() for n in result["notes"]]
    for group in expected["notesContaining"]:
        if not any(p.lower() in n for n in notes for p in group):
            lines.append(f"no note contains any of {group} (notes: {result['notes']})")
    for group in expected["notesNotContaining"]:
        bad = [n for n in result["notes"] if any(p.lower() in n.lower() for p in group)]
        if bad:
            lines.append(f"notes should not contain any of {group}: {bad}")
    for mention in expected["mentions"]:
        for c in _criterion_anywhere(result, mention["criterion"]):
            if not any(t.lower() in _text(c) for t in mention["texts"]):
                lines.append(
                    f"{mention['criterion']}: reason/evidence/needs name none of "
                    f"{mention['texts']} ({_text(c)})"
                )
    for want in expected["evidenceReferences"]:
        for c in _criterion_anywhere(result, want["criterion"]):
            refs = [e.get("reference") for e in c.get("evidence", [])]
            if want["reference"] not in refs:
                lines.append(f"{want['criterion']}: evidence {refs} lacks {want['reference']}")
    return lines


# ---------------------------------------------------------------- tests


def test_there_are_enough_cases_and_each_pins_a_sentence() -> None:
    assert len(CASE_FILES) >= 60
    for path in CASE_FILES:
        expected = expectation(path)
        assert expected["case"] == path.stem
        assert "§" in expected["pins"] or "terminology" in expected["pins"], path.name


def test_the_command_line_in_a_child_process_agrees_with_the_in_process_run() -> None:
    path = CASES / "base-transplant.json"
    at = expectation(path)["evaluationDate"]
    assert evaluate(path, at, subprocess_run=True) == evaluate(path, at, subprocess_run=False)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_case_gives_the_answer_the_spec_asks_for(
    path: Path, result_validator: Draft202012Validator
) -> None:
    expected = expectation(path)
    result = evaluate(path, expected["evaluationDate"])
    schema_errors = [e.message for e in result_validator.iter_errors(result)]
    lines = [f"schema: {m}" for m in schema_errors[:3]]
    if result.get("patient") != expected["patient"]:
        lines.append(f"patient {result.get('patient')}, expected {expected['patient']}")
    if not schema_errors:
        lines += set_differences(expected, result)
        lines += result_rule_differences(result)
        lines += warning_differences(expected, result)
        lines += detail_differences(expected, result)
    assert not lines, f"{path.stem} ({expected['pins']}):\n  " + "\n  ".join(lines)


def test_committed_cases_are_what_the_builder_writes() -> None:
    from tests.acceptance.build_cases import all_cases

    cases = all_cases()
    assert sorted(c.name for c in cases) == sorted(p.stem for p in CASE_FILES)
    for case in cases:
        committed = json.loads((CASES / f"{case.name}.json").read_text(encoding="utf-8"))
        assert committed == case.bundle(), case.name
        assert expectation(CASES / f"{case.name}.json") == case.expectation(), case.name
