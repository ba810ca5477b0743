"""The CLI on numbers no laboratory value can be: exit 0 with the evaluation, the hostile
values uninterpretable and warned about; never a traceback (issue 9 item 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.hostile import assert_uninterpretable, bundle_text


def run_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "evaluate", "--bundle", str(path), "--at", "2026-11-22"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("bundle_type", ["collection", "searchset"])
def test_hostile_numbers_give_an_evaluation_with_warnings_and_exit_0(
    tmp_path: Path, bundle_type: str
) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(bundle_text(bundle_type=bundle_type), encoding="utf-8")
    completed = run_cli(path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert_uninterpretable(json.loads(completed.stdout))


def test_invalid_json_still_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"resourceType": "Bundle", "entry": [', encoding="utf-8")
    completed = run_cli(path)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert len(completed.stderr.strip().splitlines()) == 1
