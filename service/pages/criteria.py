"""``GET /criteria``: the criteria documentation for clinicians, as a server-rendered page.

Every criteria set with its version and pathway, every criterion with its thresholds,
when it is met, not met or unknown, its rationale and sources, the full citations of the
source reviews and each set's HTI-1 source attributes: all built from the criteria
(:mod:`service.reference`) with the settings this service runs with. It holds no patient
data, so it is open to anyone (cards link to it as their ``source``).

It shares the clinician page's layout and stylesheet (plus ``criteria.css``) and its
headers: the same strict ``Content-Security-Policy`` (no script, styles from this service
only), ``Referrer-Policy: no-referrer`` and ``nosniff``.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue

from service.app_services import evaluation_config
from service.pages.routes import CONTENT_SECURITY_POLICY
from service.reference import criteria_reference
from service.reference.document import ABSENCE_RULE, SET_STATUS_RULES, STATUS_MEANINGS

__all__ = ["blueprint"]

blueprint = Blueprint("criteria_docs", __name__, template_folder="templates")

CACHE_SECONDS = 300


@blueprint.get("/criteria")
def criteria() -> ResponseReturnValue:
    """Render the documentation of every criteria set with the settings in force."""
    return render_template(
        "pages/criteria.html",
        ref=criteria_reference(evaluation_config()),
        statuses=STATUS_MEANINGS,
        set_rules=SET_STATUS_RULES,
        absence_rule=ABSENCE_RULE,
    )


@blueprint.after_request
def security_headers(response: Response) -> Response:
    """Apply the clinician page's headers; the page may be cached briefly (no patient data)."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
