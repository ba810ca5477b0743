"""The record's history as timelines: Ki-67, total bilirubin, platelets, disease status.

Pure series builders over the patient's record (the chart data first, STYLE.md); the
page renders them with :func:`service.charts.render_svg` and lists the same values in a
table. The same reading rules as the evaluation (criteria.md §3): the Observation codes
of terminology.md, usable statuses only, nothing dated after the evaluation date, values
normalised by unit (µmol/L to mg/dL, /µL to ×10⁹/L). What each timeline draws:

- **Ki-67**: the 10 % (ENETS) and 20 % (G1/G2 vs G3) limits;
- **total bilirubin**: the upper limit of normal (the latest result's reference range,
  else the configured default) and the freshness window;
- **platelets**: the 100 ×10⁹/L limit (portal hypertension) and the freshness window;
- **disease status**: responding / stable / progressing, and the 182 days before the
  evaluation date ("stable for 6 months").

A value with a comparator or a range is drawn at its bound and listed as recorded
(``<1``, ``5-10``); one that cannot be interpreted, or is undated, is listed but not
drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from service.charts import Point, Threshold, TimeSeriesChart, Window
from service.criteria import Evaluation
from service.criteria.inputs import Warning
from service.mappers import PatientRecord, Terminology
from service.mappers.errors import UnreadableError
from service.mappers.observations import ObservationReader, classify_observations
from service.mappers.quantities import (
    BILIRUBIN,
    PERCENT,
    PLATELETS,
    UninterpretableError,
    UnitTable,
    read_number,
)
from service.mappers.reading import Dated, oldest_first
from service.pages.evidence import clinical_unit, format_value

__all__ = ["COURSE_ORDER", "Timeline", "TimelineRow", "timelines"]

COURSE_ORDER = ("progressing", "stable", "responding")
"""Disease-status categories, bottom to top."""
SIX_MONTHS = 182
PLATELET_LIMIT = Decimal(100)
KI67_LIMITS = ((Decimal(10), "10 % (ENETS)"), (Decimal(20), "20 % (G3 above)"))


@dataclass(frozen=True)
class TimelineRow:
    """One result as listed in the table beside the chart."""

    day: str
    value: str
    reference: str
    note: str = ""


@dataclass(frozen=True)
class Timeline:
    """A chart and the rows behind it; ``chart`` is ``None`` when nothing can be drawn."""

    key: str
    title: str
    chart: TimeSeriesChart | None
    rows: tuple[TimelineRow, ...]


def _day(candidate: Dated) -> str:
    return "undated" if candidate.date is None else candidate.date.label


def _numeric(
    key: str,
    title: str,
    candidates: list[Dated],
    table: UnitTable,
    thresholds: tuple[Threshold, ...],
    windows: tuple[Window, ...],
    at: date,
) -> Timeline:
    unit = clinical_unit(table.normalised)
    points: list[Point] = []
    rows: list[TimelineRow] = []
    for candidate in oldest_first(candidates):
        where = candidate.entry.reference
        try:
            interval = read_number(candidate.entry.resource, table, where)
        except (UnreadableError, UninterpretableError) as exc:
            rows.append(TimelineRow(_day(candidate), "not interpretable", where, str(exc)))
            continue
        shown = interval.display()
        drawn = interval.low if interval.low is not None else interval.high
        value = f"{format_value(shown, unit) if interval.is_point else shown} {unit}"
        if candidate.date is None or drawn is None:
            rows.append(TimelineRow(_day(candidate), value, where, "undated: not drawn"))
            continue
        points.append(Point(candidate.date.earliest, float(drawn), value))
        rows.append(TimelineRow(_day(candidate), value, where))
    description = (
        f"{title}: {len(points)} results"
        + (f", latest {points[-1].label} on {points[-1].day.isoformat()}" if points else "")
        + "".join(f"; line at {t.label}" for t in thresholds)
        + "".join(f"; shaded: {w.label}" for w in windows)
        + "."
    )
    chart = (
        TimeSeriesChart(title, description, tuple(points), unit, thresholds, windows)
        if points
        else None
    )
    return Timeline(key, title, chart, tuple(rows))


def _course(reader: ObservationReader, at: date) -> Timeline:
    points: list[Point] = []
    rows: list[TimelineRow] = []
    for finding in reader.disease_course():
        day = "undated" if finding.date is None else finding.date.label
        if finding.value is None:
            rows.append(
                TimelineRow(day, "not interpretable", finding.reference, finding.problem or "")
            )
            continue
        rows.append(TimelineRow(day, finding.value, finding.reference))
        if finding.date is not None:
            index = COURSE_ORDER.index(finding.value)
            points.append(Point(finding.date.earliest, float(index), finding.value))
    window = Window(at - timedelta(days=SIX_MONTHS), at, "last 6 months")
    description = (
        f"Disease status: {len(points)} results"
        + (f", latest {points[-1].label} on {points[-1].day.isoformat()}" if points else "")
        + "; shaded: the 182 days before the evaluation date."
    )
    chart = (
        TimeSeriesChart(
            "Disease status", description, tuple(points), "", (), (window,), COURSE_ORDER
        )
        if points
        else None
    )
    return Timeline("disease-status", "Disease status", chart, tuple(rows))


def timelines(
    record: PatientRecord, evaluation: Evaluation, terminology: Terminology
) -> tuple[Timeline, ...]:
    """Return the four timelines of ``record`` as of the evaluation's date, with its
    configuration (freshness window, default bilirubin limit)."""
    at, config = evaluation.inputs.evaluation_date, evaluation.config
    latest = evaluation.inputs.bilirubin
    if latest is not None and latest.upper_limit is not None:
        limit, limit_label = latest.upper_limit, "upper limit of normal (reference range)"
    else:
        limit, limit_label = config.bilirubin_upper_limit_mg_dl, "upper limit of normal (default)"
    warnings: list[Warning] = []  # the evaluation reports them; the timelines only list
    groups = classify_observations(record.resources, terminology, at, warnings)
    fresh = Window(
        at - timedelta(days=config.lab_freshness_days),
        at,
        f"fresh: last {config.lab_freshness_days} days",
    )
    ki67 = groups.get("ki67") or groups.get("ki67_breast") or []
    bilirubin = groups.get("bilirubin", [])
    return (
        _numeric(
            "ki67",
            "Ki-67 index",
            ki67,
            PERCENT,
            tuple(Threshold(float(v), label) for v, label in KI67_LIMITS),
            (),
            at,
        ),
        _numeric(
            "bilirubin",
            "Total bilirubin",
            bilirubin,
            BILIRUBIN,
            (Threshold(float(limit), f"{format_value(limit, 'mg/dL')} mg/dL, {limit_label}"),),
            (fresh,),
            at,
        ),
        _numeric(
            "platelets",
            "Platelet count",
            groups.get("platelets", []),
            PLATELETS,
            (Threshold(float(PLATELET_LIMIT), "100 ×10⁹/L (portal hypertension below)"),),
            (fresh,),
            at,
        ),
        _course(ObservationReader(groups, warnings), at),
    )
