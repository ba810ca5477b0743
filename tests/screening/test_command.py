"""The ``screen`` and ``synth`` subcommands: outputs, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_synth_then_screen_write_every_output(tmp_path: Path) -> None:
    made = run(
        "synth", "--patients", "40", "--out", str(tmp_path / "in"), "--at", "2026-11-22", "--gzip"
    )
    assert made.returncode == 0, made.stderr
    assert "wrote 40 patients" in made.stdout
    done = run(
        "screen",
        "--input",
        str(tmp_path / "in"),
        "--out",
        str(tmp_path / "out"),
        "--at",
        "2026-11-22",
        "--workers",
        "2",  # worker processes with the shipped code sets (no site codes)
    )
    assert done.returncode == 0, done.stderr
    assert "screened 40 patients" in done.stdout
    assert "evaluating: " in done.stderr  # plain progress lines when not on a terminal
    for name in ("results.ndjson", "worklist.csv", "report.html", "report.pdf", "summary.json"):
        assert (tmp_path / "out" / name).stat().st_size > 0, name


def test_bad_input_gives_one_line_and_status_2(tmp_path: Path) -> None:
    for args in (
        ("screen", "--input", str(tmp_path / "none"), "--out", str(tmp_path / "o")),
        ("screen", "--input", str(tmp_path), "--out", str(tmp_path / "o")),
        ("screen", "--input", str(tmp_path), "--out", str(tmp_path / "o"), "--at", "2026-13-01"),
        ("synth", "--patients", "-3", "--out", str(tmp_path / "s")),
        ("synth", "--patients", "3", "--out", str(tmp_path / "s"), "--net-share", "2"),
    ):
        done = run(*args)
        assert done.returncode == 2, args
        assert done.stdout == ""
        assert done.stderr.startswith("error: "), done.stderr
        assert done.stderr.count("\n") == 1, done.stderr
