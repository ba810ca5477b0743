"""The audit trail: one JSON line per access to patient data, on the ``audit`` logger.

Every REST call on patient data, CDS Hooks service call, clinician page and write-back
(allowed or refused) writes one line when its response is ready::

    {"ts": "2026-11-22T10:15:00.123Z", "type": "audit", "request_id": "…",
     "action": "evaluation.read", "method": "GET",
     "route": "/api/patients/<patient_id>/evaluation", "status": 200, "outcome": "success",
     "actor": {"kind": "api-token", "sub": "…", "client_id": "…", "iss": "…"},
     "patient": "hmac-sha256:3f1c…"}

``patient`` is HMAC-SHA256 of the patient's FHIR id under ``AUDIT_HMAC_KEY``, never the
id: the log holds no PHI, yet whoever holds the key can answer "who looked at patient
X" by hashing X the same way and searching for it (README, "Audit trail"). ``actor``
names the caller as far as it is known: a REST token's ``sub``, ``client_id``/``azp``
and ``iss``; a CDS client's ``iss`` (and ``sub``); a SMART user's ``fhirUser``; or
``signed-link``, ``demo`` or ``unauthenticated``. ``outcome`` follows the status:
``success`` (2xx), ``denied`` (401/403), ``not_found`` (404), ``refused`` (other 4xx),
``failed`` (5xx).

Settings: ``AUDIT_HMAC_KEY`` (32+ characters; required with a FHIR server; otherwise a
key generated once into ``audit-hmac.key`` beside the state file), ``AUDIT_LOG_FILE``
(append the lines to this file instead of stderr; reopened when rotated).

Routes mark what they do with :func:`note`; :func:`install_audit` writes the line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import logging.handlers
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request

from service.config import defaults
from service.settings import SettingError, setting_name, text_setting

__all__ = [
    "AUDIT_DEFAULTS",
    "AUDIT_LOGGER",
    "Actor",
    "AuditTrail",
    "install_audit",
    "note",
]

AUDIT_LOGGER = "audit"
AUDIT_DEFAULTS: dict[str, Any] = defaults("AUDIT_HMAC_KEY", "AUDIT_LOG_FILE")
MIN_KEY_CHARS = 32
EXTENSION = "nelm_audit"

audit_log = logging.getLogger(AUDIT_LOGGER)


@dataclass(frozen=True)
class Actor:
    """Who made a call, as far as the service knows (never a token)."""

    kind: str
    """``api-token``, ``cds-client``, ``smart-user``, ``signed-link``, ``demo``,
    ``open-api`` or ``unauthenticated``."""
    sub: str | None = None
    client_id: str | None = None
    iss: str | None = None
    fhir_user: str | None = None

    def to_dict(self) -> dict[str, str]:
        """Return the fields that are set."""
        fields = {
            "kind": self.kind,
            "sub": self.sub,
            "client_id": self.client_id,
            "iss": self.iss,
            "fhirUser": self.fhir_user,
        }
        return {name: value for name, value in fields.items() if value is not None}


UNAUTHENTICATED = Actor("unauthenticated")


@dataclass
class _Access:
    action: str
    actor: Actor = field(default=UNAUTHENTICATED)
    patient_id: str | None = None


def _outcome(status: int) -> str:
    if status < 400:
        return "success"
    if status in (401, 403):
        return "denied"
    if status == 404:
        return "not_found"
    return "refused" if status < 500 else "failed"


class AuditTrail:
    """Write audit lines, hashing patient ids with ``key``."""

    def __init__(self, key: str) -> None:
        if len(key) < MIN_KEY_CHARS:
            raise ValueError(f"the audit key must have at least {MIN_KEY_CHARS} characters")
        self._key = key.encode("utf-8")

    def __repr__(self) -> str:
        return "AuditTrail(***)"

    def patient_hash(self, patient_id: str) -> str:
        """Return ``hmac-sha256:<hex>`` of ``patient_id``: what the log holds for it."""
        digest = hmac.new(self._key, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"hmac-sha256:{digest}"

    def entry(
        self, access: _Access, *, method: str, route: str, status: int, request_id: str | None
    ) -> dict[str, Any]:
        """Return the audit line of one access as a dict."""
        now = time.time()
        stamp = (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
        )
        return {
            "ts": stamp,
            "type": "audit",
            "request_id": request_id,
            "action": access.action,
            "method": method,
            "route": route,
            "status": status,
            "outcome": _outcome(status),
            "actor": access.actor.to_dict(),
            "patient": None if access.patient_id is None else self.patient_hash(access.patient_id),
        }


def note(
    action: str | None = None, *, actor: Actor | None = None, patient_id: str | None = None
) -> None:
    """Mark this request as an access to patient data (or add to the mark): what it
    does, who does it, about which patient. Call as soon as each is known, so a refused
    or failed call is logged too. Does nothing outside a request."""
    if not has_request_context():
        return
    access: _Access | None = g.get("nelm_audit")
    if access is None:
        access = _Access(action or "patient-data")
    elif action is not None:
        access = replace(access, action=action)
    if actor is not None:
        access = replace(access, actor=actor)
    if patient_id is not None:
        access = replace(access, patient_id=patient_id)
    g.nelm_audit = access


def _key(config: Any, key_dir: Path, *, required: bool) -> str:
    name = setting_name("AUDIT_HMAC_KEY")
    key = text_setting(config, "AUDIT_HMAC_KEY")
    if key is not None:
        if len(key) < MIN_KEY_CHARS:
            raise SettingError(f"{name} must have at least {MIN_KEY_CHARS} characters")
        return key
    if required:
        raise SettingError(
            f"{name} is required with a FHIR server (32+ random characters): audit lines "
            "name patients by an HMAC under it"
        )
    from service.state.sealing import dev_key

    try:
        return dev_key(key_dir / "audit-hmac.key")
    except OSError as exc:
        raise SettingError(f"{name} is unset and no key file can be made in {key_dir}") from exc


def _handler(config: Any) -> logging.Handler:
    path = text_setting(config, "AUDIT_LOG_FILE")
    if path is None:
        return logging.StreamHandler(sys.stderr)
    try:
        return logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise SettingError(f"{setting_name('AUDIT_LOG_FILE')}: cannot open {path}") from exc


class _AuditFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = getattr(record, "audit", None)
        return json.dumps(entry if isinstance(entry, dict) else {"message": "?"})


def install_audit(app: Flask, *, key_dir: Path, required: bool) -> AuditTrail:
    """Set up the ``audit`` logger and write one line per noted request of ``app``.

    ``required``: a FHIR server is configured, so ``AUDIT_HMAC_KEY`` must be set;
    otherwise a key file in ``key_dir`` stands in. Raises :class:`SettingError`.
    """
    trail = AuditTrail(_key(app.config, key_dir, required=required))
    handler = _handler(app.config)
    handler.setFormatter(_AuditFormatter())
    for old in [h for h in audit_log.handlers if getattr(h, "nelm_audit", False)]:
        audit_log.removeHandler(old)
        old.close()
    handler.nelm_audit = True  # type: ignore[attr-defined]
    audit_log.addHandler(handler)
    audit_log.setLevel(logging.INFO)
    audit_log.propagate = False
    app.extensions[EXTENSION] = trail

    @app.after_request
    def write_audit(response: Response) -> Response:
        access: _Access | None = g.get("nelm_audit")
        if access is not None:
            route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
            current: AuditTrail = current_app.extensions[EXTENSION]
            entry = current.entry(
                access,
                method=request.method,
                route=route,
                status=response.status_code,
                request_id=g.get("request_id"),
            )
            audit_log.info("audit", extra={"audit": entry})
        return response

    return trail
