"""Validate a CDS Hooks 2.0 service request body into a :class:`HookRequest`.

A malformed body raises :class:`HookRequestError` (HTTP 400) naming the field, never
its value: values may be patient data or the access token.

Checked: ``hook`` is the service's hook; ``hookInstance`` is a UUID; ``context`` is an
object with ``patientId`` a FHIR id (``userId`` and ``encounterId``, when present, are
strings); ``fhirServer`` is an http(s) URL (whether it may be *called* is decided later,
against the allowlist); ``fhirAuthorization`` has ``access_token`` (no whitespace),
``token_type`` ``Bearer``, ``expires_in`` (a non-negative integer), ``scope`` and
``subject``, and needs ``fhirServer``; ``prefetch`` is an object whose values for the
service's keys are objects or ``null``. Unknown prefetch keys are ignored. An optional
top-level field sent as ``null`` counts as absent (the specification forbids nulls there;
refusing them would help nobody).

The access token lives only in :class:`FhirAuthorization`, whose ``repr`` hides it; it
is never stored or logged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from service.errors import BadRequestError
from service.mappers.json_text import JsonTextError, parse_json
from service.mappers.reading import is_fhir_id

__all__ = [
    "FhirAuthorization",
    "HookRequest",
    "HookRequestError",
    "load_json_body",
    "parse_hook_request",
]

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MAX_TEXT = 4096


class HookRequestError(BadRequestError):
    """The hook request body is malformed; ``field`` names the offending element."""

    code = "invalid_hook_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, details={"field": field} if field else None)
        self.field = field


@dataclass(frozen=True)
class FhirAuthorization:
    """The OAuth 2.0 bearer token a CDS client hands over for its FHIR server."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in: int
    scope: str
    subject: str


@dataclass(frozen=True)
class HookRequest:
    """A validated hook call. ``prefetch`` holds only the service's keys that were sent
    (a value is a JSON object or ``None``); a key not in it was not prefetched."""

    hook: str
    hook_instance: str
    patient_id: str
    user_id: str | None = None
    encounter_id: str | None = None
    fhir_server: str | None = None
    fhir_authorization: FhirAuthorization | None = field(default=None, repr=False)
    prefetch: Mapping[str, dict[str, Any] | None] = field(default_factory=dict)


def load_json_body(raw: bytes) -> Any:
    """Parse a request body with the service's JSON reader (exact decimals; a number no
    laboratory value can be is kept as such, for the mappers to report)."""
    try:
        return parse_json(raw)
    except JsonTextError as exc:
        message = "nested too deeply" if "nested" in str(exc) else "not valid JSON"
        raise HookRequestError(f"the request body is {message}") from exc


def _text(value: Any, name: str) -> str:
    if value is None:
        raise HookRequestError(f"{name} is required", field=name)
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        raise HookRequestError(f"{name} must be a non-empty string", field=name)
    return value


def _optional_text(value: Any, name: str) -> str | None:
    return None if value is None else _text(value, name)


def _context(value: Any) -> tuple[str, str | None, str | None]:
    if not isinstance(value, dict):
        raise HookRequestError("context must be an object", field="context")
    patient_id = value.get("patientId")
    if patient_id is None:
        raise HookRequestError("context.patientId is required", field="context.patientId")
    if not is_fhir_id(patient_id):
        raise HookRequestError(
            "context.patientId must be a FHIR id (1-64 of A-Z a-z 0-9 - .)",
            field="context.patientId",
        )
    user_id = _optional_text(value.get("userId"), "context.userId")
    encounter_id = _optional_text(value.get("encounterId"), "context.encounterId")
    return patient_id, user_id, encounter_id


def _fhir_server(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise HookRequestError("fhirServer must be a URL", field="fhirServer")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as exc:
        raise HookRequestError("fhirServer must be a URL", field="fhirServer") from exc
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise HookRequestError("fhirServer must be an absolute http(s) URL", field="fhirServer")
    return value


def _fhir_authorization(value: Any) -> FhirAuthorization | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise HookRequestError("fhirAuthorization must be an object", field="fhirAuthorization")
    token = value.get("access_token")
    if not isinstance(token, str) or not token or any(ch.isspace() for ch in token):
        raise HookRequestError(
            "fhirAuthorization.access_token must be a non-empty string without spaces",
            field="fhirAuthorization.access_token",
        )
    token_type = value.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise HookRequestError(
            "fhirAuthorization.token_type must be Bearer", field="fhirAuthorization.token_type"
        )
    expires_in = value.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in < 0:
        raise HookRequestError(
            "fhirAuthorization.expires_in must be a non-negative integer",
            field="fhirAuthorization.expires_in",
        )
    scope = _text(value.get("scope"), "fhirAuthorization.scope")
    subject = _text(value.get("subject"), "fhirAuthorization.subject")
    return FhirAuthorization(token, "Bearer", expires_in, scope, subject)


def _prefetch(value: Any, keys: tuple[str, ...]) -> dict[str, dict[str, Any] | None]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise HookRequestError("prefetch must be an object", field="prefetch")
    prefetch: dict[str, dict[str, Any] | None] = {}
    for key in keys:
        if key not in value:
            continue
        item = value[key]
        if item is not None and not isinstance(item, dict):
            raise HookRequestError(
                f"prefetch.{key} must be a FHIR resource or null", field=f"prefetch.{key}"
            )
        prefetch[key] = item
    return prefetch


def parse_hook_request(body: Any, *, hook: str, prefetch_keys: tuple[str, ...]) -> HookRequest:
    """Return the validated request for a service invoked on ``hook``.

    ``prefetch_keys`` are the service's prefetch keys; other keys are ignored.
    Raises :class:`HookRequestError` for a malformed body.
    """
    if not isinstance(body, dict):
        raise HookRequestError("the request body must be a JSON object")
    sent_hook = _text(body.get("hook"), "hook")
    if sent_hook != hook:
        raise HookRequestError(f"this service is invoked on the {hook} hook", field="hook")
    instance = body.get("hookInstance")
    if not isinstance(instance, str) or not _UUID.fullmatch(instance):
        raise HookRequestError("hookInstance must be a UUID", field="hookInstance")
    if "context" not in body:
        raise HookRequestError("context is required", field="context")
    patient_id, user_id, encounter_id = _context(body["context"])
    fhir_server = _fhir_server(body.get("fhirServer"))
    authorization = _fhir_authorization(body.get("fhirAuthorization"))
    if authorization is not None and fhir_server is None:
        raise HookRequestError("fhirAuthorization needs fhirServer", field="fhirServer")
    return HookRequest(
        hook=hook,
        hook_instance=instance,
        patient_id=patient_id,
        user_id=user_id,
        encounter_id=encounter_id,
        fhir_server=fhir_server,
        fhir_authorization=authorization,
        prefetch=_prefetch(body.get("prefetch"), prefetch_keys),
    )
