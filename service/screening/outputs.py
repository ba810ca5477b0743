"""Write a run's outputs from its stored results: results.ndjson, worklist.csv,
report.html, report.pdf and summary.json (each written to a temporary name, then
renamed, so a reader never sees half a file)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from service.screening.report_data import build_report_data
from service.screening.selection import Tally
from service.screening.store import Store
from service.screening.worklist import rank_key, write_ranked_worklist

__all__ = ["OUTPUT_FILES", "write_outputs"]

OUTPUT_FILES = ("results.ndjson", "worklist.csv", "report.html", "report.pdf", "summary.json")


@contextmanager
def _written(path: Path) -> Iterator[Path]:
    """Give a temporary name beside ``path`` to write to; renamed to ``path`` when the
    block ends without an error, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.partial")
    yield temporary
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
    with (
        _written(out / "results.ndjson") as path,
        path.open("w", encoding="utf-8", newline="\n") as handle,
    ):
        data = build_report_data(_read_back(store, handle, ranking), figures, tally, at)
    ranking.sort()
    with _written(out / "worklist.csv") as path:
        summaries = store.summaries(patient for _, patient in ranking)
        write_ranked_worklist(path, (json.loads(summary) for summary in summaries))
    with _written(out / "report.html") as path:
        path.write_text(render_report_html(data), "utf-8")
    with _written(out / "report.pdf") as path:
        write_report_pdf(data, path)
    figures = {**figures, "badInput": tally.to_json(), "notEvaluated": len(data.not_evaluated)}
    with _written(out / "summary.json") as path:
        path.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
