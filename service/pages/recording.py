"""Recording the MDT's findings from the clinician page, in a SMART launch only.

**Who may record.** Only a SMART launch for this patient whose granted scopes allow
creating Observations (``patient/Observation.c`` in SMART v2, ``.write`` or ``*`` in v1,
also through ``patient/*``); the Observations are written with the clinician's own
token to the EHR's FHIR server, so the EHR's own rules apply too. A signed link or the
demo store show the page without the form.

**Exactly once.** Every form carries a random submission id, kept in the shared store
for an hour with a hash of the session it was made for (the form is useless in another
browser: this is the CSRF check) and taken when the form comes back, so one form is
acted on once: a second post of the same form (a double click, a reload) writes
nothing and shows the page again. Each Observation's identifier is the submission id
and the code, created with ``If-None-Exist``, so a retry after a failure half-way does
not write twice either.

**What is written.** Only answers that differ from what the record already says
(:func:`~service.assessments.fields.parse_submission`), as
:func:`~service.assessments.observations.assessment_observation` builds them; then the
browser is sent to the page (303), which evaluates the record again.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from flask import current_app, request

from service.assessments.fields import FIELDS, PATTERNS, Answer, Submission
from service.assessments.observations import (
    SUBMISSION_SYSTEM,
    assessment_observation,
    submission_identifier,
)
from service.fhir import BearerToken, FhirClient
from service.pages.access import launch_token_errors
from service.settings import allowlist_from, fhir_timeouts
from service.smart.context import current_session_id
from service.state import AppState

__all__ = [
    "FORM_TTL",
    "FieldView",
    "FormView",
    "FormExpiredError",
    "can_record",
    "claim_form",
    "form_view",
    "write_changes",
]

FORM_TTL = 3600.0
FORM_CAP = 20_000
_FORMS, _DONE = "mdt-form", "mdt-form-done"
_SUBMISSION = re.compile(r"[A-Za-z0-9_\-]{32,64}")
_WRITE_SCOPE = re.compile(r"^(patient|user)/(Observation|\*)\.(\*|write|[cruds]*c[cruds]*)$")


def can_record(scope: str | None) -> bool:
    """Say whether granted ``scope`` lets the user create Observations for the patient."""
    return any(_WRITE_SCOPE.match(item) for item in (scope or "").split())


class FormExpiredError(Exception):
    """The form is unknown, expired, already used, or was made for another session."""

    def __init__(self, *, already_recorded: bool) -> None:
        super().__init__("form already used" if already_recorded else "form expired")
        self.already_recorded = already_recorded


@dataclass(frozen=True)
class FieldView:
    """One question of the form as shown: the value in the box, what the record says."""

    code: str
    question: str
    kind: str
    value: str
    recorded: str | None
    error: str | None
    options: tuple[tuple[str, str], ...]
    hint: str


@dataclass(frozen=True)
class FormView:
    """The form: where it posts, its submission id, its questions, and who records."""

    action: str
    submission: str
    fields: tuple[FieldView, ...]
    errors: int
    performer: str | None


def _state() -> AppState:
    state: AppState = current_app.extensions["nelm_state"]
    return state


def _session_hash() -> bytes:
    """Hash the SMART session of this request's patient (the form belongs to it)."""
    patient_id = (request.view_args or {}).get("patient_id")
    session = current_session_id(str(patient_id) if patient_id else None) or ""
    return hashlib.sha256(f"mdt-form:{session}".encode()).digest()


def _shown(answer: Answer | None, options: Mapping[str, str]) -> str:
    if answer is None:
        return ""
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    if isinstance(answer, Decimal):
        return format(answer.normalize(), "f")
    return answer


def form_view(
    action: str,
    recorded: Mapping[str, Answer],
    *,
    performer: str | None,
    sent: Submission | None = None,
) -> FormView:
    """Return a new form (a fresh submission id, kept for this session), pre-filled with
    what the record says, or with what was ``sent`` when it had errors."""
    submission = secrets.token_urlsafe(32)
    _state().store.put(_FORMS, submission, _session_hash(), FORM_TTL, cap=FORM_CAP)
    fields = []
    for field in FIELDS:
        options: tuple[tuple[str, str], ...] = ()
        if field.kind == "yes-no":
            options = (("yes", field.yes), ("no", field.no))
        elif field.kind == "pattern":
            options = PATTERNS
        words = dict(options)
        recorded_text = _shown(recorded.get(field.code), words) or None
        value = sent.raw.get(field.code, "") if sent is not None else (recorded_text or "")
        fields.append(
            FieldView(
                code=field.code,
                question=field.question,
                kind=field.kind,
                value=value,
                recorded=None
                if recorded_text is None
                else words.get(
                    recorded_text, recorded_text + (" %" if field.kind == "percent" else "")
                ),
                error=sent.errors.get(field.code) if sent is not None else None,
                options=options,
                hint=field.hint,
            )
        )
    errors = len(sent.errors) if sent is not None else 0
    return FormView(action, submission, tuple(fields), errors, performer)


def claim_form(submission: str | None) -> str:
    """Take the form's submission id (single use); raise :class:`FormExpiredError` if it
    is unknown, used, expired or belongs to another session. Marks it as used."""
    store = _state().store
    if not submission or not _SUBMISSION.fullmatch(submission):
        raise FormExpiredError(already_recorded=False)
    owner = store.take(_FORMS, submission)
    if owner is None:
        used = store.get(_DONE, submission) is not None
        raise FormExpiredError(already_recorded=used)
    if not secrets.compare_digest(owner, _session_hash()):
        raise FormExpiredError(already_recorded=False)
    store.put(_DONE, submission, b"1", FORM_TTL, cap=FORM_CAP)
    return submission


def release_form(submission: str) -> None:
    """Let a claimed form be sent again (nothing was written: it had errors)."""
    store = _state().store
    store.delete(_DONE, submission)
    store.put(_FORMS, submission, _session_hash(), FORM_TTL, cap=FORM_CAP)


def write_changes(
    changes: Mapping[str, Answer],
    *,
    patient_id: str,
    fhir_base_url: str,
    access_token: str,
    performer: str | None,
    submission: str,
) -> int:
    """Create one Observation per changed answer on the launch's FHIR server with the
    user's token; return how many were created (a repeat matches and creates none)."""
    config = current_app.config
    now = datetime.now(UTC)
    by_code = {field.code: field for field in FIELDS}
    created = 0
    with launch_token_errors(None):
        client = FhirClient(
            fhir_base_url,
            allowlist=allowlist_from(config),
            auth=BearerToken(access_token),
            timeout=fhir_timeouts(config),
        )
        with client:
            for code, answer in changes.items():
                resource = assessment_observation(
                    by_code[code],
                    answer,
                    patient=f"Patient/{patient_id}",
                    performer=performer,
                    recorded_at=now,
                    submission=submission,
                )
                identifier = f"{SUBMISSION_SYSTEM}|{submission_identifier(submission, code)}"
                result = client.create(resource, if_none_exist={"identifier": identifier})
                created += int(result.created)
    return created
