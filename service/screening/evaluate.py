"""Evaluate one candidate: their grouped resources → the same JSON as the CLI.

The resources are put in a ``collection`` Bundle (the Patient first, then the export's
order) and evaluated by the one pure per-patient path of :mod:`service.engine`, so a
result equals ``python -m service evaluate --bundle`` on that Bundle. Numbers are read
as exact decimals, as the CLI reads them. Besides the result, a small summary feeds
the worklist and the report (identity, verdicts, whether the liver metastasis is a
present NET one: the card rule). One patient's failure never stops a run: it becomes
a summary with an ``error``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from service.cdshooks.cards import has_net_liver_metastasis
from service.code_names import code_names
from service.criteria import EvaluationConfig
from service.engine import run_evaluation
from service.mappers import BundleError, Terminology, record_from_bundle
from service.mappers.json_text import parse_json
from service.result_json import evaluation_to_json
from service.screening.worklist import decisive_missing, identity_of, mdt_decisions

__all__ = ["MAX_RESOURCES_PER_PATIENT", "Outcome", "bundle_of", "evaluate_group"]

MAX_RESOURCES_PER_PATIENT = 50_000
"""A record larger than this is not evaluated (reported), as the CLI refuses huge files."""


@dataclass(frozen=True)
class Outcome:
    """One patient's result (JSON text, ``None`` when not evaluated) and summary."""

    patient: str
    result: str | None
    summary: dict[str, Any]


def bundle_of(bodies: Sequence[str]) -> dict[str, Any]:
    """Return the ``collection`` Bundle of a patient's resources (JSON texts, in order)."""
    entries = [{"resource": parse_json(body)} for body in bodies]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def evaluate_group(
    patient_id: str,
    group: Sequence[tuple[int, str]],
    at: date,
    terminology: Terminology,
    config: EvaluationConfig,
) -> Outcome:
    """Evaluate one patient's ``(is_patient, body)`` rows (Patient rows first)."""
    if not any(is_patient for is_patient, _ in group):
        return Outcome(
            patient_id,
            None,
            {"patient": f"Patient/{patient_id}", "error": "no Patient resource in the export"},
        )
    if len(group) > MAX_RESOURCES_PER_PATIENT:
        return Outcome(
            patient_id,
            None,
            {
                "patient": f"Patient/{patient_id}",
                "error": f"more than {MAX_RESOURCES_PER_PATIENT} resources",
            },
        )
    try:
        bundle = bundle_of([body for _, body in group])
        record = record_from_bundle(bundle)  # as the CLI: the one Patient, no --patient
        evaluation = run_evaluation(record, at, config=config, terminology=terminology)
        result = evaluation_to_json(evaluation)
    except BundleError as exc:
        return Outcome(patient_id, None, {"patient": f"Patient/{patient_id}", "error": str(exc)})
    except Exception as exc:  # noqa: BLE001 - one patient must never stop the run
        message = f"evaluation failed ({type(exc).__name__})"
        return Outcome(patient_id, None, {"patient": f"Patient/{patient_id}", "error": message})
    metastases = evaluation.inputs.liver_metastases
    summary = {
        "patient": result["patient"],
        **identity_of(record.patient.resource),
        "net": has_net_liver_metastasis(evaluation.inputs),
        "deceased": evaluation.deceased is not None,
        "statuses": {a["criteriaSet"]: a["status"] for a in result["assessments"]},
        "missing": decisive_missing(result),
        "mdt": mdt_decisions(result),
        "warnings": len(result["warnings"]),
        "liverMetastasis": metastases[-1].reference if metastases else None,
        "codeNames": code_names(result, record),  # for --write-back's words
    }
    return Outcome(patient_id, json.dumps(result, ensure_ascii=False), summary)
