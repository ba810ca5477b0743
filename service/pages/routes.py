"""The ``pages`` blueprint: the clinician page of one patient's evaluation.

``GET /patients/<patient_id>/evaluation`` (``?at=YYYY-MM-DD``, ``?token=``) renders, in
reading order: the patient's identity (repeated on every printed page), one sentence per
pathway, what would change the verdict, the criteria matrix (each criterion once, sets
as columns, details expandable), the timelines of Ki-67, bilirubin, platelets and disease
status (SVG drawn on the server, with their values as tables), notes and data warnings
(:mod:`service.pages.view`). Plain HTML and stylesheets served from this blueprint; no
script, no external URL. Who may open it: :mod:`service.pages.access`.

Errors on these routes are HTML pages, not JSON: 400 bad parameter, 401 no access (a
page that says how to open it from the EHR and names no patient), 404 unknown patient,
502/504 FHIR server failures, 500 anything else (logged by type only).

Every answer carries ``Referrer-Policy: no-referrer`` (a signed link must not leak
through a followed link), a strict ``Content-Security-Policy`` (styles from this
service only, no script), and HTML answers ``Cache-Control: no-store``.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlencode

from flask import Blueprint, Flask, Response, current_app, render_template
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from service.app_services import evaluation_config, terminology
from service.engine import run_evaluation
from service.errors import ServiceError
from service.pages.access import PageUnauthorizedError, record_reader
from service.pages.links import PAGE_LINK_DEFAULTS, PageLinks
from service.pages.view import page_view
from service.public_url import public_base_url
from service.query_params import checked_patient_id, evaluation_date_param
from service.result_json import evaluation_to_json
from service.sources import DemoSource

__all__ = ["PAGE_DEFAULTS", "blueprint", "init_app"]

log = logging.getLogger(__name__)

blueprint = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/pages/static",
)

PAGE_DEFAULTS = dict(PAGE_LINK_DEFAULTS)
"""Settings of the clinician page, with their defaults (see :mod:`service.pages.links`)."""

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'"
)


def init_app(app: Flask) -> None:
    """Add the clinician page to ``app``.

    Call after ``nelm_source`` is set. Settings missing from the config get their
    defaults; a bad or missing required one raises
    :class:`~service.settings.SettingError` naming it.
    """
    for key, value in PAGE_DEFAULTS.items():
        app.config.setdefault(key, value)
    required = not isinstance(app.extensions["nelm_source"], DemoSource)
    app.extensions["nelm_page_links"] = PageLinks.from_config(app.config, required=required)
    app.register_blueprint(blueprint)


def _page_url(patient_id: str, at: str) -> str:
    """The page's own address without its token, as printed on paper."""
    path = f"/patients/{quote(patient_id, safe='')}/evaluation"
    return f"{public_base_url(current_app.config)}{path}?{urlencode({'at': at})}"


@blueprint.get("/patients/<patient_id>/evaluation")
def evaluation(patient_id: str) -> ResponseReturnValue:
    """Render the clinician page of ``patient_id``'s evaluation (``?at=``, ``?token=``)."""
    codes = terminology()
    reader = record_reader(patient_id, codes)
    at = evaluation_date_param()
    checked_patient_id(patient_id)
    record = reader.fetch(patient_id)
    evaluation = run_evaluation(record, at, config=evaluation_config(), terminology=codes)
    view = page_view(
        evaluation_to_json(evaluation),
        record=record,
        evaluation=evaluation,
        terminology=codes,
        fhir_base=reader.fhir_base,
    )
    return render_template(
        "pages/evaluation.html",
        view=view,
        page_url=_page_url(patient_id, view.evaluation_date),
    )


def _minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))


@blueprint.errorhandler(PageUnauthorizedError)
def unauthorized(error: PageUnauthorizedError) -> ResponseReturnValue:
    """Say how to open the page from the EHR; name no patient."""
    links: PageLinks = current_app.extensions["nelm_page_links"]
    body = render_template("pages/unauthorized.html", minutes=_minutes(links.max_age_seconds))
    return body, 401, {"WWW-Authenticate": 'Bearer realm="NELM-CDS clinician page"'}


@blueprint.errorhandler(ServiceError)
def service_error(error: ServiceError) -> ResponseReturnValue:
    """Show the error's message (safe to show by contract) on an HTML page."""
    return (
        render_template("pages/error.html", status=error.status_code, message=error.message),
        error.status_code,
    )


@blueprint.errorhandler(HTTPException)
def http_error(error: HTTPException) -> ResponseReturnValue:
    """Show an HTTP error (a missing stylesheet, say) as a page, keeping its headers."""
    code = error.code or 500
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    message = error.description or error.name
    return render_template("pages/error.html", status=code, message=message), code, headers


@blueprint.errorhandler(Exception)
def unexpected_error(error: Exception) -> ResponseReturnValue:
    """Log the failure's type only (no patient data) and show a plain 500 page."""
    log.error("unhandled %s on the clinician page", type(error).__name__)
    message = "The service failed; see its log."
    return render_template("pages/error.html", status=500, message=message), 500


@blueprint.after_request
def security_headers(response: Response) -> Response:
    """Keep signed links out of Referer headers and caches; allow no script."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response
