"""``python -m service evaluate`` as a process: complete output through a pipe, the
right exit status, and the same result as in process, although it ends without the
interpreter's clean-up (service/__main__.py, issue 12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import _Formatter, _terminal_columns, main

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "tests" / "fixtures" / "scenarios"


def _a_scenario() -> Path:
    return BUNDLE / "age_exactly_55.json"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_the_whole_result_comes_through_the_pipe(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = _a_scenario()
    completed = _run("evaluate", "--bundle", str(scenario), "--at", "2026-11-22")
    assert completed.returncode == 0, completed.stderr
    assert main(["evaluate", "--bundle", str(scenario), "--at", "2026-11-22"]) == 0
    in_process = capsys.readouterr().out
    assert completed.stdout.decode("utf-8") == in_process
    assert json.loads(completed.stdout)["assessments"]


def test_bad_input_still_ends_with_status_2_and_one_line() -> None:
    completed = _run("evaluate", "--bundle", "/nonexistent/bundle.json")
    assert completed.returncode == 2
    assert completed.stdout == b""
    assert completed.stderr.decode().strip() == "error: /nonexistent/bundle.json: no such file"


def test_an_exit_handler_someone_registered_still_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    hook = tmp_path / "sitecustomize.py"
    hook.write_text(
        "import atexit, pathlib\n"
        f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'yes')\n",
        encoding="utf-8",
    )
    path = os.pathsep.join([str(tmp_path), str(ROOT)])
    completed = _run("evaluate", "--bundle", str(_a_scenario()), PYTHONPATH=path)
    assert completed.returncode == 0, completed.stderr
    assert marker.read_text(encoding="utf-8") == "yes"


@pytest.mark.parametrize(("columns", "expected"), [("120", 120), ("0", 80), ("wide", 80)])
def test_help_is_as_wide_as_shutil_would_make_it(
    monkeypatch: pytest.MonkeyPatch, columns: str, expected: int
) -> None:
    import shutil

    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr(os, "get_terminal_size", lambda *_: os.terminal_size((0, 24)))
    assert _terminal_columns() == expected == shutil.get_terminal_size().columns
    assert _Formatter("prog")._width == expected - 2
