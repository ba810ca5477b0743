"""Open the overall FHIR deadline of every web request (see :mod:`service.fhir.deadline`).

A CDS Hooks call (blueprint ``cds_hooks``) gets ``CDS_DEADLINE_SECONDS`` (5), every
other request ``FHIR_DEADLINE_SECONDS`` (15): all the FHIR work the request does —
every page, retry and slow answer, on every thread it fans out to — ends by then, and
the request answers 504 (REST, pages) or 412 (CDS Hooks) saying so.
"""

from __future__ import annotations

from flask import Flask, g, request

from service.fhir.deadline import close_deadline, open_deadline
from service.settings import fhir_deadlines

__all__ = ["install_request_deadlines"]

CDS_BLUEPRINT = "cds_hooks"


def install_request_deadlines(app: Flask) -> tuple[float, float]:
    """Give each request of ``app`` its deadline; return (REST, CDS) seconds.

    Raises :class:`~service.settings.SettingError` for a bad setting.
    """
    rest, cds = fhir_deadlines(app.config)

    @app.before_request
    def open_request_deadline() -> None:
        seconds = cds if request.blueprint == CDS_BLUEPRINT else rest
        g.nelm_deadline = open_deadline(seconds)

    @app.teardown_request
    def close_request_deadline(_: BaseException | None) -> None:
        token = g.pop("nelm_deadline", None)
        if token is not None:
            close_deadline(token)

    return rest, cds
