"""Write a run's outputs from its stored results: results.ndjson, worklist.csv,
report.html, report.pdf and summary.json (each written to a temporary name, then
renamed, so a reader never sees half a file)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.screening.report_data import build_report_data
from service.screening.selection import Tally
from service.screening.store import Store
from service.screening.worklist import write_worklist

__all__ = ["OUTPUT_FILES", "write_outputs"]

OUTPUT_FILES = ("results.ndjson", "worklist.csv", "report.html", "report.pdf", "summary.json")


def _atomic(path: Path, write: Callable[[Path], Any]) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    write(temporary)
    os.replace(temporary, path)


def write_outputs(store: Store, out: Path, at: Any, figures: dict[str, Any], tally: Tally) -> None:
    """Write every output file into ``out``."""
    from service.screening.report_html import render_report_html
    from service.screening.report_pdf import write_report_pdf

    summaries: list[dict[str, Any]] = []

    def results(path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            for _, body, summary in store.results():
                if body:
                    handle.write(body + "\n")
                summaries.append(json.loads(summary))

    _atomic(out / "results.ndjson", results)
    _atomic(out / "worklist.csv", lambda p: write_worklist(p, summaries))
    data = build_report_data(summaries, figures, tally, at)
    _atomic(out / "report.html", lambda p: p.write_text(render_report_html(data), "utf-8"))
    _atomic(out / "report.pdf", lambda p: write_report_pdf(data, p))
    figures = {**figures, "badInput": tally.to_json(), "notEvaluated": len(data.not_evaluated)}
    _atomic(
        out / "summary.json", lambda p: p.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    )
