"""The evaluation result as JSON (interfaces.md §1, evaluation-result.schema.json)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from service import ENGINE_NAME, __version__
from service.criteria import CriterionResult, Evaluation, SetResult
from service.criteria.decisive import DecisiveData, ItemImpact, decisive_data
from service.criteria.values import Evidence, EvidenceValue

__all__ = ["decisive_to_json", "evaluation_to_json"]


_THOUSANDTH = Decimal("0.001")


def _json_value(value: EvidenceValue) -> Any:
    if isinstance(value, Decimal):
        rounded = value.quantize(_THOUSANDTH).normalize()
        return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)
    return value


def _evidence(item: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {"reference": item.reference}
    if item.value is not None:
        out["value"] = _json_value(item.value)
    if item.unit is not None:
        out["unit"] = item.unit
    if item.date is not None:
        out["date"] = item.date
    if item.component is not None:
        out["component"] = item.component
    return out


def _criterion(result: CriterionResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "status": result.status.value,
        "reason": result.reason,
        "evidence": [_evidence(e) for e in dict.fromkeys(result.evidence)],
        "needs": list(result.needs),
    }


def _assessment(result: SetResult) -> dict[str, Any]:
    criteria_set = result.criteria_set
    return {
        "criteriaSet": criteria_set.id,
        "version": criteria_set.version,
        "title": criteria_set.title,
        "pathway": criteria_set.pathway,
        "status": result.status.value,
        "summary": result.summary,
        "criteria": [_criterion(r) for r in result.results],
    }


def _impact(impact: ItemImpact) -> dict[str, Any]:
    return {
        "key": impact.item.key,
        "label": impact.item.label,
        "couldChange": list(impact.changes),
        "decides": list(impact.decides),
        "askedBy": [{"criteriaSet": s, "criterion": c} for s, c in impact.asked_by],
    }


def decisive_to_json(decisive: DecisiveData) -> dict[str, Any]:
    """Return the optional ``decisiveData`` member: what would change the verdict."""
    return {
        "toRecord": [_impact(i) for i in decisive.to_record],
        "mdtDecisions": [_impact(i) for i in decisive.mdt_decisions],
        "wouldNotChange": [_impact(i) for i in decisive.would_not_change],
    }


def evaluation_to_json(evaluation: Evaluation) -> dict[str, Any]:
    """Return the evaluation as the JSON object of the result contract."""
    return {
        "patient": evaluation.inputs.patient,
        "evaluationDate": evaluation.inputs.evaluation_date.isoformat(),
        "engine": {"name": ENGINE_NAME, "version": __version__},
        "assessments": [_assessment(r) for r in evaluation.set_results],
        "notes": list(evaluation.notes),
        "warnings": [
            {"reference": w.reference, "message": w.message}
            if w.reference is not None
            else {"message": w.message}
            for w in evaluation.warnings
        ],
        "decisiveData": decisive_to_json(decisive_data(evaluation)),
    }
