"""Build the FHIR R4 RiskAssessment written back for an evaluation (interfaces.md §5).

Pure: no I/O. The caller (the API layer) supplies the evaluation result of
interfaces.md §1, the time of the evaluation, the Device that stands for the service
and, when known, the liver-metastasis Condition. The service writes the resource with
``PUT RiskAssessment/{risk_assessment_id(resource)}``: the id comes from the
identifier, so the same evaluation lands on one resource, under retries too, and on
servers whose identifier search ignores RiskAssessment. :func:`conditional_create_query`
gives the ``If-None-Exist`` search for clients that prefer a conditional create on
servers where that search works.

Decisions the caller must know:

- ``basis`` lists every distinct evidence reference of the result, the Patient
  included (its birthDate is the evidence of the age criteria), in first-seen order:
  set by set, criterion by criterion, evidence by evidence.
- The ``identifier`` is a SHA-256 digest of a canonical JSON of the patient, the
  evaluation date and, for every set, its id, version, status and each criterion's
  id, status and evidence (reference, value, unit, date). Reasons, notes, the engine
  version, the time of writing, the Device and the Condition are left out: they do not
  change what was decided on which data, so writing the same evaluation again creates
  no second resource, while new evidence or a new criteria-set version does.
- Every string is a non-empty FHIR string; a result that cannot be written raises
  :class:`WritebackError` naming the offending field.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from service.criteria import DEFAULT_SETS
from service.writeback_text import MDT_STATEMENT, clean, narrative, notes, rationale

__all__ = [
    "ASSESSMENT_SYSTEM",
    "DEFAULT_DEVICE_REFERENCE",
    "EVALUATION_IDENTIFIER_SYSTEM",
    "METHOD_CODE",
    "MDT_STATEMENT",
    "OUTCOME_DISPLAYS",
    "WritebackError",
    "build_risk_assessment",
    "conditional_create_query",
    "risk_assessment_id",
    "evaluation_identifier",
    "narrative",
]

ASSESSMENT_SYSTEM = "https://nelm-cds.github.io/fhir/CodeSystem/nelm-assessment"
EVALUATION_IDENTIFIER_SYSTEM = "https://nelm-cds.github.io/fhir/sid/evaluation"
METHOD_CODE = "nelm-eligibility"
METHOD_DISPLAY = "NELM eligibility evaluation"
ASSESSMENT_CODE: Mapping[str, Any] = {
    "coding": [
        {
            "system": "https://nelm-cds.github.io/fhir/CodeSystem/nelm-assessment",
            "code": "nelm-eligibility-assessment",
            "display": "Eligibility for liver transplantation and liver resection",
        }
    ],
    "text": "Eligibility for liver transplantation and liver resection "
    "(neuroendocrine liver metastases)",
}
"""``RiskAssessment.code``, the type of assessment (the ``method`` says how it was made)."""
DEFAULT_DEVICE_REFERENCE = "Device/nelm-cds"
IDENTIFIER_SCHEME = "nelm-cds/evaluation-identifier/1"
"""Part of the digest input: bump it if the canonical form below ever changes."""

SET_TITLES: Mapping[str, str] = {s.id: s.title for s in DEFAULT_SETS}
"""The criteria sets the CodeSystem has outcome codes for (criteria.md §4)."""

STATUS_TEXT: Mapping[str, str] = {
    "eligible": "eligible",
    "ineligible": "not eligible",
    "indeterminate": "indeterminate (data needed)",
}
OUTCOME_DISPLAYS: Mapping[str, str] = {
    f"{set_id}-{status}": f"{title}: {text}"
    for set_id, title in SET_TITLES.items()
    for status, text in STATUS_TEXT.items()
}
"""Display of every ``<set id>-<status>`` code, as in the shipped CodeSystem."""

_CRITERION_STATUSES = ("met", "not_met", "unknown")
_EVIDENCE_KEYS = ("reference", "value", "unit", "date")
_ID = r"[A-Za-z0-9\-.]{1,64}"
_REFERENCE = re.compile(rf"(?P<type>[A-Z][A-Za-z]{{1,63}})/{_ID}")  # used with fullmatch


class WritebackError(ValueError):
    """The evaluation result or an argument cannot be written as a RiskAssessment."""


def build_risk_assessment(
    result: Mapping[str, Any],
    *,
    occurred_at: datetime | None = None,
    device_reference: str = DEFAULT_DEVICE_REFERENCE,
    liver_metastasis_reference: str | None,
    code_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the RiskAssessment for an evaluation result (interfaces.md §1 and §5).

    ``code_names`` (:func:`service.code_names.code_names` of the patient's record) names
    the codes the rationales and notes mention as the record does; without it they stay
    bare codes.

    ``occurrenceDateTime`` is the evaluation's "as of" date (interfaces.md §5), so a
    retrospective write-back sorts where it belongs; ``occurred_at`` replaces it with a
    moment (which must carry a time zone) only when a caller knows one on that date.
    ``status`` is ``final`` when every set is decided and ``preliminary`` otherwise;
    the resource has no ``id``: create it conditionally on its identifier.
    """
    patient = _reference(result.get("patient"), "result.patient", "Patient")
    evaluated = _evaluation_date(result.get("evaluationDate"))
    assessments = _assessments(result.get("assessments"))
    engine = _engine(result.get("engine"))
    performer: dict[str, Any] = {
        "reference": _reference(device_reference, "device_reference", "Device")
    }
    if engine:
        performer["display"] = engine
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "identifier": [
            {"system": EVALUATION_IDENTIFIER_SYSTEM, "value": evaluation_identifier(result)}
        ],
        "status": _fhir_status(assessments),
        "method": _method(assessments, engine),
        "code": dict(ASSESSMENT_CODE),
        "subject": {"reference": patient},
        "occurrenceDateTime": evaluated if occurred_at is None else _date_time(occurred_at),
    }
    if liver_metastasis_reference is not None:
        resource["condition"] = {
            "reference": _reference(
                liver_metastasis_reference, "liver_metastasis_reference", "Condition"
            )
        }
    resource["performer"] = performer
    basis = _basis(assessments)
    if basis:
        resource["basis"] = [{"reference": reference} for reference in basis]
    # the record's display texts, as FHIR strings: no control characters
    names = {code: clean(name) for code, name in (code_names or {}).items() if clean(name)}
    resource["prediction"] = [_prediction(a, names) for a in assessments]
    resource["note"] = notes(result, names)
    # FHIR element order: the narrative comes right after resourceType.
    return {"resourceType": "RiskAssessment", "text": narrative(resource), **resource}


def _identifier_value(resource: Mapping[str, Any]) -> str:
    for identifier in resource.get("identifier") or ():
        if (
            isinstance(identifier, Mapping)
            and identifier.get("system") == EVALUATION_IDENTIFIER_SYSTEM
            and isinstance(identifier.get("value"), str)
            and identifier["value"]
        ):
            return str(identifier["value"])
    raise WritebackError(f"resource has no identifier in system {EVALUATION_IDENTIFIER_SYSTEM}")


def conditional_create_query(resource: Mapping[str, Any]) -> str:
    """Return the ``If-None-Exist`` search (``identifier=system|value``) for a RiskAssessment.

    Raises :class:`WritebackError` when the resource has no evaluation identifier.
    """
    system = quote(EVALUATION_IDENTIFIER_SYSTEM, safe=":/")
    return f"identifier={system}|{quote(_identifier_value(resource), safe='')}"


def risk_assessment_id(resource: Mapping[str, Any]) -> str:
    """Return the resource id derived from the evaluation identifier (``nelm-`` + 48 hex).

    Writing with ``PUT RiskAssessment/{id}`` makes the write-back idempotent without
    relying on the server's identifier search (some servers ignore it). The same
    evaluation always gets the same id; 192 bits of the digest keep ids unique.
    """
    return f"nelm-{_identifier_value(resource)[:48]}"


def evaluation_identifier(result: Mapping[str, Any]) -> str:
    """Return the SHA-256 hex digest that identifies an evaluation (see the module notes)."""
    assessments = _assessments(result.get("assessments"))
    canonical = {
        "scheme": IDENTIFIER_SCHEME,
        "patient": _reference(result.get("patient"), "result.patient", "Patient"),
        "evaluationDate": _evaluation_date(result.get("evaluationDate")),
        "assessments": [
            {
                "criteriaSet": a["criteriaSet"],
                "version": a["version"],
                "status": a["status"],
                "criteria": [
                    {
                        "id": c["id"],
                        "status": c["status"],
                        "evidence": [
                            {key: e[key] for key in _EVIDENCE_KEYS if key in e}
                            for e in c["evidence"]
                        ],
                    }
                    for c in a["criteria"]
                ],
            }
            for a in assessments
        ],
    }
    try:
        text = json.dumps(
            canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise WritebackError(f"evidence values must be plain JSON values: {exc}") from exc
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- reading the result


def _assessments(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise WritebackError("result.assessments must be a non-empty list")
    seen: set[str] = set()
    for index, assessment in enumerate(value):
        where = f"result.assessments[{index}]"
        if not isinstance(assessment, Mapping):
            raise WritebackError(f"{where} must be an object")
        set_id = assessment.get("criteriaSet")
        if not isinstance(set_id, str) or set_id not in SET_TITLES:
            raise WritebackError(f"{where}.criteriaSet {set_id!r} is not one of {list(SET_TITLES)}")
        if set_id in seen:
            raise WritebackError(f"{where}.criteriaSet {set_id!r} appears twice")
        seen.add(set_id)
        _text(assessment.get("version"), f"{where}.version")
        if assessment.get("status") not in STATUS_TEXT:
            raise WritebackError(f"{where}.status must be one of {list(STATUS_TEXT)}")
        _check_criteria(assessment.get("criteria"), where)
    return list(value)


def _check_criteria(criteria: Any, where: str) -> None:
    if not isinstance(criteria, Sequence) or isinstance(criteria, str) or not criteria:
        raise WritebackError(f"{where}.criteria must be a non-empty list")
    for index, criterion in enumerate(criteria):
        here = f"{where}.criteria[{index}]"
        if not isinstance(criterion, Mapping):
            raise WritebackError(f"{here} must be an object")
        _text(criterion.get("id"), f"{here}.id")
        if criterion.get("status") not in _CRITERION_STATUSES:
            raise WritebackError(f"{here}.status must be one of {list(_CRITERION_STATUSES)}")
        _text(criterion.get("reason"), f"{here}.reason")
        for key in ("evidence", "needs"):
            if not isinstance(criterion.get(key), list):
                raise WritebackError(f"{here}.{key} must be a list")
        for number, evidence in enumerate(criterion["evidence"]):
            if not isinstance(evidence, Mapping):
                raise WritebackError(f"{here}.evidence[{number}] must be an object")
            _reference(evidence.get("reference"), f"{here}.evidence[{number}].reference")


def _engine(value: Any) -> str:
    if not isinstance(value, Mapping):
        return ""
    parts = [value.get("name"), value.get("version")]
    return " ".join(clean(p) for p in parts if isinstance(p, str) and clean(p))


def _evaluation_date(value: Any) -> str:
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise WritebackError("result.evaluationDate must be a date YYYY-MM-DD") from exc


def _reference(value: Any, where: str, resource_type: str | None = None) -> str:
    match = _REFERENCE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise WritebackError(f"{where} must be a relative FHIR reference 'Type/id', got {value!r}")
    if resource_type is not None and match["type"] != resource_type:
        raise WritebackError(f"{where} must reference a {resource_type}, got {value!r}")
    return str(value)


def _text(value: Any, where: str) -> str:
    cleaned = clean(value) if isinstance(value, str) else ""
    if not cleaned:
        raise WritebackError(f"{where} must be a non-empty string")
    return cleaned


# ---------------------------------------------------------------- building the resource


def _date_time(moment: datetime) -> str:
    offset = moment.utcoffset()
    if offset is None:
        raise WritebackError("occurred_at must carry a time zone")
    if offset.total_seconds() % 60:
        # FHIR offsets are hours and minutes; a seconds offset (old LMT zones) goes to UTC.
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="seconds")


def _fhir_status(assessments: list[Mapping[str, Any]]) -> str:
    undecided = any(a["status"] == "indeterminate" for a in assessments)
    return "preliminary" if undecided else "final"


def _title(assessment: Mapping[str, Any]) -> str:
    title = assessment.get("title")
    if isinstance(title, str) and clean(title):
        return clean(title)
    return SET_TITLES[assessment["criteriaSet"]]


def _method(assessments: list[Mapping[str, Any]], engine: str) -> dict[str, Any]:
    sets = "; ".join(f"{a['criteriaSet']} {clean(a['version'])} ({_title(a)})" for a in assessments)
    by = f" by {engine}" if engine else ""
    return {
        "coding": [{"system": ASSESSMENT_SYSTEM, "code": METHOD_CODE, "display": METHOD_DISPLAY}],
        "text": f"{METHOD_DISPLAY}{by}, criteria sets: {sets}",
    }


def _prediction(assessment: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    code = f"{assessment['criteriaSet']}-{assessment['status']}"
    return {
        "outcome": {
            "coding": [
                {"system": ASSESSMENT_SYSTEM, "code": code, "display": OUTCOME_DISPLAYS[code]}
            ],
            "text": f"{_title(assessment)}: {STATUS_TEXT[assessment['status']]}",
        },
        "rationale": rationale(assessment, names),
    }


def _basis(assessments: list[Mapping[str, Any]]) -> list[str]:
    references = (
        evidence["reference"]
        for assessment in assessments
        for criterion in assessment["criteria"]
        for evidence in criterion["evidence"]
    )
    return list(dict.fromkeys(references))
