"""The SMART launch context of the current request: patient, FHIR server, access token.

After a SMART launch the browser holds only the ``nelm_smart`` cookie, a random session
id; the patient, the FHIR base URL and the access token stay on the server. A page
calls :func:`current_smart_context` and, when it gets one, reads the patient with
``FhirClient(ctx.fhir_base_url, auth=BearerToken(ctx.access_token), ...)``. It should
also check that ``ctx.patient_id`` is the patient the URL names.

The access token is never logged, never put in a URL or a cookie, and hidden from
``repr``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from flask import current_app, has_request_context, request

__all__ = [
    "EXTENSION",
    "SESSION_COOKIE",
    "SmartContext",
    "current_smart_context",
    "session_cookie_name",
]

SESSION_COOKIE = "nelm_smart"
EXTENSION = "nelm_smart"
"""``app.extensions`` key of the launch flow (:class:`~service.smart.flow.SmartLaunchFlow`)."""
SESSION_ID = re.compile(r"[A-Za-z0-9_\-]{32,64}")
STYLE_KEYS = frozenset(
    {
        "color_background",
        "color_error",
        "color_highlight",
        "color_modal_backdrop",
        "color_success",
        "color_text",
        "dim_border_radius",
        "dim_font_size",
        "dim_spacing_size",
        "font_family_body",
        "font_family_heading",
    }
)
"""The SMART style settings the page uses (SMART App Launch, "Styling")."""


def session_cookie_name(patient_id: str) -> str:
    """Return the session cookie of a launch for ``patient_id``: one per patient, so a
    launch for another patient in another tab leaves this one's session alone. The
    name holds a hash of the id, never the id."""
    digest = hashlib.sha256(f"nelm-smart-session:{patient_id}".encode()).hexdigest()
    return f"{SESSION_COOKIE}_{digest[:24]}"


@dataclass(frozen=True)
class SmartContext:
    """What a SMART launch established; ``expires_at`` is when the token runs out (UTC)."""

    patient_id: str
    fhir_base_url: str
    access_token: str = field(repr=False)
    expires_at: datetime
    scope: str | None = None
    """The scopes granted (they may differ from those asked for), if the server said."""
    fhir_user: str | None = None
    """The user's ``fhirUser`` (``Practitioner/123``) from the launch's validated
    ``id_token``, if any: for the audit trail and as the performer of what the user
    records, not for access decisions."""
    need_patient_banner: bool = True
    """SMART: the app shows the patient's identity on screen unless the EHR says it
    already does (``need_patient_banner: false``)."""
    style: Mapping[str, str] = field(default_factory=dict)
    """The EHR's SMART style settings (:data:`STYLE_KEYS`), checked, for the page."""

    def to_record(self) -> dict[str, Any]:
        """Return the context as JSON-ready data (the token included: seal it)."""
        return {
            "patient_id": self.patient_id,
            "fhir_base_url": self.fhir_base_url,
            "access_token": self.access_token,
            "expires_at": self.expires_at.timestamp(),
            "scope": self.scope,
            "fhir_user": self.fhir_user,
            "need_patient_banner": self.need_patient_banner,
            "style": dict(self.style),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> SmartContext | None:
        """Return the context of :meth:`to_record` data, or ``None`` if it is not that."""
        texts = ("patient_id", "fhir_base_url", "access_token")
        if not all(isinstance(record.get(name), str) for name in texts):
            return None
        expires = record.get("expires_at")
        optional = (record.get("scope"), record.get("fhir_user"))
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            return None
        if not all(value is None or isinstance(value, str) for value in optional):
            return None
        banner = record.get("need_patient_banner", True)
        style = record.get("style") or {}
        if not isinstance(style, Mapping) or not all(
            k in STYLE_KEYS and isinstance(v, str) for k, v in style.items()
        ):
            style = {}
        return cls(
            patient_id=record["patient_id"],
            fhir_base_url=record["fhir_base_url"],
            access_token=record["access_token"],
            expires_at=datetime.fromtimestamp(expires, UTC),
            scope=optional[0],
            fhir_user=optional[1],
            need_patient_banner=banner if isinstance(banner, bool) else True,
            style=dict(style),
        )


class _Sessions(Protocol):
    def context(self, session_id: str) -> SmartContext | None: ...


def current_session_id(patient_id: str | None = None) -> str | None:
    """Return this request's session id for ``patient_id`` (its own cookie, else the
    shared ``nelm_smart`` cookie of older launches), if it looks like one."""
    names = ([session_cookie_name(patient_id)] if patient_id else []) + [SESSION_COOKIE]
    for name in names:
        session_id = request.cookies.get(name)
        if session_id and SESSION_ID.fullmatch(session_id):
            return session_id
    return None


def current_smart_context(patient_id: str | None = None) -> SmartContext | None:
    """Return the SMART context of this request for ``patient_id`` (see
    :func:`current_session_id`).

    ``None`` when there is no cookie, the session is unknown or expired (the token's
    ``expires_in``), or SMART launch is not set up. Raises :class:`RuntimeError`
    outside a request.
    """
    if not has_request_context():
        raise RuntimeError("current_smart_context() needs a request")
    sessions: _Sessions | None = current_app.extensions.get(EXTENSION)
    session_id = current_session_id(patient_id)
    if sessions is None or session_id is None:
        return None
    return sessions.context(session_id)
