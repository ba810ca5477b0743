"""The report's data is read from the summaries once, as a stream: the counts cover
everyone, the rows are the first ones in worklist order, and the rest are counted."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from typing import Any

import pytest

from service.screening import report_data
from service.screening.report_data import build_report_data
from service.screening.report_html import render_report_html
from service.screening.selection import Tally
from service.screening.worklist import SET_IDS, rank_key

STATUSES = ("eligible", "indeterminate", "ineligible")


def _summaries(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    found: list[dict[str, Any]] = []
    for n in range(count):
        if n % 9 == 0:
            found.append({"patient": f"Patient/f{n}", "error": "no Patient resource"})
            continue
        found.append(
            {
                "patient": f"Patient/p{n:03}",
                "net": rng.random() < 0.7,
                "deceased": rng.random() < 0.1,
                "statuses": {s: rng.choice(STATUSES) for s in SET_IDS},
                "missing": [{"item": rng.choice("abc"), "sets": ["unos"]}] * rng.randint(0, 2),
            }
        )
    return found


def test_rows_are_the_first_in_worklist_order_and_the_counts_cover_everyone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(report_data, "MAX_ROWS", 7)
    summaries = _summaries(200, seed=4)
    figures = {"selection": {"patients": 900, "candidates": 200}}
    data = build_report_data(iter(summaries), figures, Tally(), date(2026, 11, 22))
    evaluated = [s for s in summaries if "statuses" in s]
    net = [s for s in evaluated if s["net"]]
    assert list(data.rows) == sorted(evaluated, key=rank_key)[:7]
    assert data.row_count == len(evaluated)
    assert [s["patient"] for s in data.not_evaluated] == [
        s["patient"] for s in summaries if "error" in s
    ]
    assert data.funnel[2:] == (
        ("Evaluated", len(evaluated)),
        ("NET liver metastasis present", len(net)),
    )
    verdicts = dict(data.verdicts)
    assert verdicts["UNOS"] == Counter(s["statuses"]["unos"] for s in net)
    assert verdicts["Liver resection"] == Counter(s["statuses"]["resection"] for s in net)
    html = render_report_html(data)
    assert f"{len(evaluated) - 7:,} more rows in worklist.csv" in html
