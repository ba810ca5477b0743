"""The Flask application factory.

Configuration, in order: the typed settings (:mod:`service.config`: their defaults, then
the environment variables prefixed ``NELM_CDS_``, e.g. ``NELM_CDS_LAB_FRESHNESS_DAYS=90``,
read once) → ``test_config``. Bad configuration fails at start-up with a
:class:`~service.config.SettingError` naming the setting.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any

from flask import Flask, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from service import api
from service.app_services import add_readiness_check
from service.auth.audit import install_audit
from service.auth.guard import init_api_auth
from service.cdshooks import routes as cds_hooks
from service.config import SettingError, Settings, is_production, load_settings
from service.config.loading import unknown_variables
from service.config.readers import text_setting
from service.criteria import EvaluationConfig
from service.errors import ServiceError
from service.instance import instance_path
from service.mappers.site_codes import load_terminology
from service.metrics.exposition import install_metrics
from service.observability import configure_logging, install_request_logging, starting_up
from service.pages import criteria as criteria_page
from service.pages import routes as pages
from service.problem import error_response
from service.request_body import install_body_limits
from service.request_deadline import install_request_deadlines
from service.settings import build_source
from service.site import routes as site
from service.smart import routes as smart
from service.sources import DemoSource
from service.state import build_state, state_directory
from service.state.documents import StoredDocuments

__all__ = ["create_app"]

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "MAX_CONTENT_LENGTH": None,  # from MAX_BUNDLE_BYTES (service.request_body)
}
"""Flask settings that are not the service's own (those are :class:`service.config.Settings`)."""


def _evaluation_config(app: Flask) -> EvaluationConfig:
    return EvaluationConfig.from_mapping(
        {
            "bilirubin_upper_limit_mg_dl": app.config["BILIRUBIN_UPPER_LIMIT_MG_DL"],
            "max_ecog_for_surgery": app.config["MAX_ECOG_FOR_SURGERY"],
            "lab_freshness_days": app.config["LAB_FRESHNESS_DAYS"],
        }
    )


def _install_metrics(app: Flask) -> None:
    mode = (text_setting(app.config, "METRICS") or "open").lower()
    if mode not in ("open", "token", "off"):
        raise SettingError("NELM_CDS_METRICS must be open, token or off")
    token = text_setting(app.config, "METRICS_TOKEN")
    if mode == "token" and (token is None or len(token) < 32):
        raise SettingError("NELM_CDS_METRICS=token needs NELM_CDS_METRICS_TOKEN of 32+ characters")
    install_metrics(app, mode=mode, token=token)


def _register_error_handlers(app: Flask) -> None:
    """Answer errors as problem details (REST), OperationOutcome (``/fhir``) or the CDS
    Hooks routes' JSON (:mod:`service.problem`); never a stack trace."""

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError) -> ResponseReturnValue:
        response = error_response(
            request.path, error.status_code, error.code, error.message, error.details
        )
        response.headers.extend(error.headers)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        name = (error.name or "error").lower().replace(" ", "_")
        response = error_response(request.path, code, name, error.description or name)
        # Keep the exception's own headers (a 405 must carry Allow, RFC 9110), not its HTML type.
        response.headers.extend(
            [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        )
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> ResponseReturnValue:
        log.error("unhandled %s", type(error).__name__)
        return error_response(
            request.path, 500, "internal_error", "the service failed; see its log"
        )


def create_app(
    test_config: dict[str, Any] | None = None, *, settings: Settings | None = None
) -> Flask:
    """Create the app from ``settings`` (default: :func:`~service.config.load_settings`,
    the environment read now); ``test_config`` overrides them, key by key.

    Raises :class:`~service.config.SettingError` (one line naming the setting) for bad
    configuration. Lines logged while building the app are start-up lines: a gunicorn
    worker does not repeat the ones its master already wrote
    (:func:`service.observability.starting_up`).
    """
    with starting_up():
        return _create_app(test_config, settings if settings is not None else load_settings())


def _create_app(test_config: dict[str, Any] | None, settings: Settings) -> Flask:
    explicit = (test_config or {}).get("INSTANCE_PATH") or settings.INSTANCE_PATH
    app = Flask(__name__, instance_path=str(instance_path(explicit)))
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(settings.flask_config())
    if test_config:
        app.config.from_mapping(test_config)
    app.extensions["nelm_settings"] = settings
    production = is_production(app.config)
    configure_logging(str(app.config["LOG_LEVEL"]))
    for name in unknown_variables():
        log.warning("%s is not a setting of this version: ignored (README, Configuration)", name)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["nelm_evaluation_config"] = _evaluation_config(app)
    terminology = load_terminology(app.config["SITE_CODES"])
    app.extensions["nelm_terminology"] = terminology
    source = build_source(app.config, terminology)
    app.extensions["nelm_source"] = source
    app.extensions["nelm_code_system"] = json.loads(
        resources.files("service")
        .joinpath("data/codesystem-nelm-assessment.json")
        .read_text("utf-8")
    )
    demo = isinstance(source, DemoSource)
    state = build_state(
        app.config,
        app.instance_path,
        demo=demo,
        development=not production,
        secrets_needed=text_setting(app.config, "SMART_CLIENT_ID") is not None,
    )
    app.extensions["nelm_state"] = state
    add_readiness_check(app, "replay_store", state.store.check)
    shared_keys = StoredDocuments(state.store)
    install_request_logging(app)
    _install_metrics(app)
    rest_deadline, _ = install_request_deadlines(app)
    install_body_limits(app, wait_seconds=rest_deadline)
    install_audit(app, key_dir=state_directory(app.config, app.instance_path), required=not demo)
    init_api_auth(app, demo=demo, shared_keys=shared_keys)
    app.register_blueprint(api.blueprint)
    cds_hooks.init_app(app)
    pages.init_app(app)
    app.register_blueprint(criteria_page.blueprint)
    smart.init_app(app)
    site.init_app(app)
    _register_error_handlers(app)
    return app
