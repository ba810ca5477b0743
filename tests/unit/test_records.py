"""service.records: msgspec imported once, only from there: its compiled core alone (the
package's decoding and format modules were 10 ms of every CLI start) and without
typing_extensions (with it, inspect came too, 10-15 ms; issue 12)."""

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


def test_only_msgspec_s_core_is_loaded_and_the_package_imports_whole_afterwards() -> None:
    code = (
        "import sys, service.records as r; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'msgspec')); "
        "import msgspec, msgspec.structs; "
        "from service.criteria.inputs import Warning; "
        "print(msgspec.Struct is r.Struct, msgspec.structs.replace is r.replace, "
        "msgspec.structs.force_setattr is r.force_setattr, "
        "type(msgspec.field(default=1)) is type(r.field(default=1)), "
        "msgspec.json.encode(Warning('Observation/1', 'x')).decode())"
    )
    loaded, package = _printed(code).splitlines()
    assert loaded == "['msgspec._core', 'msgspec._utils']"
    assert package == 'True True True True {"reference":"Observation/1","message":"x"}'


def test_the_later_package_lacks_only_the_core_as_an_attribute() -> None:
    """The one difference the module text states: ``import msgspec._core`` works, the
    attribute does not (Python sets it only when it loads the submodule itself)."""
    code = (
        "import service.records as r, msgspec, msgspec._core as core; "
        "print(core.Struct is r.Struct, hasattr(msgspec, '_core'))"
    )
    assert _printed(code) == "True False"


def test_a_msgspec_laid_out_otherwise_is_imported_whole() -> None:
    """Where the package is not found as a folder (here: the path finder, asked as
    service.records asks it, by name alone, finds nothing), msgspec is imported as it is,
    and the records work the same."""
    code = (
        "import sys, importlib.machinery as m; found = m.PathFinder.find_spec; "
        "m.PathFinder.find_spec = classmethod(lambda cls, name, *a: None "
        "if (name, a) == ('msgspec', ()) else found(name, *a)); "
        "import service.records as r, msgspec; "
        "from service.criteria.inputs import Warning; "
        "print('msgspec.inspect' in sys.modules, r.Struct is msgspec.Struct, "
        "r.replace(Warning('a', 'b'), message='c'))"
    )
    assert _printed(code) == "True True Warning(reference='a', message='c')"


def test_a_core_that_fails_under_the_stand_in_leaves_nothing_behind() -> None:
    """Where loading the core fails half way (here: ``uuid`` cannot be imported while the
    stand-in, which has no file, is the package), what was loaded is forgotten and the
    whole package is imported: one msgspec, one Struct, one ``msgspec._utils``."""
    code = (
        "import sys\n"
        "refused = []\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        package = sys.modules.get('msgspec')\n"
        "        if name == 'uuid' and package is not None and not hasattr(package, '__file__'):\n"
        "            refused.append(name)\n"
        "            raise ImportError('refused under the stand-in')\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "import service.records as r, msgspec, msgspec.structs\n"
        "utils = sys.modules['msgspec._utils'].get_class_annotations\n"
        "print(refused, 'msgspec.inspect' in sys.modules, r.Struct is msgspec.Struct,\n"
        "      utils is msgspec.structs._get_class_annotations)\n"
    )
    assert _printed(code) == "['uuid'] True True True"


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
