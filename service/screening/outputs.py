"""Write a run's outputs from its stored results: results.ndjson, worklist.csv,
report.html, report.pdf and summary.json (each written to a temporary name, then
renamed, so a reader never sees half a file)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from service.screening.report_data import ReportData, build_report_data
from service.screening.selection import Tally
from service.screening.store import Store
from service.screening.worklist import rank_key, write_ranked_worklist

__all__ = ["OUTPUT_FILES", "write_outputs"]

OUTPUT_FILES = ("results.ndjson", "worklist.csv", "report.html", "report.pdf", "summary.json")


def _atomic(path: Path, write: Callable[[Path], Any]) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    write(temporary)
    os.replace(temporary, path)


def _read_back(
    store: Store, results: TextIO, ranking: list[tuple[tuple[Any, ...], str]]
) -> Iterator[dict[str, Any]]:
    """Yield every stored summary, writing each result to ``results`` and noting each
    evaluated patient's rank key in ``ranking`` on the way."""
    for patient, body, summary_text in store.results():
        if body:
            results.write(body + "\n")
        summary = json.loads(summary_text)
        if "statuses" in summary:
            ranking.append((rank_key(summary), patient))
        yield summary


def write_outputs(store: Store, out: Path, at: Any, figures: dict[str, Any], tally: Tally) -> None:
    """Write every output file into ``out``. The stored results are read once for
    results.ndjson and the report's counts and first rows, then the worklist's summaries
    one at a time in rank order: memory holds a rank key per candidate, not the
    candidates' summaries."""
    from service.screening.report_html import render_report_html
    from service.screening.report_pdf import write_report_pdf

    ranking: list[tuple[tuple[Any, ...], str]] = []
    reports: list[ReportData] = []

    def results(path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            reports.append(
                build_report_data(_read_back(store, handle, ranking), figures, tally, at)
            )

    _atomic(out / "results.ndjson", results)
    (data,) = reports
    ranking.sort()
    ranked = (json.loads(s) for s in store.summaries(patient for _, patient in ranking))
    _atomic(out / "worklist.csv", lambda p: write_ranked_worklist(p, ranked))
    _atomic(out / "report.html", lambda p: p.write_text(render_report_html(data), "utf-8"))
    _atomic(out / "report.pdf", lambda p: write_report_pdf(data, p))
    figures = {**figures, "badInput": tally.to_json(), "notEvaluated": len(data.not_evaluated)}
    _atomic(
        out / "summary.json", lambda p: p.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    )
