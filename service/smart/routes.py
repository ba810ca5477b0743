"""The ``smart`` blueprint: ``GET /smart/launch`` (EHR or standalone launch),
``GET /smart/callback`` and ``GET /smart/style.css`` (the EHR's style settings).

Both are browser routes (the EHR opens them, often in an iframe), so a failure is a
small HTML page with the status (400 bad launch, 404 SMART not set up, 502 the EHR's
server failed), not JSON. Responses carry ``Cache-Control: no-store`` and
``Referrer-Policy: no-referrer`` (the callback URL holds the code and state).

Cookies, both ``HttpOnly`` (no script reads them), path-scoped:

- ``nelm_smart_launch`` (path ``/smart``, 10 minutes): a random value that ties a
  launch's ``state`` to the browser that started it;
- ``nelm_smart_<hash of the patient id>`` (path ``/``, browser session; the server ends
  it when the token expires): the session id, the only thing the browser holds; one per
  patient, so a launch for a second patient in another tab leaves the first tab's
  session alone.

When ``PUBLIC_BASE_URL`` is https they are ``Secure; SameSite=None; Partitioned``:
EHRs embed SMART apps in iframes, where the service is a third party, and browsers
send a third party's cookies only with ``SameSite=None`` (which they accept only with
``Secure``); ``Partitioned`` (CHIPS) keys the cookie to the embedding EHR, so it still
works where unpartitioned third-party cookies are blocked. Over plain http (a
developer's machine) they are ``SameSite=Lax``: the launch then works in a new
window, not in an iframe.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, redirect, request
from flask.typing import ResponseReturnValue
from markupsafe import escape
from werkzeug.wrappers import Response as BaseResponse

from service.settings import text_setting
from service.smart import SMART_DEFAULTS
from service.smart.context import (
    EXTENSION,
    SESSION_ID,
    current_smart_context,
    session_cookie_name,
)
from service.smart.errors import SmartLaunchError
from service.smart.flow import STATE_TTL, SmartLaunchFlow, SmartSettings, new_browser_binding
from service.smart.style import style_css
from service.state import AppState

__all__ = ["BINDING_COOKIE", "blueprint", "init_app"]

BINDING_COOKIE = "nelm_smart_launch"
SMART_PATIENT = re.compile(r"[A-Za-z0-9\-.]{1,64}")

blueprint = Blueprint("smart", __name__, url_prefix="/smart")

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>NELM-CDS: SMART launch failed</title></head>
<body>
<h1>The app could not be opened from the EHR</h1>
<p>{message}</p>
<p>Open NELM-CDS again from the patient's chart. If this keeps happening, tell the
service's administrators (HTTP {status}).</p>
</body>
</html>
"""


def init_app(app: Flask) -> None:
    """Add the SMART launch routes and the launch flow (``app.extensions["nelm_smart"]``).

    Settings missing from the config get :data:`~service.smart.SMART_DEFAULTS`; bad
    ones raise :class:`~service.settings.SettingError`. Without ``SMART_CLIENT_ID`` the
    routes answer 404. Pending launches and sessions go to the app's shared store and
    sealer (``app.extensions["nelm_state"]``), when there is one.
    """
    for key, value in SMART_DEFAULTS.items():
        app.config.setdefault(key, value)
    state: AppState | None = app.extensions.get("nelm_state")
    app.extensions[EXTENSION] = SmartLaunchFlow(
        SmartSettings.from_config(app.config),
        store=state.store if state is not None else None,
        sealer=state.sealer if state is not None else None,
    )
    app.register_blueprint(blueprint)


def _flow() -> SmartLaunchFlow:
    flow: SmartLaunchFlow = current_app.extensions[EXTENSION]
    return flow


def _cookie_options(settings: SmartSettings) -> dict[str, Any]:
    if settings.https:
        return {"httponly": True, "secure": True, "samesite": "None", "partitioned": True}
    return {"httponly": True, "secure": False, "samesite": "Lax"}


def _private(response: BaseResponse) -> BaseResponse:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.get("/launch")
def launch() -> ResponseReturnValue:
    """Start a launch: check ``iss``, redirect to the EHR's authorization endpoint.

    With ``launch`` (from the EHR) it is an EHR launch; without it a standalone launch,
    in which the EHR lets the clinician pick the patient; ``iss`` then defaults to the
    configured FHIR server (``NELM_CDS_FHIR_BASE_URL``).
    """
    flow = _flow()
    binding = request.cookies.get(BINDING_COOKIE)
    if not binding or not SESSION_ID.fullmatch(binding):
        binding = new_browser_binding()
    launch_id = request.args.get("launch")
    iss = request.args.get("iss")
    if iss is None and launch_id is None:
        iss = text_setting(current_app.config, "FHIR_BASE_URL")
    url = flow.begin(iss=iss, launch=launch_id, binding=binding)
    response = redirect(url, 302)
    response.set_cookie(
        BINDING_COOKIE,
        binding,
        max_age=int(STATE_TTL),
        path="/smart",
        **_cookie_options(flow.settings),
    )
    return _private(response)


@blueprint.get("/callback")
def callback() -> ResponseReturnValue:
    """Finish the launch: check ``state``, exchange the code, start the session."""
    flow = _flow()
    session_id, context = flow.complete(
        state=request.args.get("state"),
        code=request.args.get("code"),
        error=request.args.get("error"),
        binding=request.cookies.get(BINDING_COOKIE),
    )
    response = redirect(f"/patients/{quote(context.patient_id, safe='')}/evaluation", 302)
    # one cookie per patient: a launch for another patient in another tab keeps this one
    response.set_cookie(
        session_cookie_name(context.patient_id),
        session_id,
        path="/",
        **_cookie_options(flow.settings),
    )
    return _private(response)


@blueprint.get("/style.css")
def style() -> ResponseReturnValue:
    """Serve the EHR's SMART style settings of the ``patient``'s launch as CSS (empty
    without a launch or settings)."""
    patient_id = request.args.get("patient", "")
    context = current_smart_context(patient_id) if SMART_PATIENT.fullmatch(patient_id) else None
    css = style_css(context.style) if context is not None else ""
    response = Response(css, mimetype="text/css")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return _private(response)


@blueprint.errorhandler(SmartLaunchError)
def launch_failed(error: SmartLaunchError) -> ResponseReturnValue:
    """Answer a small HTML page naming what went wrong (never a token or a code)."""
    page = _PAGE.format(message=escape(error.message), status=error.status_code)
    response = Response(page, status=error.status_code, mimetype="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return _private(response)
