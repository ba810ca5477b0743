"""Charts as data first: chart models built by pure functions, then rendered to SVG.

- :mod:`~service.charts.model`: frozen chart descriptions (bars, stacked bars, time
  series with thresholds and windows), with the numbers behind them, so a page can show
  the same data as a table for screen readers and print;
- :mod:`~service.charts.render`: matplotlib (imported only when a chart is drawn) to
  static SVG for bar charts; :mod:`~service.charts.timeline`: time series written as SVG
  directly (the clinician page draws four on every open: ~1 ms each instead of ~0.3 s);
- :mod:`~service.charts.svg`: makes that SVG safe to inline under a Content-Security-
  Policy without ``'unsafe-inline'``: presentation attributes instead of ``style``
  attributes and ``<style>`` elements, no scripts, ids prefixed so several charts can
  share a page.

Series builders that know the domain live with their users (the screening report, the
clinician page); this package knows only charts. Importing it is cheap: nothing here
imports matplotlib until :func:`render_svg` runs.
"""

from __future__ import annotations

from service.charts.model import (
    Bar,
    BarChart,
    Chart,
    Point,
    Segment,
    StackedBarChart,
    StackedRow,
    Threshold,
    TimeSeriesChart,
    Window,
)

__all__ = [
    "TONES",
    "Bar",
    "BarChart",
    "Chart",
    "Point",
    "Segment",
    "StackedBarChart",
    "StackedRow",
    "Threshold",
    "TimeSeriesChart",
    "Window",
    "render_svg",
]

TONES = ("eligible", "undecided", "ineligible", "neutral", "warning", "muted")


def render_svg(chart: Chart, *, id_prefix: str) -> str:
    """Return ``chart`` as CSP-safe inline SVG markup: a time series drawn directly
    (:mod:`service.charts.timeline`, fast enough for a page drawn on every open), other
    charts with matplotlib (:mod:`service.charts.render`)."""
    if isinstance(chart, TimeSeriesChart):
        from service.charts.timeline import render_timeline

        return render_timeline(chart, id_prefix=id_prefix)
    from service.charts.render import render_svg as render

    return render(chart, id_prefix=id_prefix)
