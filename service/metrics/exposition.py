"""``GET /metrics`` and the request hooks that count every answer.

Access (``METRICS`` setting): ``open`` (default: the metrics hold no patient data, and
Prometheus scrapes usually come from the internal network), ``token`` (a scrape must
send ``Authorization: Bearer <METRICS_TOKEN>``), or ``off`` (no route: 404).
"""

from __future__ import annotations

import hmac
import time

from flask import Blueprint, Flask, Response, current_app, g, request

from service.errors import ServiceError
from service.metrics import multiprocess
from service.metrics.recorders import ensure_made, record_request

__all__ = ["MetricsAccess", "MetricsUnauthorizedError", "install_metrics"]

EXTENSION = "nelm_metrics_token"
blueprint = Blueprint("metrics", __name__)


class MetricsUnauthorizedError(ServiceError):
    """A scrape without the configured bearer token (HTTP 401)."""

    status_code = 401
    code = "unauthorized"

    def __init__(self) -> None:
        super().__init__("/metrics needs the metrics bearer token")
        self.headers = {"WWW-Authenticate": 'Bearer realm="nelm-cds-metrics"'}


class MetricsAccess:
    """Who may scrape: ``token`` ``None`` for anyone, else that bearer token only."""

    def __init__(self, token: str | None) -> None:
        self._token = token.encode("utf-8") if token else None

    def check(self, authorization: str | None) -> None:
        """Raise :class:`MetricsUnauthorizedError` unless the scrape may read."""
        if self._token is None:
            return
        scheme, _, sent = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            sent.strip().encode("utf-8"), self._token
        ):
            raise MetricsUnauthorizedError()


@blueprint.get("/metrics")
def metrics() -> Response:
    """Answer the metrics in the Prometheus text format (summed over the workers)."""
    access: MetricsAccess = current_app.extensions[EXTENSION]
    access.check(request.headers.get("Authorization"))
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    folder = multiprocess.active_folder()
    if folder is None:
        body = generate_latest(REGISTRY)
    else:
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def install_metrics(app: Flask, *, mode: str, token: str | None) -> None:
    """Count every request of ``app`` and, unless ``mode`` is ``off``, serve
    ``/metrics`` (``open``, or ``token`` with ``token`` required)."""
    ensure_made()

    @app.before_request
    def start_timer() -> None:
        g.nelm_metrics_started = time.perf_counter()

    @app.after_request
    def count(response: Response) -> Response:
        started = g.get("nelm_metrics_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
            seconds = time.perf_counter() - started
            record_request(request.method, route, response.status_code, seconds)
        return response

    if mode == "off":
        return
    app.extensions[EXTENSION] = MetricsAccess(token if mode == "token" else None)
    app.register_blueprint(blueprint)
