"""REST API blueprint: evaluate a posted Bundle or a patient by id; list criteria sets."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from service import __version__
from service.app_services import (
    evaluation_config,
    patient_source,
    readiness_checks,
    terminology,
)
from service.auth.audit import note
from service.auth.guard import requires
from service.auth.resource_server import EVALUATIONS_READ, RISK_ASSESSMENTS_WRITE
from service.code_names import code_names
from service.criteria import DEFAULT_SETS, CriteriaSet, Criterion, EvaluationConfig
from service.criteria.documentation import rule_text
from service.criteria.sources import SOURCES, cite, full_citation, seeds_in
from service.criteria.transparency import REGULATION, source_attributes
from service.engine import (
    evaluate_bundle,
    evaluate_record,
    run_evaluation,
)
from service.errors import BadRequestError, NotFoundError, ServiceError, UnprocessableError
from service.mappers import BundleError, load_bundle_json
from service.query_params import checked_patient_id, evaluation_date_param
from service.request_body import check_entries, one_large_body_at_a_time, read_body
from service.result_json import evaluation_to_json
from service.sources import DemoSource
from service.writeback import build_risk_assessment, risk_assessment_id

__all__ = ["blueprint"]

blueprint = Blueprint("api", __name__)

JSON_TYPES = ("application/json", "application/fhir+json")


class UnsupportedMediaTypeError(ServiceError):
    """The body is not sent as JSON."""

    status_code = 415
    code = "unsupported_media_type"


def _json_body() -> Any:
    if request.mimetype not in JSON_TYPES:
        raise UnsupportedMediaTypeError(
            "send the Bundle as application/fhir+json or application/json"
        )
    try:
        return load_bundle_json(read_body())
    except BundleError as exc:
        raise BadRequestError(str(exc)) from exc


def _flag(name: str) -> bool:
    value = request.args.get(name, "false")
    if value not in ("true", "false"):
        raise BadRequestError(f"parameter '{name}' must be true or false")
    return value == "true"


def _describe_source(seed: str) -> dict[str, Any]:
    source = SOURCES[seed]
    return {
        "seed": seed,
        "shortName": source.short_name,
        "citation": full_citation(seed),
        "doi": source.doi,
        "verified": source.verified,
    }


def _describe_set(criteria_set: CriteriaSet, config: EvaluationConfig) -> dict[str, Any]:
    def thresholds(values: Any) -> dict[str, Any]:
        return {name: {"value": _number(t.value), "unit": t.unit} for name, t in values.items()}

    def rules(criterion: Criterion) -> dict[str, str]:
        text = rule_text(criterion, config)
        return {"met": text.met, "notMet": text.not_met, "unknown": text.unknown}

    cited = [criteria_set.source, *(c.source for c in criteria_set.criteria)]
    return {
        "id": criteria_set.id,
        "version": criteria_set.version,
        "title": criteria_set.title,
        "pathway": criteria_set.pathway,
        "source": criteria_set.source,
        "sourceCitation": cite(criteria_set.source),
        "sources": [_describe_source(seed) for seed in seeds_in(cited)],
        "sourceAttributes": source_attributes(criteria_set, DEFAULT_SETS).to_json(),
        "criteria": [
            {
                "id": c.id,
                "label": c.label,
                "rule": c.rule,
                "inputs": list(c.inputs),
                "thresholds": thresholds(c.thresholds),
                "combines": list(c.parts),
                "source": c.source,
                "sourceCitation": cite(c.source),
                "rationale": c.rationale,
                "rules": rules(c),
            }
            for c in criteria_set.criteria
        ],
    }


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Say the process is up (no dependency is checked)."""
    return jsonify(status="ok", version=__version__)


@blueprint.get("/api/criteria-sets")
def criteria_sets() -> ResponseReturnValue:
    """List the criteria sets with versions, criteria, thresholds, rules in words, sources
    (short and full citations) and HTI-1 source attributes."""
    config = evaluation_config()
    limit = {"value": _number(config.bilirubin_upper_limit_mg_dl), "unit": "mg/dL"}
    return jsonify(
        criteriaSets=[_describe_set(s, config) for s in DEFAULT_SETS],
        sourceAttributesRegulation=REGULATION,
        documentation=url_for("criteria_docs.criteria"),
        defaults={
            "bilirubinUpperLimit": limit,
            "maxEcogForSurgery": config.max_ecog_for_surgery,
            "labFreshnessDays": config.lab_freshness_days,
        },
    )


@blueprint.post("/api/evaluate")
@requires(EVALUATIONS_READ, "evaluation.bundle")
def evaluate_posted_bundle() -> ResponseReturnValue:
    """Evaluate the patient of a posted FHIR Bundle (``?at=``, ``?patient=``)."""
    at = evaluation_date_param()
    with one_large_body_at_a_time():
        bundle = _json_body()
        check_entries(bundle)
        try:
            result = evaluate_bundle(
                bundle,
                at,
                request.args.get("patient"),
                config=evaluation_config(),
                terminology=terminology(),
            )
        except BundleError as exc:
            raise UnprocessableError(str(exc)) from exc
        del bundle
    _note_patient(result.get("patient"))
    return jsonify(result)


def _note_patient(reference: object) -> None:
    """Name the evaluated patient of a posted Bundle in the audit trail."""
    if isinstance(reference, str) and reference.startswith("Patient/"):
        note(patient_id=reference.removeprefix("Patient/"))


@blueprint.get("/api/patients/<patient_id>/evaluation")
@requires(EVALUATIONS_READ, "evaluation.read")
def evaluate_patient(patient_id: str) -> ResponseReturnValue:
    """Evaluate a patient by id from the configured data source (``?at=``)."""
    at = evaluation_date_param()
    record = patient_source().record(checked_patient_id(patient_id))
    return jsonify(
        evaluate_record(record, at, config=evaluation_config(), terminology=terminology())
    )


@blueprint.post("/api/patients/<patient_id>/risk-assessment")
@requires(RISK_ASSESSMENTS_WRITE, "risk-assessment.write")
def write_risk_assessment(patient_id: str) -> ResponseReturnValue:
    """Evaluate a patient and write the RiskAssessment back (``?at=``, ``?dry-run=true``).

    The same evaluation written twice leaves one resource: 201 when created, 200 when
    it already existed; ``dry-run`` returns the resource without writing it.
    """
    at = evaluation_date_param()
    dry_run = _flag("dry-run")
    if dry_run:
        note("risk-assessment.dry-run")
    source = patient_source()
    record = source.record(checked_patient_id(patient_id))
    evaluation = run_evaluation(record, at, config=evaluation_config(), terminology=terminology())
    deceased = evaluation.deceased
    if deceased is not None:
        # criteria.md §7: no RiskAssessment for an evaluation date after death (dry-run too)
        when = "with no date" if deceased.date is None else f"on {deceased.label}"
        raise UnprocessableError(
            f"the patient is recorded as deceased {when}: no RiskAssessment is written for an "
            "evaluation date on or after death",
            details={"reason": "patient_deceased"},
        )
    metastases = evaluation.inputs.liver_metastases
    result = evaluation_to_json(evaluation)
    resource = build_risk_assessment(
        result,
        liver_metastasis_reference=metastases[-1].reference if metastases else None,
        code_names=code_names(result, record),
    )
    resource["id"] = risk_assessment_id(resource)
    if dry_run:
        return _fhir_json(resource)
    written = source.write_risk_assessment(resource)
    response = _fhir_json(written.resource)
    if written.location:  # the resource on the FHIR server (none for the demo store)
        response.headers["Location"] = written.location
    response.status_code = 201 if written.created else 200
    return response


def _fhir_json(resource: dict[str, Any]) -> Response:
    """Answer a FHIR resource as ``application/fhir+json``."""
    response = jsonify(resource)
    response.mimetype = "application/fhir+json"
    return response


@blueprint.get("/api/patients")
@requires(EVALUATIONS_READ, "patients.list")
def list_patients() -> ResponseReturnValue:
    """List the patients of the embedded demo store (not offered for a FHIR server)."""
    source = patient_source()
    if not isinstance(source, DemoSource):
        raise NotFoundError("patient listing is offered only on the embedded demo store")
    return jsonify(patients=source.store.patient_ids())


@blueprint.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Say whether the data source answers (the FHIR server's CapabilityStatement) and
    the stores a call needs (the replay store, the feedback store) can be written."""
    source = patient_source()
    ready, detail = source.ready()
    stores = {name: _store_state(check) for name, check in readiness_checks().items()}
    ready = ready and all(state == "ready" for state in stores.values())
    body = {
        "status": "ready" if ready else "not_ready",
        "source": source.name,
        "detail": detail,
        "stores": stores,
    }
    return jsonify(body), 200 if ready else 503


def _store_state(check: Callable[[], None]) -> str:
    try:
        check()
    except Exception:  # noqa: BLE001 - any failure of a store means "not ready"
        return "not_ready"
    return "ready"


@blueprint.get("/fhir/CodeSystem/nelm-assessment")
def code_system() -> ResponseReturnValue:
    """Publish the service's CodeSystem (assessment, pattern and outcome codes)."""
    response = jsonify(current_app.extensions["nelm_code_system"])
    response.mimetype = "application/fhir+json"
    return response
