"""Chart descriptions: what to draw, in numbers and words, nothing about how.

Every chart has a ``title`` (shown and read out) and a ``description`` (one sentence a
screen reader says instead of the picture). Values are plain numbers; ``tone`` names a
meaning (``eligible``, ``undecided``, ``ineligible``, ``neutral``, ``warning``,
``muted``), and the renderer picks colours that keep those meanings apart for colour-
blind readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
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
]


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: its label, value and tone."""

    label: str
    value: float
    tone: str = "neutral"


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, top to bottom in the given order, each with its value written."""

    title: str
    description: str
    bars: tuple[Bar, ...]
    value_label: str = ""


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar."""

    label: str
    value: float
    tone: str


@dataclass(frozen=True)
class StackedRow:
    """One stacked horizontal bar."""

    label: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class StackedBarChart:
    """Stacked horizontal bars with a legend of the segment labels."""

    title: str
    description: str
    rows: tuple[StackedRow, ...]
    value_label: str = ""


@dataclass(frozen=True)
class Point:
    """One dated value of a time series."""

    day: date
    value: float
    label: str = ""


@dataclass(frozen=True)
class Threshold:
    """A horizontal line at ``value`` (a criterion's limit)."""

    value: float
    label: str


@dataclass(frozen=True)
class Window:
    """A shaded span of days (e.g. the freshness window of a lab)."""

    start: date
    end: date
    label: str


@dataclass(frozen=True)
class TimeSeriesChart:
    """Values over time with thresholds and windows drawn."""

    title: str
    description: str
    points: tuple[Point, ...]
    unit: str
    thresholds: tuple[Threshold, ...] = ()
    windows: tuple[Window, ...] = ()
    categories: tuple[str, ...] = ()
    """For a categorical series: the category names, bottom to top; a point's value is
    the index of its category (e.g. progressing 0, stable 1, responding 2)."""


Chart = BarChart | StackedBarChart | TimeSeriesChart
