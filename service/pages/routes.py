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

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from service import __version__
from service.app_services import evaluation_config, terminology
from service.assessments.fields import Submission, parse_submission, recorded_answers
from service.assessments.questionnaire import QUESTIONNAIRE_ID, questionnaire
from service.auth.audit import note
from service.config import is_production
from service.engine import run_evaluation
from service.errors import ServiceError
from service.pages import access
from service.pages.access import PageUnauthorizedError, SmartContext, record_reader
from service.pages.links import PAGE_LINK_DEFAULTS, PageLinks
from service.pages.recording import (
    FormExpiredError,
    can_record,
    claim_form,
    form_view,
    release_form,
    write_changes,
)
from service.pages.view import page_view
from service.public_url import public_base_url
from service.query_params import checked_patient_id, evaluation_date_param
from service.result_json import evaluation_to_json
from service.sources import DemoSource
from service.state import state_directory

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

DEV_SECRET_FILE = "page-link.key"
"""The development page-link secret, beside the state file (development mode only)."""

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    """Add the clinician page to ``app``.

    Call after ``nelm_source`` is set. Settings missing from the config get their
    defaults; outside production a missing secret is generated into the instance folder
    (:class:`~service.pages.links.PageLinks`); a bad or missing required one raises
    :class:`~service.settings.SettingError` naming it.
    """
    for key, value in PAGE_DEFAULTS.items():
        app.config.setdefault(key, value)
    required = not isinstance(app.extensions["nelm_source"], DemoSource)
    development_key = (
        None
        if is_production(app.config)
        else state_directory(app.config, app.instance_path) / DEV_SECRET_FILE
    )
    app.extensions["nelm_page_links"] = PageLinks.from_config(
        app.config, required=required, development_key=development_key
    )
    app.register_blueprint(blueprint)


def _page_url(patient_id: str, at: str) -> str:
    """The page's own address without its token, as printed on paper."""
    path = f"/patients/{quote(patient_id, safe='')}/evaluation"
    return f"{public_base_url(current_app.config)}{path}?{urlencode({'at': at})}"


def _recording_context(patient_id: str) -> SmartContext | None:
    """Return the SMART launch of this patient when it may record findings."""
    context = access.current_smart_context(patient_id)
    if context is None or context.patient_id != patient_id or not can_record(context.scope):
        return None
    return context


def _render(
    patient_id: str, *, sent: Submission | None = None, notice: str | None = None
) -> ResponseReturnValue:
    """Evaluate ``patient_id`` and render the page (with the form in a SMART launch that
    may record; ``sent`` is a submission with errors to show again)."""
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
    launch = access.current_smart_context(patient_id)
    context = _recording_context(patient_id)
    form = None
    if context is not None:
        action = f"/patients/{quote(patient_id, safe='')}/assessments"
        form = form_view(
            action, recorded_answers(evaluation.inputs), performer=context.fhir_user, sent=sent
        )
    body = render_template(
        "pages/evaluation.html",
        view=view,
        form=form,
        notice=notice,
        page_url=_page_url(patient_id, view.evaluation_date),
        hide_banner=launch is not None and not launch.need_patient_banner,
        smart_style=launch is not None and bool(launch.style),
        patient_id=patient_id,
    )
    return body, 400 if sent is not None and sent.errors else 200


@blueprint.get("/patients/<patient_id>/evaluation")
def evaluation(patient_id: str) -> ResponseReturnValue:
    """Render the clinician page of ``patient_id``'s evaluation (``?at=``, ``?token=``)."""
    recorded = request.args.get("recorded")
    notice = None
    if recorded is not None and recorded.isdigit() and len(recorded) < 3:
        count = int(recorded)
        notice = (
            f"Recorded {count} finding{'s' if count != 1 else ''}; the evaluation below "
            "includes them."
            if count
            else "Nothing new to record: the record already says this."
        )
    elif request.args.get("repeat") == "1":
        notice = "This form was already sent; nothing was written twice."
    return _render(patient_id, notice=notice)


@blueprint.post("/patients/<patient_id>/assessments")
def record_assessments(patient_id: str) -> ResponseReturnValue:
    """Record the MDT findings of the form (SMART launch with Observation create scope);
    then show the evaluation again (303)."""
    checked_patient_id(patient_id)
    context = access.current_smart_context(patient_id)
    if context is None or context.patient_id != patient_id:
        raise PageUnauthorizedError("open this page from the patient's chart in the EHR")
    if not can_record(context.scope):
        raise RecordingForbiddenError(
            "The EHR did not grant this app the right to record Observations "
            "(patient/Observation.c); ask the EHR's administrators."
        )
    page = f"/patients/{quote(patient_id, safe='')}/evaluation"
    try:
        submission = claim_form(request.form.get("submission"))
    except FormExpiredError as exc:
        if exc.already_recorded:
            return redirect(f"{page}?repeat=1", 303)
        return _render(
            patient_id, notice="The form had expired; nothing was recorded. Please try again."
        )
    codes = terminology()
    inputs = run_evaluation(
        record_reader(patient_id, codes).fetch(patient_id),
        evaluation_date_param(),
        config=evaluation_config(),
        terminology=codes,
    ).inputs
    sent = parse_submission(request.form, recorded_answers(inputs))
    if sent.errors:
        release_form(submission)
        return _render(patient_id, sent=sent)
    created = write_changes(
        sent.changes,
        patient_id=patient_id,
        fhir_base_url=context.fhir_base_url,
        access_token=context.access_token,
        performer=context.fhir_user,
        submission=submission,
    )
    note("assessment.record", patient_id=patient_id)
    return redirect(f"{page}?{urlencode({'recorded': created})}", 303)


@blueprint.get(f"/fhir/Questionnaire/{QUESTIONNAIRE_ID}")
def mdt_questionnaire() -> ResponseReturnValue:
    """Publish the MDT assessment form as a FHIR Questionnaire."""
    response = jsonify(questionnaire(__version__))
    response.mimetype = "application/fhir+json"
    return response


def _minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))


@blueprint.errorhandler(PageUnauthorizedError)
def unauthorized(error: PageUnauthorizedError) -> ResponseReturnValue:
    """Say how to open the page from the EHR; name no patient."""
    links: PageLinks = current_app.extensions["nelm_page_links"]
    body = render_template("pages/unauthorized.html", minutes=_minutes(links.max_age_seconds))
    return body, 401, {"WWW-Authenticate": 'Bearer realm="NELM-CDS clinician page"'}


class RecordingForbiddenError(ServiceError):
    """The launch may read the patient but not record Observations (HTTP 403)."""

    status_code = 403
    code = "forbidden"


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
