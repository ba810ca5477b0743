"""Write the acceptance case Bundles, their expectation files and the case table.

Run from the repository root: ``python3 -m tests.acceptance.build_cases``. It rewrites
``tests/acceptance/cases/<name>.json`` and ``<name>.expected.json`` from the cases defined
in the ``cases_*`` modules, deletes case files no case writes any more, and refreshes the
case table of ``tests/acceptance/README.md`` (between its ``cases`` markers). Standard
library only, deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.acceptance import (
    cases_grade,
    cases_labs,
    cases_liver,
    cases_primary,
    cases_reading,
    cases_stories,
)
from tests.acceptance.kit import Case
from tests.fixtures.fhir_builders import write_json

HERE = Path(__file__).resolve().parent
OUT = HERE / "cases"
README = HERE / "README.md"
START, END = "<!-- cases:start -->", "<!-- cases:end -->"
GROUPS = (
    ("Grade, Ki-67, NEC, notes", cases_grade.CASES),
    ("Bilirubin and platelets", cases_labs.CASES),
    ("Primary tumour and its resection", cases_primary.CASES),
    ("Liver, course, FLR, pattern, portal hypertension, fitness", cases_liver.CASES),
    ("Reading the record", cases_reading.CASES),
    ("Whole clinical stories", cases_stories.CASES),
)


def all_cases() -> list[Case]:
    """Return every case, refusing duplicate names."""
    cases = [case for _, group in GROUPS for case in group]
    seen: set[str] = set()
    for case in cases:
        if case.name in seen:
            raise ValueError(f"duplicate case name {case.name!r}")
        seen.add(case.name)
    return cases


def case_table() -> str:
    """Return the Markdown table of cases: name, what changes, the spec sentence pinned."""
    lines = [f"{len(all_cases())} cases, evaluation date 2026-11-22.", ""]
    for title, group in GROUPS:
        lines += [f"### {title} ({len(group)})", "", "| case | base | pins |", "|---|---|---|"]
        for case in group:
            pins = case.pins.replace("|", "\\|")
            lines.append(f"| `{case.name}` | {case.base} | {pins} |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    OUT.mkdir(exist_ok=True)
    written: set[Path] = set()
    for case in all_cases():
        bundle_path = OUT / f"{case.name}.json"
        expected_path = OUT / f"{case.name}.expected.json"
        write_json(bundle_path, case.bundle())
        write_json(expected_path, case.expectation())
        written |= {bundle_path, expected_path}
    for stale in set(OUT.glob("*.json")) - written:
        stale.unlink()
    text = README.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    README.write_text(f"{head}{START}\n{case_table()}\n{END}{tail}", encoding="utf-8")
    print(f"wrote {len(written) // 2} cases to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
