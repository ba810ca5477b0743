"""Query parameters shared by the JSON API and the clinician page."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import request

from service.engine import parse_evaluation_date
from service.errors import BadRequestError
from service.mappers.reading import is_fhir_id

__all__ = ["checked_patient_id", "evaluation_date_param"]


def evaluation_date_param() -> date:
    """Return ``?at=`` (YYYY-MM-DD, 1900 or later), or today in UTC when absent.

    Raises :class:`BadRequestError` (400) saying what is wrong.
    """
    text = request.args.get("at")
    if text is None:
        return datetime.now(UTC).date()
    try:
        return parse_evaluation_date(text)
    except ValueError as exc:
        raise BadRequestError(f"parameter 'at': {exc}") from exc


def checked_patient_id(patient_id: str) -> str:
    """Return ``patient_id`` if it is a FHIR id, else raise :class:`BadRequestError`."""
    if not is_fhir_id(patient_id):
        raise BadRequestError("a patient id is 1-64 letters, digits, '-' or '.'")
    return patient_id
