"""One call from a Bundle (or a patient record) to the JSON evaluation result."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from service.criteria import DEFAULT_SETS, CriteriaSet, Evaluation, EvaluationConfig, evaluate
from service.mappers import DEFAULT_TERMINOLOGY, PatientRecord, Terminology, map_record
from service.mappers.bundle import record_from_bundle
from service.mappers.validation import validation_budget
from service.metrics.recorders import timed_evaluation
from service.result_json import evaluation_to_json

__all__ = [
    "EARLIEST_EVALUATION_DATE",
    "evaluate_bundle",
    "evaluate_record",
    "parse_evaluation_date",
    "run_evaluation",
]

EARLIEST_EVALUATION_DATE = date(1900, 1, 1)
"""Look-back windows are subtracted from the evaluation date; earlier dates are refused."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fromisoformat alone takes "2026-W47-1"


def parse_evaluation_date(text: str) -> date:
    """Return the date ``YYYY-MM-DD`` (1900-01-01 or later); ``ValueError`` saying why."""
    if not _DATE.fullmatch(text):
        raise ValueError(f"'{text}' is not a date of the form YYYY-MM-DD")
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a date of the form YYYY-MM-DD") from exc
    if day < EARLIEST_EVALUATION_DATE:
        raise ValueError(f"the evaluation date must be {EARLIEST_EVALUATION_DATE} or later")
    return day


def run_evaluation(
    record: PatientRecord,
    at: date,
    *,
    config: EvaluationConfig | None = None,
    terminology: Terminology = DEFAULT_TERMINOLOGY,
    sets: tuple[CriteriaSet, ...] = DEFAULT_SETS,
) -> Evaluation:
    """Map and evaluate one patient's record; return the typed evaluation.

    Validation is bounded per evaluation (:func:`~service.mappers.validation.validation_budget`):
    a hostile record cannot make it take minutes. Its time is recorded in the
    ``nelm_evaluation_duration_seconds`` metric.
    """
    with timed_evaluation():
        with validation_budget():
            inputs = map_record(record, at, terminology)
        return evaluate(inputs, sets, config or EvaluationConfig())


def evaluate_record(
    record: PatientRecord,
    at: date,
    *,
    config: EvaluationConfig | None = None,
    terminology: Terminology = DEFAULT_TERMINOLOGY,
    sets: tuple[CriteriaSet, ...] = DEFAULT_SETS,
) -> dict[str, Any]:
    """Map and evaluate one patient's record; return the JSON result."""
    evaluation = run_evaluation(record, at, config=config, terminology=terminology, sets=sets)
    return evaluation_to_json(evaluation)


def evaluate_bundle(
    bundle: Any,
    at: date,
    patient_id: str | None = None,
    *,
    config: EvaluationConfig | None = None,
    terminology: Terminology = DEFAULT_TERMINOLOGY,
) -> dict[str, Any]:
    """Evaluate the patient of a parsed Bundle; raises ``BundleError`` for bad input."""
    record = record_from_bundle(bundle, patient_id)
    return evaluate_record(record, at, config=config, terminology=terminology)
