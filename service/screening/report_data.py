"""What the tumour-board report says, as data (pure): counts, charts, rows.

Built from the per-patient summaries and the run's figures; both the HTML and the PDF
report render this, so they always agree.

- **Funnel**: all patients in the export → patients with a liver-metastasis Condition
  (selected and evaluated) → patients whose liver metastasis is a present NET one (the
  rule that decides whether the EHR shows a card) → each pathway's verdicts among them.
- **Missing data that would decide the most verdicts**: over the NET patients, each
  item of ``decisiveData.toRecord`` counted once per criteria-set verdict it could change.
- **Rows**: the worklist order (:func:`~service.screening.worklist.rank_key`), the first
  :data:`MAX_ROWS` of them (``row_count`` says how many there are; the rest are in
  ``worklist.csv``).

The summaries are read once, as a stream, and only the counts, the first rows and the
patients that could not be evaluated are kept: memory does not grow with the number of
candidates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from service.charts import Bar, BarChart, Segment, StackedBarChart, StackedRow
from service.screening.selection import Tally
from service.screening.worklist import PATHWAYS, SET_IDS, rank_key

__all__ = ["MAX_ROWS", "ReportData", "build_report_data", "report_charts"]

MAX_ROWS = 2_000
"""Patient rows the report shows (the worklist has them all)."""

SET_TITLES = {"milan-net": "Milan-NET", "enets": "ENETS", "unos": "UNOS", "resection": "Resection"}
STATUS_WORDS = {"eligible": "eligible", "indeterminate": "undecided", "ineligible": "not eligible"}
_TONES = {"eligible": "eligible", "indeterminate": "undecided", "ineligible": "ineligible"}
MAX_MISSING_ITEMS = 12


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows."""

    at: date
    funnel: tuple[tuple[str, int], ...]
    verdicts: tuple[tuple[str, Mapping[str, int]], ...]
    missing: tuple[tuple[str, int], ...]
    rows: tuple[Mapping[str, Any], ...]
    row_count: int
    not_evaluated: tuple[Mapping[str, Any], ...]
    tally: Tally
    figures: Mapping[str, Any]


def _pathway_status(statuses: Mapping[str, str], sets: Iterable[str]) -> str:
    found = [statuses.get(s) for s in sets]
    if "eligible" in found:
        return "eligible"
    if "indeterminate" in found:
        return "indeterminate"
    return "ineligible"


def _first_rows(rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(rows, key=rank_key)[:MAX_ROWS]


def build_report_data(
    summaries: Iterable[Mapping[str, Any]], figures: Mapping[str, Any], tally: Tally, at: date
) -> ReportData:
    """Return the report's data from every candidate's summary, read once."""
    failed: list[Mapping[str, Any]] = []
    rows: list[Mapping[str, Any]] = []
    evaluated = net = 0
    pathways: dict[str, Counter[str]] = {pathway: Counter() for pathway in PATHWAYS}
    sets: dict[str, Counter[str]] = {set_id: Counter() for set_id in SET_IDS[:3]}
    missing: Counter[str] = Counter()
    for summary in summaries:
        if "statuses" not in summary:
            failed.append(summary)
            continue
        evaluated += 1
        rows.append(summary)
        if len(rows) >= 2 * MAX_ROWS:  # keep the first MAX_ROWS so far
            rows = _first_rows(rows)
        if not summary.get("net"):
            continue
        net += 1
        statuses = summary["statuses"]
        for pathway, set_ids in PATHWAYS.items():
            pathways[pathway][_pathway_status(statuses, set_ids)] += 1
        for set_id, counter in sets.items():
            counter[statuses[set_id]] += 1
        for item in summary.get("missing") or ():
            missing[item["item"]] += max(1, len(item.get("sets") or ()))
    selection = figures.get("selection", {})
    funnel = (
        ("All patients in the export", int(selection.get("patients", 0))),
        ("With a liver-metastasis Condition", int(selection.get("candidates", 0))),
        ("Evaluated", evaluated),
        ("NET liver metastasis present", net),
    )
    verdicts = [
        ("Liver transplantation (any set)" if p == "transplant" else "Liver resection", c)
        for p, c in pathways.items()
    ]
    verdicts += [(SET_TITLES[set_id], counter) for set_id, counter in sets.items()]
    return ReportData(
        at=at,
        funnel=funnel,
        verdicts=tuple(verdicts),
        missing=tuple(missing.most_common(MAX_MISSING_ITEMS)),
        rows=tuple(_first_rows(rows)),
        row_count=evaluated,
        not_evaluated=tuple(failed),
        tally=tally,
        figures=figures,
    )


def report_charts(data: ReportData) -> tuple[BarChart, StackedBarChart, BarChart]:
    """Return the funnel, verdict and missing-data charts (pure descriptions)."""
    funnel = BarChart(
        "From all patients to NET liver metastases",
        "; ".join(f"{label}: {count:,}" for label, count in data.funnel),
        tuple(
            Bar(label, count, "eligible" if i == len(data.funnel) - 1 else "neutral")
            for i, (label, count) in enumerate(data.funnel)
        ),
        "patients",
    )
    rows = tuple(
        StackedRow(
            title,
            tuple(Segment(STATUS_WORDS[s], counts.get(s, 0), _TONES[s]) for s in STATUS_WORDS),
        )
        for title, counts in data.verdicts
    )
    verdicts = StackedBarChart(
        "Verdicts of the patients with NET liver metastases",
        "; ".join(
            f"{title}: " + ", ".join(f"{counts.get(s, 0)} {w}" for s, w in STATUS_WORDS.items())
            for title, counts in data.verdicts
        ),
        rows,
        "patients",
    )
    missing = BarChart(
        "Missing data that would decide the most verdicts",
        "; ".join(f"{item}: {count} verdicts" for item, count in data.missing) or "none",
        tuple(Bar(item, count, "undecided") for item, count in data.missing),
        "criteria-set verdicts it could decide",
    )
    return funnel, verdicts, missing
