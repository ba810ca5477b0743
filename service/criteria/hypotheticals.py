"""What a record could look like once one more data item is recorded.

For each :class:`~service.criteria.data_items.DataItem` that holds data,
:func:`recordings` returns the patient's inputs with that item recorded, once per
*distinct outcome class* of the value: every threshold any criterion applies to it, a
value between each pair of thresholds, and one beyond each end (a Ki-67 of 0, 5, 10, 15,
20, 60 and 100 % covers ``≤ 10 %`` and ``≤ 20 %`` both ways); both answers of a yes/no
assessment; every Frilling type. A new recording is dated on the evaluation date, so a
lab is fresh; it is a plain value (no comparator), so it decides whatever it can.

Recording a value means what the rules would then read: a newer result replaces the
latest one (the most recent wins, criteria.md §3), a resection Procedure is added to the
ones recorded, a disease-status result is added to the series. Two recordings stand for a
disease course, because "stable for 6 months" is a history: progression now, or stable
results 182 days ago and now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from service.criteria.config import EvaluationConfig
from service.criteria.inputs import (
    CriteriaInputs,
    Finding,
    Measurement,
    PrimarySite,
    ProcedureFact,
)
from service.criteria.model import CriteriaSet
from service.criteria.values import DateSpan, Interval
from service.records import replace

__all__ = ["recordings"]

HYPOTHETICAL = "hypothetical/recording"
"""The reference every hypothetical value carries (never shown: only statuses are read)."""

_FIELDS = frozenset(CriteriaInputs.__struct_fields__)
_SIX_MONTHS = 182

Builder = Callable[[CriteriaInputs, EvaluationConfig, tuple[CriteriaSet, ...]], list[Any]]


def _day(at: date) -> DateSpan:
    return DateSpan(at, at, at.isoformat())


def _thresholds(sets: tuple[CriteriaSet, ...], field: str) -> set[Decimal]:
    """Return every threshold value of the criteria that read ``field``."""
    return {
        threshold.value
        for criteria_set in sets
        for criterion in (*criteria_set.criteria, *criteria_set.helpers)
        if field in criterion.inputs
        for threshold in criterion.thresholds.values()
    }


def _points(limits: Iterable[Decimal], low: Decimal, high: Decimal) -> list[Decimal]:
    """Return ``low``, ``high``, every limit and the midpoint between neighbours."""
    marks = sorted({low, high, *(v for v in limits if low <= v <= high)})
    middles = [(a + b) / 2 for a, b in zip(marks, marks[1:], strict=False)]
    return sorted({*marks, *middles})


def _measured(field: str, unit: str, low: str, high: str, extra: Iterable[Decimal] = ()) -> Builder:
    def build(
        inputs: CriteriaInputs, config: EvaluationConfig, sets: tuple[CriteriaSet, ...]
    ) -> list[Any]:
        limits = {*_thresholds(sets, field), *extra}
        return [
            Measurement(HYPOTHETICAL, _day(inputs.evaluation_date), Interval.point(v), unit)
            for v in _points(limits, Decimal(low), Decimal(high))
        ]

    return build


def _bilirubin(
    inputs: CriteriaInputs, config: EvaluationConfig, sets: tuple[CriteriaSet, ...]
) -> list[Any]:
    limit = config.bilirubin_upper_limit_mg_dl
    return _measured("bilirubin", "mg/dL", "0", str(limit * 4), [limit])(inputs, config, sets)


def _finding(values: Iterable[Any]) -> Builder:
    def build(
        inputs: CriteriaInputs, config: EvaluationConfig, sets: tuple[CriteriaSet, ...]
    ) -> list[Any]:
        day = _day(inputs.evaluation_date)
        return [Finding(HYPOTHETICAL, day, value, str(value)) for value in values]

    return build


def _ecog(
    inputs: CriteriaInputs, config: EvaluationConfig, sets: tuple[CriteriaSet, ...]
) -> list[Any]:
    return _finding(range(6))(inputs, config, sets)


def _birth_date(
    inputs: CriteriaInputs, config: EvaluationConfig, sets: tuple[CriteriaSet, ...]
) -> list[Any]:
    at = inputs.evaluation_date
    limits = {int(v) for v in _thresholds(sets, "birth_date")}
    ages = sorted({age for limit in limits for age in (limit - 1, limit) if 0 <= age < at.year})
    # born on this day (28th at the latest) ``age`` years ago: exactly ``age`` years old
    return [_day(date(at.year - age, at.month, min(at.day, 28))) for age in ages]


def _primary_sites(
    inputs: CriteriaInputs, config: EvaluationConfig, sets: tuple[CriteriaSet, ...]
) -> list[Any]:
    day = _day(inputs.evaluation_date)
    return [
        (PrimarySite(HYPOTHETICAL, day, "site", "site", True, drainage, "site"),)
        for drainage in ("portal", "not_portal")
    ]


def _resection(at: date, days_before: int) -> ProcedureFact:
    return ProcedureFact(HYPOTHETICAL, _day(at - timedelta(days=days_before)), "resection", "")


def _primary_resected(
    inputs: CriteriaInputs, config: EvaluationConfig, sets: tuple[CriteriaSet, ...]
) -> list[dict[str, Any]]:
    at = inputs.evaluation_date
    day = _day(at)
    recorded = inputs.primary_resections
    return [
        {"primary_resections": (*recorded, _resection(at, 0))},
        {"primary_resections": (*recorded, _resection(at, _SIX_MONTHS))},
        {"primary_resected": Finding(HYPOTHETICAL, day, True, "resected")},
        {"primary_resected": Finding(HYPOTHETICAL, day, False, "not resected")},
    ]


def _resection_date(
    inputs: CriteriaInputs, config: EvaluationConfig, sets: tuple[CriteriaSet, ...]
) -> list[Any]:
    at = inputs.evaluation_date
    return [(*inputs.primary_resections, _resection(at, d)) for d in (0, _SIX_MONTHS)]


def _disease_status(
    inputs: CriteriaInputs, config: EvaluationConfig, sets: tuple[CriteriaSet, ...]
) -> list[Any]:
    at = inputs.evaluation_date
    series = inputs.disease_course

    def result(value: str, days_before: int = 0) -> Finding[Any]:
        return Finding(HYPOTHETICAL, _day(at - timedelta(days=days_before)), value, value)

    return [
        (*series, result("progressing")),
        (*series, result("stable", _SIX_MONTHS), result("stable")),
    ]


def _condition_status(
    inputs: CriteriaInputs, config: EvaluationConfig, sets: tuple[CriteriaSet, ...]
) -> list[dict[str, Any]]:
    """Read the unreadable exclusion Conditions again: all present now, or all not."""
    unreadable = inputs.unreadable_conditions
    if not unreadable:
        return []
    present: dict[str, Any] = {"unreadable_conditions": ()}
    for condition in unreadable:
        current = present.get(condition.input, getattr(inputs, condition.input))
        present[condition.input] = (*current, condition.as_present())
    return [present, {"unreadable_conditions": ()}]


_YES_NO = _finding((True, False))

_BUILDERS: Mapping[str, tuple[str | None, Builder]] = MappingProxyType(
    {
        # key: (the one field the builder's values go to, or None for a field mapping)
        "birth-date": ("birth_date", _birth_date),
        "ki67": ("ki67", _measured("ki67", "%", "0", "100")),
        "grade": ("grade", _finding(("G1", "G2", "G3"))),
        "primary-site": ("primary_sites", _primary_sites),
        "mdt-which-primary": ("primary_sites", _primary_sites),
        "primary-resected": (None, _primary_resected),
        "primary-resection-date": ("primary_resections", _resection_date),
        "primary-resectable": ("primary_resectable", _YES_NO),
        "extrahepatic-disease": ("extrahepatic_staging", _YES_NO),
        "hepatic-tumour-burden": (
            "hepatic_tumour_burden",
            _measured("hepatic_tumour_burden", "%", "0", "100"),
        ),
        "refractory-hormonal-syndrome": ("refractory_hormonal_syndrome", _YES_NO),
        "metastatic-pattern": ("metastatic_pattern", _finding(("type-i", "type-ii", "type-iii"))),
        "hepatic-disease-resectable": ("hepatic_disease_resectable", _YES_NO),
        "future-liver-remnant": (
            "future_liver_remnant",
            _measured("future_liver_remnant", "%", "0", "100"),
        ),
        "major-hepatectomy-planned": ("major_hepatectomy_planned", _YES_NO),
        "disease-status": ("disease_course", _disease_status),
        "bilirubin": ("bilirubin", _bilirubin),
        "platelets": ("platelets", _measured("platelets", "10*9/L", "0", "1000")),
        "ecog": ("ecog", _ecog),
        "condition-status": (None, _condition_status),
    }
)


def recordings(
    key: str,
    inputs: CriteriaInputs,
    config: EvaluationConfig,
    sets: tuple[CriteriaSet, ...],
) -> tuple[CriteriaInputs, ...]:
    """Return ``inputs`` with the item ``key`` recorded, once per outcome class.

    Empty for a judgement, or for an item whose input field these criteria inputs do not
    have: nothing recorded can change what the service computes then.
    """
    entry = _BUILDERS.get(key)
    if entry is None:
        return ()
    field, build = entry
    if field is not None and field not in _FIELDS:
        return ()
    values = build(inputs, config, sets)
    if field is None:
        return tuple(replace(inputs, **changes) for changes in values)
    return tuple(replace(inputs, **{field: value}) for value in values)
