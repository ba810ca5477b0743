"""Structured JSON logs with a request id, and no PHI.

Every request gets an id (a well-formed incoming ``X-Request-ID`` is kept, anything
else is replaced) that is echoed in the response and put on every log line written
while the request runs. The access line names the *route template*
(``/api/patients/<patient_id>/evaluation``), never the path or query string, which
can hold patient ids; tokens and bodies are never logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, g, has_request_context, request

__all__ = [
    "STARTUP_LOGGED_ENV",
    "JsonFormatter",
    "NotServiceFilter",
    "configure_logging",
    "gunicorn_log_config",
    "holding_lines",
    "install_request_logging",
    "starting_up",
]

_REQUEST_ID = re.compile(r"[A-Za-z0-9\-_.]{8,64}")
access_log = logging.getLogger("service.access")


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__  # the type only: no values
        return json.dumps(entry, ensure_ascii=False)


STARTUP_LOGGED_ENV = "NELM_CDS_STARTUP_LOGGED"
"""Set to ``1`` by the gunicorn master once it has built the app (and logged its start-up
lines): its workers then build the app without repeating them."""
_starting = threading.local()


@contextmanager
def starting_up() -> Iterator[None]:
    """Mark the lines logged inside the block as start-up lines (``create_app``)."""
    _starting.active = True
    try:
        yield
    finally:
        _starting.active = False


class _StartupOnce(logging.Filter):
    """In a gunicorn worker, drop the start-up *warnings* the master already wrote, so a
    warning appears once per start, not once per worker. Info lines stay (each worker says
    it is ready) and errors always show."""

    def filter(self, record: logging.LogRecord) -> bool:
        repeat = getattr(_starting, "active", False) and os.environ.get(STARTUP_LOGGED_ENV) == "1"
        return not repeat or record.levelno != logging.WARNING


class _JsonLines(logging.StreamHandler):  # type: ignore[type-arg]
    """The JSON handler on stderr; inside :func:`holding_lines` it keeps its lines."""

    def emit(self, record: logging.LogRecord) -> None:
        held: list[tuple[logging.Handler, logging.LogRecord]] | None = getattr(
            _holding, "lines", None
        )
        if held is None:
            super().emit(record)
        else:
            held.append((self, record))


_holding = threading.local()


@contextmanager
def holding_lines(drop_on: type[BaseException]) -> Iterator[None]:
    """Hold the JSON lines the service logs inside the block (this thread): write them
    when the block ends, or drop them all when it raises ``drop_on`` (a bad setting: its
    one line is then all the operator sees). Other exceptions write them, then propagate.
    """
    held: list[tuple[logging.Handler, logging.LogRecord]] = []
    _holding.lines = held
    try:
        yield
    except drop_on:
        held.clear()
        raise
    finally:
        _holding.lines = None
        for handler, record in held:
            handler.emit(record)


def configure_logging(level: str = "INFO") -> None:
    """Send the service's logs to stderr as JSON lines (idempotent)."""
    root = logging.getLogger("service")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = _JsonLines(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(_StartupOnce())
        root.addHandler(handler)
    root.setLevel(level.upper())
    # urllib3 logs request paths (which hold patient ids) at DEBUG, and at WARNING when
    # it retries a reset connection ("Retrying ... /Patient/123"): the FHIR client logs
    # what happened without the path, so only urllib3's errors are let through.
    logging.getLogger("urllib3").setLevel(logging.ERROR)


def install_request_logging(app: Flask) -> None:
    """Give every request an id and write one access line when it ends."""

    @app.before_request
    def start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        rule = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        access_log.info(
            "request",
            extra={
                "fields": {
                    "method": request.method,
                    "route": rule,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - g.get("started", 0.0)) * 1000, 2),
                }
            },
        )
        return response


def gunicorn_log_config() -> dict[str, Any]:
    """Return gunicorn's ``logconfig_dict``: its own lines (start, workers, signals) as the
    same JSON lines as the service's, on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "service.observability.JsonFormatter"}},
        "filters": {"not_service": {"()": "service.observability.NotServiceFilter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
            "others": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["not_service"],
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
        "root": {"level": "WARNING", "handlers": ["others"]},
    }


class NotServiceFilter(logging.Filter):
    """Pass records of other libraries only: the service's own have their handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "service" or record.name.startswith("service."))
