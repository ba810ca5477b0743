"""The ``cds_hooks`` blueprint: discovery, the service call, feedback, and CORS.

Every route checks the CDS client's JWT first (audience: ``PUBLIC_BASE_URL`` + the
request path) and answers 401 with ``WWW-Authenticate: Bearer`` and no detail when it
is refused. The CORS preflight (``OPTIONS``) is answered without a token, as browsers
send none. Status codes: 400 malformed body, 404 unknown service id, 412 data that cannot
be had (CDS Hooks 2.0; see :mod:`service.cdshooks.prefetch`).

CORS: responses carry ``Access-Control-Allow-Origin`` only for an ``Origin`` listed in
``CDS_CORS_ORIGINS`` (comma-separated, empty by default; ``*`` only if configured).

Nothing here logs a token, a patient id or a resource.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from service.app_services import add_readiness_check, evaluation_config, terminology
from service.auth.audit import Actor, note
from service.auth.keys import StaticKeys, parse_jwks
from service.auth.replay import ReplayCache
from service.auth.tokens import TrustedIssuer
from service.cdshooks import CDS_HOOKS_DEFAULTS
from service.cdshooks.cards import CRITERIA_PATH, build_card, has_net_liver_metastasis
from service.cdshooks.discovery import (
    HOOK,
    PREFETCH_KEYS,
    SERVICE_ID,
    discovery_response,
    prefetch_templates,
)
from service.cdshooks.feedback import FeedbackStore, parse_feedback
from service.cdshooks.prefetch import FetchSettings, PrefetchUnavailableError, resolve_record
from service.cdshooks.request import HookRequestError, load_json_body, parse_hook_request
from service.cdshooks.security import (
    CDS_ALGORITHMS,
    CDS_SECURITY_DEFAULTS,
    CdsTokenError,
    CdsTokenValidator,
)
from service.cdshooks.suggestions import card_suggestions
from service.code_names import code_names
from service.dev_issuer import DEV_ISSUER, ensure_dev_key
from service.engine import run_evaluation
from service.errors import NotFoundError, ServiceError
from service.metrics.recorders import record_hook_outcome
from service.pages.links import PageLinks
from service.public_url import public_base_url
from service.request_body import one_large_body_at_a_time, read_body
from service.result_json import evaluation_to_json
from service.settings import SettingError, allowlist_from, fhir_timeouts, text_setting
from service.state import AppState
from service.state.documents import StoredDocuments

__all__ = [
    "blueprint",
    "cors_origins",
    "development_issuers",
    "fetch_settings",
    "init_app",
    "today",
]

log = logging.getLogger(__name__)

blueprint = Blueprint("cds_hooks", __name__)

CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type"
CORS_MAX_AGE = "600"


class CdsUnauthorizedError(ServiceError):
    """The CDS client's JWT is missing or refused; the body says nothing more."""

    status_code = 401
    code = "unauthorized"

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"error": "unauthorized"}``: the reason goes to the log only."""
        return {"error": self.code}


# --- set-up ---------------------------------------------------------------------------


def cors_origins(config: Mapping[str, Any]) -> frozenset[str]:
    """Return the browser origins allowed on the CDS Hooks routes (``CDS_CORS_ORIGINS``)."""
    value = config.get("CDS_CORS_ORIGINS") or ""
    if isinstance(value, str):
        entries = [e.strip() for e in value.split(",") if e.strip()]
    elif isinstance(value, list | tuple | set | frozenset):
        entries = [str(e).strip() for e in value if str(e).strip()]
    else:
        raise SettingError("NELM_CDS_CDS_CORS_ORIGINS must be comma-separated origins")
    origins: set[str] = set()
    for entry in entries:
        if entry == "*":
            origins.add(entry)
            continue
        try:
            parts = urlsplit(entry)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError as exc:
            raise SettingError(f"NELM_CDS_CDS_CORS_ORIGINS: {entry!r} is not an origin") from exc
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
            or "@" in parts.netloc
        ):
            raise SettingError(
                f"NELM_CDS_CDS_CORS_ORIGINS: {entry!r} is not an origin (scheme://host[:port])"
            )
        origins.add(f"{parts.scheme}://{parts.netloc.lower()}")
    return frozenset(origins)


def fetch_settings(config: Mapping[str, Any]) -> FetchSettings:
    """Return how hook requests may call their ``fhirServer`` (allowlist, timeouts)."""
    try:
        retries = int(config.get("FHIR_RETRIES", 0))
    except (TypeError, ValueError) as exc:
        raise SettingError("NELM_CDS_FHIR_RETRIES must be a whole number") from exc
    if retries < 0:
        raise SettingError("NELM_CDS_FHIR_RETRIES cannot be negative")
    return FetchSettings(allowlist_from(config), fhir_timeouts(config), retries)


def development_issuers(config: Mapping[str, Any], folder: str) -> dict[str, TrustedIssuer]:
    """Return the development CDS client to trust: only in demo mode (no FHIR server
    configured: synthetic patients only), with its key pair generated into ``folder``."""
    if text_setting(config, "FHIR_BASE_URL") is not None:
        return {}
    dev = ensure_dev_key(folder)
    keys = StaticKeys(
        parse_jwks(dev.jwks, CDS_ALGORITHMS), where=f"the development key in {folder}"
    )
    log.info("demo mode: the development CDS client %s is trusted (kid %s)", DEV_ISSUER, dev.kid)
    return {DEV_ISSUER: TrustedIssuer(DEV_ISSUER, keys)}


def init_app(app: Flask) -> None:
    """Add the CDS Hooks routes and their extensions to ``app``.

    Call after ``nelm_terminology`` and ``nelm_evaluation_config`` are set, and after
    ``nelm_state`` (the shared store the ``jti`` replay cache lives in; without it the
    cache is per process). Settings missing from the config get their defaults; bad
    ones raise :class:`SettingError`.
    """
    for key, value in {**CDS_SECURITY_DEFAULTS, **CDS_HOOKS_DEFAULTS}.items():
        app.config.setdefault(key, value)
    state: AppState | None = app.extensions.get("nelm_state")
    app.extensions["nelm_cds_tokens"] = CdsTokenValidator.from_config(
        app.config,
        replay_cache=ReplayCache(state.store) if state is not None else None,
        shared_keys=StoredDocuments(state.store) if state is not None else None,
        extra_issuers=development_issuers(app.config, app.instance_path),
    )
    feedback_store = FeedbackStore.from_config(app.config, app.instance_path)
    app.extensions["nelm_cds_feedback"] = feedback_store
    add_readiness_check(app, "feedback_store", feedback_store.check)
    app.extensions["nelm_cds_fetch"] = fetch_settings(app.config)
    app.extensions["nelm_cds_cors_origins"] = cors_origins(app.config)
    app.register_blueprint(blueprint)


# --- helpers --------------------------------------------------------------------------


def today() -> date:
    """Return the evaluation date of a hook call: today, UTC."""
    return datetime.now(UTC).date()


def _authenticate() -> dict[str, Any]:
    validator: CdsTokenValidator = current_app.extensions["nelm_cds_tokens"]
    audience = public_base_url(current_app.config) + request.path
    try:
        return validator.validate(request.headers.get("Authorization"), audience=audience)
    except CdsTokenError as exc:
        log.info("CDS Hooks call refused (%s %s): %s", request.method, request.path, exc)
        raise CdsUnauthorizedError("unauthorized") from exc


def _cds_actor(claims: Mapping[str, Any]) -> Actor:
    def text(name: str) -> str | None:
        value = claims.get(name)
        return value[:256] if isinstance(value, str) and value else None

    return Actor("cds-client", sub=text("sub"), iss=text("iss"))


def _known_service(service_id: str) -> None:
    if service_id != SERVICE_ID:
        raise NotFoundError("no CDS Service with this id; see GET /cds-services")


def _json_body() -> Any:
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise HookRequestError("send the request body as application/json")
    return load_json_body(read_body())


def _smart_launch() -> bool:
    """Say whether cards link to the SMART launch (set up and its routes registered)."""
    return bool(current_app.config.get("SMART_CLIENT_ID")) and "smart" in current_app.blueprints


def _page_token(patient_id: str) -> str | None:
    """Return a signed clinician-page token for the card link, when the page needs one."""
    links: PageLinks | None = current_app.extensions.get("nelm_page_links")
    return links.token_for_card(patient_id) if links is not None else None


# --- routes ---------------------------------------------------------------------------


@blueprint.get("/cds-services")
def discovery() -> ResponseReturnValue:
    """List the CDS Services (CDS Hooks discovery)."""
    _authenticate()
    documentation = f"{public_base_url(current_app.config)}{CRITERIA_PATH}"
    return jsonify(discovery_response(terminology(), documentation))


@blueprint.post("/cds-services/<service_id>")
def call_service(service_id: str) -> ResponseReturnValue:
    """Answer a ``patient-view`` call with no card, or one eligibility card."""
    note("cds.patient-view")
    claims = _authenticate()
    note(actor=_cds_actor(claims))
    _known_service(service_id)
    with one_large_body_at_a_time():
        hook_request = parse_hook_request(_json_body(), hook=HOOK, prefetch_keys=PREFETCH_KEYS)
        note(patient_id=hook_request.patient_id)
        codes = terminology()
        settings: FetchSettings = current_app.extensions["nelm_cds_fetch"]
        try:
            resolution = resolve_record(hook_request, prefetch_templates(codes), settings)
        except PrefetchUnavailableError:
            record_hook_outcome("precondition_failed")
            raise
        evaluation = run_evaluation(
            resolution.record, today(), config=evaluation_config(), terminology=codes
        )
    if not has_net_liver_metastasis(evaluation.inputs):
        log.info("hook %s: no NET liver metastasis, no card", SERVICE_ID)
        record_hook_outcome("no_card")
        return jsonify(cards=[])
    if evaluation.deceased is not None:
        # criteria.md §7: no card for a patient deceased on or before the evaluation date
        log.info("hook %s: patient recorded as deceased, no card", SERVICE_ID)
        record_hook_outcome("no_card")
        return jsonify(cards=[])
    result = evaluation_to_json(evaluation)
    card = build_card(
        result,
        public_base_url=public_base_url(current_app.config),
        patient_id=hook_request.patient_id,
        smart_launch=_smart_launch(),
        page_token=_page_token(hook_request.patient_id),
        suggestions=card_suggestions(evaluation),
        names=code_names(result, resolution.record),
    )
    log.info(
        "hook %s: card %s (%s), fetched %s",
        SERVICE_ID,
        card["uuid"],
        card["indicator"],
        ",".join(resolution.fetched) or "nothing",
    )
    record_hook_outcome("card")
    return jsonify(cards=[card])


@blueprint.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> ResponseReturnValue:
    """Record CDS Hooks feedback (accepted / overridden); repeats are stored once."""
    _authenticate()
    _known_service(service_id)
    items = parse_feedback(_json_body())
    store: FeedbackStore = current_app.extensions["nelm_cds_feedback"]
    result = store.add(service_id, items)
    return jsonify(stored=result.stored, duplicates=result.duplicates)


@blueprint.errorhandler(CdsUnauthorizedError)
def unauthorized(error: CdsUnauthorizedError) -> ResponseReturnValue:
    """Answer 401 with ``WWW-Authenticate: Bearer`` and an empty-detail body.

    The header's ``realm`` is the public base URL tokens' audiences are built from (RFC
    6750 §3), so a client that called another host name can tell why it was refused.
    """
    realm = public_base_url(current_app.config)
    return jsonify(error.to_dict()), 401, {"WWW-Authenticate": f'Bearer realm="{realm}"'}


@blueprint.after_request
def cors(response: Response) -> Response:
    """Add CORS headers for an allowed ``Origin`` (and answer the preflight)."""
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    allowed: frozenset[str] = current_app.extensions["nelm_cds_cors_origins"]
    if origin is None:
        return response
    if not (origin.lower() in allowed or "*" in allowed):
        _note_refused_origin(origin, allowed)
        return response
    response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
    response.headers["Access-Control-Expose-Headers"] = "WWW-Authenticate"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


REFUSED_ORIGINS_NOTED = 100
"""At most this many distinct refused origins are logged per process (then no more)."""


def _note_refused_origin(origin: str, allowed: frozenset[str]) -> None:
    """Log at info level, once per origin and process, that a browser page's origin is
    not allowed: the browser then hides the answer (the CDS Hooks Sandbox shows "No
    recommendations"), so this line is where an operator finds why. An origin is a
    scheme, host and port, never patient data."""
    noted: set[str] = current_app.extensions.setdefault("nelm_cds_cors_refused", set())
    shown = origin[:200]
    if shown in noted or len(noted) >= REFUSED_ORIGINS_NOTED:
        return
    noted.add(shown)
    listed = ", ".join(sorted(allowed)) or "none"
    log.info(
        "CORS: origin %r is not in NELM_CDS_CDS_CORS_ORIGINS (%s): the browser will not "
        "show the answer to a page there; add that origin exactly (scheme, host name, port)",
        shown,
        listed,
    )
