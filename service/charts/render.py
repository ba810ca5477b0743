"""Render a chart model to inline-safe SVG with matplotlib (imported on first use).

matplotlib is the maintained, general plotting library (bars, stacked bars, dated
series with threshold lines and shaded windows), used through its object API (no
``pyplot``, no global figure state, safe in threads). It costs about half a second to
import, so only paths that draw import it: this module is loaded by
:func:`service.charts.render_svg`, never at start-up. Its SVG uses ``style``
attributes, which :func:`~service.charts.svg.inline_safe_svg` turns into presentation
attributes. Text stays text (``svg.fonttype = none``): selectable, searchable, and
printed sharp; ids are salted per chart, so the same data gives the same bytes.
"""

from __future__ import annotations

import io
import textwrap
from typing import Any

import matplotlib
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from service.charts.model import BarChart, Chart, StackedBarChart, TimeSeriesChart
from service.charts.svg import inline_safe_svg

__all__ = ["TONE_COLOURS", "render_svg"]

TONE_COLOURS = {
    "eligible": "#009E73",  # Okabe-Ito bluish green
    "undecided": "#E69F00",  # orange
    "ineligible": "#7A7A7A",  # grey: not eligible is a finding, not an alarm
    "neutral": "#0072B2",  # blue
    "warning": "#D55E00",  # vermillion
    "muted": "#BBBBBB",
}
_TEXT = "#222222"
_GRID = "#DDDDDD"
_RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.size": 9,
    "axes.edgecolor": "#888888",
    "axes.labelcolor": _TEXT,
    "xtick.color": _TEXT,
    "ytick.color": _TEXT,
    "text.color": _TEXT,
}
WIDTH_INCHES = 7.0


def _colour(tone: str) -> str:
    return TONE_COLOURS.get(tone, TONE_COLOURS["neutral"])


def _wrap(label: str, width: int = 38) -> str:
    return "\n".join(textwrap.wrap(label, width)[:3]) or label


def _frame(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color=_GRID, linewidth=0.6)
    ax.set_axisbelow(True)


def _bars(fig: Figure, chart: BarChart) -> None:
    ax = fig.add_subplot()
    labels = [_wrap(b.label) for b in chart.bars]
    values = [b.value for b in chart.bars]
    container = ax.barh(labels, values, color=[_colour(b.tone) for b in chart.bars], height=0.6)
    ax.bar_label(container, labels=[f"{v:,.0f}" for v in values], padding=3)
    ax.invert_yaxis()
    ax.set_xlim(0, max(values, default=0) * 1.15 or 1)
    ax.set_xlabel(chart.value_label)
    _frame(ax)


def _stacked(fig: Figure, chart: StackedBarChart) -> None:
    ax = fig.add_subplot()
    labels = [_wrap(r.label) for r in chart.rows]
    order: list[tuple[str, str]] = []
    for row in chart.rows:
        for segment in row.segments:
            if (segment.label, segment.tone) not in order:
                order.append((segment.label, segment.tone))
    lefts = [0.0] * len(chart.rows)
    for label, tone in order:
        values = [
            next((s.value for s in row.segments if s.label == label), 0.0) for row in chart.rows
        ]
        container = ax.barh(
            labels, values, left=lefts, color=_colour(tone), label=label, height=0.6
        )
        shown = [f"{v:,.0f}" if v else "" for v in values]
        ax.bar_label(container, labels=shown, label_type="center", color="white", fontsize=8)
        lefts = [a + b for a, b in zip(lefts, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlim(0, max(lefts, default=0) * 1.05 or 1)
    ax.set_xlabel(chart.value_label)
    fig.legend(loc="outside lower center", ncol=max(1, len(order)), frameon=False)
    _frame(ax)


def _series(fig: Figure, chart: TimeSeriesChart) -> None:
    ax = fig.add_subplot()
    for window in chart.windows:
        ax.axvspan(window.start, window.end, color=_colour("neutral"), alpha=0.12, lw=0)  # type: ignore[arg-type]
        ax.annotate(
            window.label,
            (window.start, 1.0),
            xycoords=("data", "axes fraction"),
            va="bottom",
            fontsize=8,
            color=_colour("neutral"),
        )
    for threshold in chart.thresholds:
        ax.axhline(threshold.value, color=_colour("warning"), linestyle="--", linewidth=1)
        ax.annotate(
            threshold.label,
            (0.0, threshold.value),
            xycoords=("axes fraction", "data"),
            va="bottom",
            fontsize=8,
            color=_colour("warning"),
        )
    days = [p.day for p in chart.points]
    ax.plot(days, [p.value for p in chart.points], marker="o", color=_colour("neutral"))  # type: ignore[arg-type]
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_ylabel(chart.unit)
    _frame(ax)
    ax.grid(axis="y", color=_GRID, linewidth=0.6)


def _height(chart: Chart) -> float:
    if isinstance(chart, BarChart):
        return 0.9 + 0.42 * max(1, len(chart.bars))
    if isinstance(chart, StackedBarChart):
        return 1.2 + 0.45 * max(1, len(chart.rows))
    return 2.6


def render_svg(chart: Chart, *, id_prefix: str) -> str:
    """Return ``chart`` as an inline-safe ``<svg>`` element (title and description
    included for screen readers)."""
    settings: Any = {**_RC, "svg.hashsalt": id_prefix}
    with matplotlib.rc_context(settings):
        fig = Figure(figsize=(WIDTH_INCHES, _height(chart)), layout="constrained")
        if isinstance(chart, BarChart):
            _bars(fig, chart)
        elif isinstance(chart, StackedBarChart):
            _stacked(fig, chart)
        else:
            _series(fig, chart)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return inline_safe_svg(
        buffer.getvalue(), id_prefix=id_prefix, title=chart.title, description=chart.description
    )
