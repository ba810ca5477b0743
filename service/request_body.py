"""Limits on request bodies that carry patient data (posted Bundles, hook prefetch), so
hostile or huge documents cannot exhaust a worker's memory.

- **Bytes**: ``MAX_BUNDLE_BYTES`` (10 MiB) is the largest body any route reads (Flask's
  ``MAX_CONTENT_LENGTH``): beyond it 413, before the body is read.
- **Entries**: ``MAX_BUNDLE_ENTRIES`` (10,000) is the most entries a posted Bundle may
  hold: beyond it 413.
- **Depth**: JSON nested deeper than the parser's recursion limit (about 1,000 levels)
  is refused with 400 when parsed.
- **One large body at a time**: JSON can take some 25 times its size in memory once
  parsed (``[{},{},...]``), so a worker parses and evaluates bodies larger than
  :data:`LARGE_BODY_BYTES` one at a time (the work is CPU-bound: under the GIL it would
  not go faster in parallel); others wait for their turn until their request's deadline
  (``FHIR_DEADLINE_SECONDS``, ``CDS_DEADLINE_SECONDS``) and then get 429 with
  ``Retry-After`` (too many large requests at once: not a server failure). Smaller
  bodies never wait. With the server's four connections per worker, four concurrent
  maximum-size requests keep a worker under 500 MB
  (``python -m benchmarks.posted_bundle_memory``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, request

from service.config import defaults
from service.errors import ServiceError
from service.fhir.deadline import current_deadline
from service.settings import number_setting, setting_name

__all__ = [
    "BODY_LIMIT_DEFAULTS",
    "LARGE_BODY_BYTES",
    "BodyLimits",
    "BodyTooLargeError",
    "BusyError",
    "check_entries",
    "install_body_limits",
    "one_large_body_at_a_time",
    "read_body",
]

BODY_LIMIT_DEFAULTS: dict[str, Any] = defaults(
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_ENTRIES",
)
LARGE_BODY_BYTES = 1024 * 1024
EXTENSION = "nelm_body_limits"
RETRY_AFTER_SECONDS = 5


class BodyTooLargeError(ServiceError):
    """The body holds more than the configured limit allows (HTTP 413)."""

    status_code = 413
    code = "request_entity_too_large"


class BusyError(ServiceError):
    """The worker is busy with other large bodies (HTTP 429, ``Retry-After``)."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}


@dataclass
class BodyLimits:
    """The limits of one app, and its slot for large bodies."""

    max_bytes: int
    max_entries: int
    wait_seconds: float
    slot: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(1))


def install_body_limits(app: Flask, *, wait_seconds: float) -> BodyLimits:
    """Read the limits (a bad one raises :class:`~service.settings.SettingError`), set
    Flask's ``MAX_CONTENT_LENGTH`` from ``MAX_BUNDLE_BYTES`` unless it was given itself,
    and keep them in ``app``."""
    config: Mapping[str, Any] = app.config
    for key, value in BODY_LIMIT_DEFAULTS.items():
        app.config.setdefault(key, value)
    max_bytes = number_setting(config, "MAX_BUNDLE_BYTES", integer=True, zero_allowed=False)
    max_entries = number_setting(config, "MAX_BUNDLE_ENTRIES", integer=True, zero_allowed=False)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = max_bytes
    limits = BodyLimits(max_bytes, max_entries, wait_seconds)
    app.extensions[EXTENSION] = limits
    return limits


def _limits() -> BodyLimits:
    limits: BodyLimits = current_app.extensions[EXTENSION]
    return limits


@contextmanager
def one_large_body_at_a_time() -> Iterator[None]:
    """Run the block (read, parse, evaluate) alone in this worker if the request body is
    large; raise :class:`BusyError` when the turn does not come in time."""
    limits = _limits()
    size = request.content_length
    if size is not None and size <= LARGE_BODY_BYTES:
        yield
        return
    deadline = current_deadline()
    wait = deadline.remaining() if deadline is not None else limits.wait_seconds
    if not limits.slot.acquire(timeout=wait):
        raise BusyError("the service is busy with other large Bundles; try again shortly")
    try:
        yield
    finally:
        limits.slot.release()


def check_entries(bundle: Any) -> None:
    """Raise :class:`BodyTooLargeError` when a Bundle holds more entries than allowed."""
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    limit = _limits().max_entries
    if isinstance(entries, list) and len(entries) > limit:
        raise BodyTooLargeError(
            f"the Bundle holds {len(entries)} entries; at most {limit} are accepted "
            f"({setting_name('MAX_BUNDLE_ENTRIES')})"
        )


def read_body() -> bytes:
    """Return the request body; raise :class:`BodyTooLargeError` (413) when it is longer
    than ``MAX_BUNDLE_BYTES``. A body sent without ``Content-Length`` (chunked) is cut
    at the limit by the server: reaching it means there was more."""
    limit = _limits().max_bytes
    data = request.get_data(cache=False)
    if len(data) >= limit and request.content_length is None:
        raise BodyTooLargeError(
            f"the body is larger than {limit} bytes ({setting_name('MAX_BUNDLE_BYTES')})"
        )
    return data
