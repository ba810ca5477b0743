"""service.records: msgspec imported once, without typing_extensions (issue 12: with it,
inspect came too, 10-15 ms of every CLI start), and only from there."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from service.criteria.inputs import Warning
from service.records import replace

ROOT = Path(__file__).resolve().parents[2]


def _printed(code: str) -> str:
    """Run ``code`` in a fresh interpreter and return what it printed."""
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return run.stdout.strip()


def test_only_service_records_imports_msgspec() -> None:
    importing = [
        path.relative_to(ROOT).as_posix()
        for folder in ("service", "tests", "tools", "benchmarks")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"^\s*(import msgspec|from msgspec)", path.read_text("utf-8"), re.M)
    ]
    assert importing == ["service/records.py"]


def test_the_criteria_need_nothing_outside_the_standard_library_but_msgspec() -> None:
    code = (
        "import sys; before = set(sys.modules); import service.criteria; "
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before} "
        "- set(sys.stdlib_module_names) - {'service'}))"
    )
    assert _printed(code) == "['msgspec']"


def test_the_cli_loads_neither_typing_extensions_nor_inspect_nor_dataclasses() -> None:
    code = (
        "import sys, service.cli, service.engine; "
        "print(sorted(m for m in ('typing_extensions', 'inspect', 'dataclasses') "
        "if sys.modules.get(m) is not None))"
    )
    assert _printed(code) == "[]"


def test_typing_extensions_imports_normally_afterwards() -> None:
    code = "import service.records, typing_extensions; print(typing_extensions.Literal)"
    assert "Literal" in _printed(code)


def test_a_record_is_frozen_compared_by_value_and_replaced_by_copy() -> None:
    warning = Warning("Observation/1", "unreadable")
    with pytest.raises(AttributeError):
        warning.message = "changed"  # type: ignore[misc]
    assert warning == Warning("Observation/1", "unreadable")
    assert hash(warning) == hash(Warning("Observation/1", "unreadable"))
    moved = replace(warning, reference="Observation/2")
    assert (moved, warning.reference) == (Warning("Observation/2", "unreadable"), "Observation/1")
    assert repr(warning) == "Warning(reference='Observation/1', message='unreadable')"


def test_an_entry_is_frozen_and_reads_its_type_when_not_given() -> None:
    from service.mappers.reading import Entry

    entry = Entry({"resourceType": "Observation", "id": "o1"}, "Observation/o1")
    assert entry.resource_type == "Observation"
    with pytest.raises(AttributeError):
        entry.reference = "Observation/o2"  # type: ignore[misc]
