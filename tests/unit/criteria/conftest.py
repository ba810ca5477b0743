"""Builders for hand-made criteria inputs (no FHIR, no mappers).

Every test evaluates "as of" ``AT`` (2026-11-22) unless it says otherwise; ``ago(n)``
is the calendar day ``n`` days before it. Values are written as short strings
(``"20"``, ``"<1"``, ``"<=25"``, ``"5-15"``) and become exact :class:`Interval` s.
The test modules import these helpers as ``tests.unit.criteria.conftest``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from service.criteria import DEFAULT_SETS, CriteriaInputs, EvaluationConfig, evaluate
from service.criteria.evaluator import Evaluation
from service.criteria.inputs import (
    ConditionFact,
    Drainage,
    Finding,
    Measurement,
    PrimarySite,
    ProcedureFact,
)
from service.criteria.model import CriterionResult
from service.criteria.status import Status
from service.criteria.values import DateSpan, Interval, parse_fhir_date
from service.records import replace

AT = date(2026, 11, 22)
PATIENT = "Patient/p1"
RECENT = "2026-11-01"
"""A date 21 days before ``AT``: fresh for labs, too young for "at least 6 months"."""

MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN

_VALUE = re.compile(r"(<=|>=|<|>)?(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?")


def ago(days: int) -> str:
    """Return the ISO day ``days`` days before ``AT``."""
    return (AT - timedelta(days=days)).isoformat()


def span(text: str | None) -> DateSpan | None:
    """Return the FHIR date ``text`` as a span of days (``None`` stays undated)."""
    return None if text is None else parse_fhir_date(text)


def interval(text: str) -> Interval:
    """Return ``"20"``, ``"<1"``, ``">=75"`` or ``"5-15"`` as an exact interval."""
    match = _VALUE.fullmatch(text)
    if match is None:
        raise ValueError(f"test value {text!r} is not a number, comparator or range")
    comparator, low, high = match.groups()
    if high is not None:
        return Interval(Decimal(low), Decimal(high))
    return Interval.from_comparator(comparator, Decimal(low))


def measurement(
    value: str | None,
    on: str | None = RECENT,
    *,
    unit: str = "%",
    ref: str = "Observation/m",
    upper_limit: str | None = None,
    upper_limit_problem: str | None = None,
) -> Measurement:
    """Return a normalised measurement; ``value=None`` is an uninterpretable one."""
    return Measurement(
        reference=ref,
        date=span(on),
        value=None if value is None else interval(value),
        unit=unit,
        problem="unrecognised unit 'foo'" if value is None else None,
        upper_limit=None if upper_limit is None else Decimal(upper_limit),
        upper_limit_problem=upper_limit_problem,
    )


def ki67(value: str | None, on: str | None = RECENT, ref: str = "Observation/ki67") -> Measurement:
    """Return a Ki-67 index in %."""
    return measurement(value, on, ref=ref)


def bilirubin(
    value: str | None,
    on: str | None = RECENT,
    *,
    upper_limit: str | None = None,
    upper_limit_problem: str | None = None,
) -> Measurement:
    """Return a total bilirubin in mg/dL, optionally with its reference-range high."""
    return measurement(
        value,
        on,
        unit="mg/dL",
        ref="Observation/bili",
        upper_limit=upper_limit,
        upper_limit_problem=upper_limit_problem,
    )


def platelets(value: str | None, on: str | None = RECENT) -> Measurement:
    """Return a platelet count in 10*9/L."""
    return measurement(value, on, unit="10*9/L", ref="Observation/plt")


def burden(value: str | None, on: str | None = RECENT) -> Measurement:
    """Return a hepatic tumour burden in % of parenchyma."""
    return measurement(value, on, ref="Observation/burden")


def flr(value: str | None, on: str | None = RECENT) -> Measurement:
    """Return a future liver remnant in % of total liver volume."""
    return measurement(value, on, ref="Observation/flr")


def finding(
    value: Any,
    on: str | None = RECENT,
    *,
    ref: str = "Observation/f",
    problem: str | None = None,
) -> Finding[Any]:
    """Return an assessment, grade or ECOG; ``value=None`` is an uninterpretable one."""
    if value is None and problem is None:
        problem = "unrecognised answer code"
    return Finding(ref, span(on), value, str(value), problem)


def course(value: str | None, days_before: int | None) -> Finding[Any]:
    """Return a disease-status result ``days_before`` days before ``AT`` (``None``: undated)."""
    on = None if days_before is None else ago(days_before)
    return finding(value, on, ref=f"Observation/course-{days_before}")


def condition(
    code: str,
    on: str | None = "2026-06-01",
    *,
    ref: str | None = None,
    display: str | None = None,
    present: bool = True,
) -> ConditionFact:
    """Return a recognised Condition (``present=False``: inactive, resolved, history)."""
    return ConditionFact(ref or f"Condition/{code}", span(on), code, display or code, present)


def primary_site(
    site: str,
    drainage: Drainage,
    on: str | None = "2025-01-01",
    *,
    code: str = "C7A.012",
    ref: str | None = None,
) -> PrimarySite:
    """Return a primary-tumour Condition with its site and portal drainage."""
    return PrimarySite(
        reference=ref or f"Condition/primary-{site.replace(' ', '-')}",
        date=span(on),
        code=code,
        display=f"NET of {site}",
        present=True,
        drainage=drainage,
        site=site,
    )


def procedure(
    on: str | None = "2025-06-01",
    *,
    ref: str = "Procedure/resection",
    code: str = "107938000",
    display: str = "Excision of small intestine",
) -> ProcedureFact:
    """Return a completed Procedure (a primary resection unless told otherwise)."""
    return ProcedureFact(ref, span(on), code, display)


def make_inputs(**fields: Any) -> CriteriaInputs:
    """Return inputs for ``PATIENT`` as of ``AT`` with only the given fields recorded."""
    fields.setdefault("evaluation_date", AT)
    return CriteriaInputs(patient=PATIENT, **fields)


def evaluate_all(inputs: CriteriaInputs, config: EvaluationConfig | None = None) -> Evaluation:
    """Evaluate every published set."""
    return evaluate(inputs, DEFAULT_SETS, config or EvaluationConfig())


def result_of(
    inputs: CriteriaInputs,
    set_id: str,
    criterion_id: str,
    config: EvaluationConfig | None = None,
) -> CriterionResult:
    """Return one criterion's result from a full evaluation."""
    for set_result in evaluate_all(inputs, config).set_results:
        if set_result.criteria_set.id == set_id:
            for item in set_result.results:
                if item.id == criterion_id:
                    return item
    raise KeyError(f"{set_id}/{criterion_id}")


def statuses_of(
    inputs: CriteriaInputs, criterion_id: str, config: EvaluationConfig | None = None
) -> dict[str, Status]:
    """Return the criterion's status in every published set that reports it."""
    found = {
        set_result.criteria_set.id: item.status
        for set_result in evaluate_all(inputs, config).set_results
        for item in set_result.results
        if item.id == criterion_id
    }
    if not found:
        raise KeyError(criterion_id)
    return found


def refs(result: CriterionResult) -> list[str]:
    """Return the references of a result's evidence, in order."""
    return [item.reference for item in result.evidence]


def transplant_candidate() -> CriteriaInputs:
    """Return a patient meeting every Milan-NET, ENETS and UNOS criterion.

    Bilobar type III disease assessed not resectable, so the resection set is ineligible.
    """
    return make_inputs(
        birth_date=span("1980-06-01"),
        ki67=ki67("5"),
        grade=finding("G1", ref="Observation/grade"),
        primary_sites=(primary_site("ileum", "portal"),),
        primary_resections=(procedure("2025-06-01"),),
        extrahepatic_staging=finding(False, ref="Observation/staging"),
        hepatic_tumour_burden=burden("30"),
        metastatic_pattern=finding("type-iii", ref="Observation/pattern"),
        hepatic_disease_resectable=finding(False, ref="Observation/hep-resectable"),
        disease_course=(course("stable", 300), course("responding", 30)),
        bilirubin=bilirubin("0.8"),
        platelets=platelets("220"),
        future_liver_remnant=flr("35"),
        ecog=finding(0, ref="Observation/ecog"),
    )


def resection_candidate() -> CriteriaInputs:
    """Return a patient meeting every resection criterion (type I, all resectable)."""
    return replace(
        transplant_candidate(),
        metastatic_pattern=finding("type-i", ref="Observation/pattern"),
        hepatic_disease_resectable=finding(True, ref="Observation/hep-resectable"),
    )
