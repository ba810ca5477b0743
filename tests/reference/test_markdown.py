"""docs/criteria.md is generated from the criteria, and the committed file is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from service.criteria import DEFAULT_SETS
from service.criteria.documentation import rule_text
from service.criteria.sources import SOURCES, cite, full_citation
from service.reference import criteria_markdown, criteria_reference

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "criteria.md"
REGENERATE = ".venv/bin/python -m service criteria --markdown --output docs/criteria.md"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "criteria", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def test_the_committed_criteria_document_equals_the_generated_one() -> None:
    generated = criteria_markdown(criteria_reference())
    assert COMMITTED.read_text(encoding="utf-8") == generated, (
        f"docs/criteria.md is out of date: regenerate it with `{REGENERATE}`"
    )


def test_the_document_shows_every_set_criterion_rule_and_citation() -> None:
    text = criteria_markdown(criteria_reference())
    for criteria_set in DEFAULT_SETS:
        assert f"## {criteria_set.title}" in text
        assert f"set `{criteria_set.id}` · version {criteria_set.version}" in text
        for criterion in criteria_set.criteria:
            assert f"### {criterion.label} (`{criterion.id}`)" in text
            rules = rule_text(criterion)
            for rule in (rules.met, rules.not_met, rules.unknown, cite(criterion.rationale)):
                assert rule in text
    for seed in SOURCES:
        assert full_citation(seed, with_note=False) in text
    assert text.count("Source attributes (ONC HTI-1, 45 CFR 170.315(b)(11)(iv)(A))") == 4


def test_the_document_cites_reviews_by_name_never_by_file_number() -> None:
    text = criteria_markdown(criteria_reference())
    for criteria_set in DEFAULT_SETS:
        assert criteria_set.source not in text
    assert "Source: Machairas et al. (Table 2, Milan)" in text


def test_the_command_prints_the_document() -> None:
    result = run_cli("--markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout == criteria_markdown(criteria_reference())
    assert result.stderr == ""


def test_the_command_writes_the_document_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "criteria.md"
    result = run_cli("--markdown", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == criteria_markdown(criteria_reference())


def test_the_command_without_a_format_or_with_an_unwritable_file_exits_2(tmp_path: Path) -> None:
    missing = run_cli()
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert "--markdown" in missing.stderr
    unwritable = run_cli("--markdown", "--output", str(tmp_path / "no-such-dir" / "x.md"))
    assert unwritable.returncode == 2
    assert unwritable.stdout == ""
    assert unwritable.stderr.count("\n") == 1
    assert "cannot be written" in unwritable.stderr
