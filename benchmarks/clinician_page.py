"""Benchmark: what the clinician page adds to an evaluation, measured in one run.

    .venv/bin/python -m benchmarks.clinician_page [--rounds 5]

Over every scenario Bundle of ``tests/fixtures/scenarios`` (distinct records, so nothing
is warm from the previous patient), prints the median per record of:

- the evaluation alone (mapping and the four sets);
- "what would change the verdict" (``decisive_data``), and its ratio to the evaluation;
- a timeline drawn by the service's own SVG writer and by matplotlib, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path

from service.charts import Point, Threshold, TimeSeriesChart, Window
from service.charts.render import render_svg as render_with_matplotlib
from service.charts.timeline import render_timeline
from service.criteria.decisive import decisive_data
from service.engine import run_evaluation
from service.mappers import load_bundle_json, record_from_bundle

SCENARIOS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "scenarios"
AT = date(2026, 11, 22)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    records = [
        record_from_bundle(load_bundle_json(path.read_bytes()))
        for path in sorted(SCENARIOS.glob("*.json"))
        if not path.name.endswith(".expected.json")
    ]
    evaluate, decide = [], []
    for _ in range(rounds):
        for record in records:
            start = time.perf_counter()
            evaluation = run_evaluation(record, AT)
            middle = time.perf_counter()
            decisive_data(evaluation)
            evaluate.append(middle - start)
            decide.append(time.perf_counter() - middle)
    chart = TimeSeriesChart(
        "Platelet count",
        "nine results",
        tuple(Point(date(2025, m, 1), 150.0 + 10 * m) for m in range(1, 10)),
        "×10⁹/L",
        (Threshold(100.0, "100 ×10⁹/L"),),
        (Window(date(2025, 6, 1), date(2025, 9, 1), "fresh: last 90 days"),),
    )
    render_with_matplotlib(chart, id_prefix="warm")  # import and font cache, not measured
    native, plotted = [], []
    for index in range(rounds * 4):
        start = time.perf_counter()
        render_timeline(chart, id_prefix=f"n{index}")
        middle = time.perf_counter()
        render_with_matplotlib(chart, id_prefix=f"m{index}")
        native.append(middle - start)
        plotted.append(time.perf_counter() - middle)
    print(f"records: {len(records)} scenario Bundles x {rounds} rounds")
    print(f"evaluation            median {_median_ms(evaluate):7.2f} ms")
    print(
        f"what would change     median {_median_ms(decide):7.2f} ms "
        f"({statistics.median(decide) / statistics.median(evaluate):.2f} x the evaluation)"
    )
    print(f"timeline, own SVG     median {_median_ms(native):7.2f} ms")
    print(
        f"timeline, matplotlib  median {_median_ms(plotted):7.2f} ms "
        f"({statistics.median(plotted) / statistics.median(native):.0f} x)"
    )


if __name__ == "__main__":
    main()
