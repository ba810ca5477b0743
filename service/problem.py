"""Error answers in the form each kind of route speaks.

- The REST API (and every other route without its own format) answers RFC 9457 problem
  details, ``application/problem+json``: ``type`` (``tag:nelm-cds,2026:problem:<error>``,
  an identifier, not a link: RFC 9457 §3.1.1 lets a type URI be non-resolvable),
  ``title`` (the HTTP status phrase of RFC 9110: it does not change between occurrences of a type,
  since each ``error`` has one status), ``status``, ``detail`` (what happened, safe to
  show), and the extension members the API has always sent: ``error`` (the machine
  code), ``message`` (the same text as ``detail``) and any others (``outcome``: the FHIR
  server's OperationOutcome; ``reason``; ``scope``).
- The CDS Hooks routes (``/cds-services``) keep their plain JSON (``error``,
  ``message``): CDS clients read that.
- The FHIR routes (``/fhir/...``) answer a FHIR ``OperationOutcome``
  (``application/fhir+json``).

The clinician pages have their own HTML error pages (:mod:`service.pages.routes`).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, jsonify

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_PREFIX",
    "error_response",
    "operation_outcome",
    "problem_details",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "tag:nelm-cds,2026:problem:"
CDS_HOOKS_PREFIX = "/cds-services"
FHIR_PREFIX = "/fhir/"

# OperationOutcome.issue.code (FHIR R4 value set issue-type) for an HTTP status.
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    504: "timeout",
}


# RFC 9110 renamed these; Python 3.11's http.HTTPStatus still has the RFC 7231 phrases.
_RFC_9110_PHRASES = {413: "Content Too Large", 422: "Unprocessable Content"}


def _title(status: int) -> str:
    if status in _RFC_9110_PHRASES:
        return _RFC_9110_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_details(
    status: int, error: str, detail: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return an RFC 9457 problem details object; ``extra`` members are added after the
    standard ones and never replace them."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + error,
        "title": _title(status),
        "status": status,
        "detail": detail,
        "error": error,
        "message": detail,
    }
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return body


def operation_outcome(status: int, detail: str) -> dict[str, Any]:
    """Return a FHIR OperationOutcome with one error issue saying ``detail``."""
    code = _ISSUE_CODES.get(status, "exception")
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": detail}],
    }


def error_response(
    path: str, status: int, error: str, detail: str, extra: dict[str, Any] | None = None
) -> Response:
    """Return the error answer for a request to ``path`` in that route's format."""
    if path == CDS_HOOKS_PREFIX or path.startswith(CDS_HOOKS_PREFIX + "/"):
        response = jsonify({"error": error, "message": detail, **(extra or {})})
    elif path.startswith(FHIR_PREFIX):
        response = jsonify(operation_outcome(status, detail))
        response.mimetype = "application/fhir+json"
    else:
        response = jsonify(problem_details(status, error, detail, extra))
        response.mimetype = PROBLEM_MEDIA_TYPE
    response.status_code = status
    return response
