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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from flask import current_app, has_request_context, request

__all__ = ["EXTENSION", "SESSION_COOKIE", "SmartContext", "current_smart_context"]

SESSION_COOKIE = "nelm_smart"
EXTENSION = "nelm_smart"
"""``app.extensions`` key of the launch flow (:class:`~service.smart.flow.SmartLaunchFlow`)."""
SESSION_ID = re.compile(r"[A-Za-z0-9_\-]{32,64}")


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
    """The user's ``fhirUser`` (``Practitioner/123``) from the launch's ``id_token``, if
    any: for the audit trail, not for access decisions."""

    def to_record(self) -> dict[str, Any]:
        """Return the context as JSON-ready data (the token included: seal it)."""
        return {
            "patient_id": self.patient_id,
            "fhir_base_url": self.fhir_base_url,
            "access_token": self.access_token,
            "expires_at": self.expires_at.timestamp(),
            "scope": self.scope,
            "fhir_user": self.fhir_user,
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
        return cls(
            patient_id=record["patient_id"],
            fhir_base_url=record["fhir_base_url"],
            access_token=record["access_token"],
            expires_at=datetime.fromtimestamp(expires, UTC),
            scope=optional[0],
            fhir_user=optional[1],
        )


class _Sessions(Protocol):
    def context(self, session_id: str) -> SmartContext | None: ...


def current_smart_context() -> SmartContext | None:
    """Return the SMART context of this request's ``nelm_smart`` cookie.

    ``None`` when there is no cookie, the session is unknown or expired (the token's
    ``expires_in``), or SMART launch is not set up. Raises :class:`RuntimeError`
    outside a request.
    """
    if not has_request_context():
        raise RuntimeError("current_smart_context() needs a request")
    sessions: _Sessions | None = current_app.extensions.get(EXTENSION)
    session_id = request.cookies.get(SESSION_COOKIE)
    if sessions is None or not session_id or not SESSION_ID.fullmatch(session_id):
        return None
    return sessions.context(session_id)
