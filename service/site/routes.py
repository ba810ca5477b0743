"""``GET /``, ``GET /openapi.yaml``, ``GET /docs`` and the documentation's assets.

Nothing here touches patient data. The landing page names the demo patients only when
the embedded demo store (synthetic patients) is the data source.

CSP: the landing page allows no script; ``/docs`` allows scripts from this service only
(Swagger UI's bundle and a small start-up file, no inline script) and inline *styles*,
which Swagger UI's rendering sets on elements. Its assets come from the
``flask-swagger-ui`` package (the Swagger UI distribution), never from another host.
"""

from __future__ import annotations

import functools
import mimetypes
from importlib import resources
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, render_template
from flask.typing import ResponseReturnValue

from service import __version__
from service.app_services import patient_source
from service.public_url import public_base_url
from service.sources import DemoSource

__all__ = ["DOCS_CSP", "LANDING_CSP", "blueprint", "init_app"]

blueprint = Blueprint(
    "site",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/site/static",
)

LANDING_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'"
)
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'"
)
_SWAGGER_FILES = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
    }
)


def _swagger_dist() -> Path:
    import flask_swagger_ui  # the Swagger UI distribution, packaged for Python

    return Path(flask_swagger_ui.__file__).parent / "dist"


@functools.cache
def _openapi_text() -> str:
    """The shipped document, read once per process (it changes only with the code)."""
    return resources.files("service").joinpath("data/openapi.yaml").read_text("utf-8")


def _secure(response: Response, policy: str) -> Response:
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.get("/")
def landing() -> ResponseReturnValue:
    """Say what this service is and where to go next."""
    source = patient_source()
    demo = source.store.patient_ids() if isinstance(source, DemoSource) else []
    base = public_base_url(current_app.config)
    page = render_template(
        "site/landing.html",
        version=__version__,
        demo_patients=demo,
        source_name=source.name,
        discovery=f"{base}/cds-services",
        has_criteria="criteria_docs.criteria" in current_app.view_functions,
    )
    return _secure(Response(page, mimetype="text/html"), LANDING_CSP)


@blueprint.get("/openapi.yaml")
def openapi_document() -> ResponseReturnValue:
    """Serve the OpenAPI document that describes this service."""
    response = Response(_openapi_text(), mimetype="application/yaml")
    response.headers["Cache-Control"] = "public, max-age=300"
    return _secure(response, LANDING_CSP)


@blueprint.get("/docs")
def docs() -> ResponseReturnValue:
    """Render the OpenAPI document with Swagger UI (all assets from this service)."""
    page = render_template("site/docs.html")
    return _secure(Response(page, mimetype="text/html"), DOCS_CSP)


@blueprint.get("/docs/assets/<name>")
def docs_asset(name: str) -> ResponseReturnValue:
    """Serve one file of the Swagger UI distribution (a fixed list)."""
    if name not in _SWAGGER_FILES:
        return _secure(Response("not found\n", status=404, mimetype="text/plain"), LANDING_CSP)
    data = (_swagger_dist() / name).read_bytes()
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return _secure(response, DOCS_CSP)


def init_app(app: Flask) -> None:
    """Add the landing page and the API documentation to ``app``."""
    app.register_blueprint(blueprint)
