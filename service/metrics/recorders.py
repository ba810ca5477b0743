"""The service's metrics and the functions that record them (no Flask).

The metric objects are made on first use, not at import: prometheus-client chooses
between one process and multi-process mode when a metric is made, and the gunicorn
master sets that mode up (:func:`service.metrics.multiprocess.prepare`) after this
module may already have been imported.
"""

from __future__ import annotations

import _thread
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from service.records import Struct

__all__ = [
    "FhirInteraction",
    "HookOutcome",
    "record_fhir_call",
    "record_hook_outcome",
    "record_request",
    "timed_evaluation",
]

FhirInteraction = Literal["read", "search", "page", "write", "token"]
HookOutcome = Literal["card", "no_card", "precondition_failed"]

SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


class _Metrics(Struct, frozen=True):
    requests: Any
    request_seconds: Any
    hook_calls: Any
    fhir_seconds: Any
    fhir_failures: Any
    evaluation_seconds: Any


_made: _Metrics | None = None
_lock = _thread.allocate_lock()  # threading.Lock, without importing threading


def _metrics() -> _Metrics:
    global _made
    if _made is None:
        with _lock:
            if _made is None:
                _made = _make()
    return _made


def _make() -> _Metrics:
    from prometheus_client import Counter, Histogram  # late: see the module

    return _Metrics(
        requests=Counter(
            "nelm_http_requests",
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
        ),
        request_seconds=Histogram(
            "nelm_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and status",
            ["method", "route", "status"],
            buckets=SECONDS_BUCKETS,
        ),
        hook_calls=Counter(
            "nelm_cds_hook_calls",
            "CDS Hooks service calls by outcome: card, no_card, precondition_failed (412)",
            ["outcome"],
        ),
        fhir_seconds=Histogram(
            "nelm_fhir_request_duration_seconds",
            "Time of one FHIR (or authorization server) exchange, by interaction",
            ["interaction"],
            buckets=SECONDS_BUCKETS,
        ),
        fhir_failures=Counter(
            "nelm_fhir_request_failures",
            "FHIR (or authorization server) exchanges that failed, by interaction and reason",
            ["interaction", "reason"],
        ),
        evaluation_seconds=Histogram(
            "nelm_evaluation_duration_seconds",
            "Time to evaluate one patient's record (mapping and criteria)",
            buckets=SECONDS_BUCKETS,
        ),
    )


def ensure_made() -> None:
    """Make the metrics now (at start-up), so a scrape lists them before first use."""
    _metrics()


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request; ``route`` must be a route template, never a path."""
    labels = (method if method in _METHODS else "other", route, str(status))
    metrics = _metrics()
    metrics.requests.labels(*labels).inc()
    metrics.request_seconds.labels(*labels).observe(seconds)


def record_hook_outcome(outcome: HookOutcome) -> None:
    """Count one CDS Hooks service call by what it answered."""
    _metrics().hook_calls.labels(outcome).inc()


def record_fhir_call(interaction: FhirInteraction, seconds: float, failure: str | None) -> None:
    """Record one exchange with a FHIR or authorization server; ``failure`` is the reason
    it failed (one of the module's fixed reasons) or ``None``."""
    metrics = _metrics()
    metrics.fhir_seconds.labels(interaction).observe(seconds)
    if failure is not None:
        metrics.fhir_failures.labels(interaction, failure).inc()


@contextmanager
def timed_evaluation() -> Iterator[None]:
    """Time the block as one patient's evaluation, in a process that exports metrics (the
    web service made them at start-up); elsewhere (the CLI, a screening worker) nothing
    is recorded and prometheus-client, some 80 ms to import, is never imported."""
    started = time.perf_counter()
    try:
        yield
    finally:
        if _made is not None:
            _made.evaluation_seconds.observe(time.perf_counter() - started)
