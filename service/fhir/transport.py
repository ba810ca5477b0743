"""One HTTP exchange with a FHIR server: timeouts, retries, the deadline, size limits.

:class:`Transport` sends a request and returns an :class:`~service.fhir.answers.Answer`
or raises the tree of :mod:`service.fhir.errors`:

- every request has ``Accept: application/fhir+json``, a ``(connect, read)`` timeout,
  follows no redirect, and reads at most ``max_response_bytes`` (streamed);
- retries follow :class:`~service.fhir.retry.FhirRetry` (urllib3's ``Retry``);
- under an open deadline (:mod:`service.fhir.deadline`) the timeouts shrink to the time
  left, and a guard (:mod:`service.fhir.watchdog`) cuts the connection when it passes,
  so neither a silent server nor one trickling its answer keeps the caller past it:
  :class:`~service.fhir.errors.FhirDeadlineError` then.

The session gets an adapter whose connections report to the guard; it is mounted on a
session passed in too. Logs name the interaction and the status (``GET Observation
search -> 200``), never a token, a query string or a body.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

from service.fhir import answers
from service.fhir.answers import Answer
from service.fhir.auth import Auth
from service.fhir.deadline import Deadline, current_deadline
from service.fhir.errors import (
    FhirDeadlineError,
    FhirError,
    FhirInvalidResponseError,
    FhirUnavailableError,
    failure_reason,
)
from service.fhir.retry import FhirRetry
from service.fhir.watchdog import active_guard, guarding
from service.metrics.recorders import FhirInteraction, record_fhir_call

__all__ = ["FHIR_JSON", "POOL_SIZE", "Transport", "interaction"]

FHIR_JSON = "application/fhir+json"
POOL_SIZE = 16
"""Connections kept per server, and the most concurrent requests a client makes."""
_CHUNK = 64 * 1024
_MIN_TIMEOUT = 0.01
_log = logging.getLogger(__name__)


class _GuardedHTTPConnection(HTTPConnection):
    """An HTTP connection that the exchange's deadline guard can cut."""

    def connect(self) -> None:
        _attach(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)


class _GuardedHTTPSConnection(_GuardedHTTPConnection, HTTPSConnection):
    """An HTTPS connection that the exchange's deadline guard can cut (the guard of
    :class:`_GuardedHTTPConnection`, then TLS)."""


def _attach(connection: HTTPConnection) -> None:
    guard = active_guard()
    if guard is not None:
        guard.attach(connection)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_GUARDED_POOLS = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


class _FhirAdapter(HTTPAdapter):
    """requests' adapter with guarded connections and the FHIR retry policy."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_GUARDED_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_GUARDED_POOLS)
        return manager


def _timed_out(label: str, where: str, deadline: Deadline | None) -> FhirError:
    if deadline is not None and deadline.expired():
        return FhirDeadlineError(
            f"{label}: not done within the {deadline.seconds:g} s deadline",
            seconds=deadline.seconds,
            url=where,
        )
    return FhirUnavailableError(f"{label}: timed out", url=where, timed_out=True)


def interaction(method: str, label: str, params: list[tuple[str, str]] | None) -> FhirInteraction:
    """Name an exchange for the metrics: ``write`` for PUT/POST/DELETE, ``page`` for a
    search's ``next`` link (sent without parameters), ``search``, else ``read``."""
    if method != "GET":
        return "write"
    if label.endswith(" search"):
        return "search" if params is not None else "page"
    return "read"


class Transport:
    """Send requests to one FHIR server through ``session`` (see the module)."""

    def __init__(
        self,
        session: requests.Session,
        *,
        auth: Auth | None,
        base_url: str,
        timeout: tuple[float, float],
        retries: int,
        backoff: float,
        max_retry_after: float,
        max_response_bytes: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session = session
        self._auth = auth
        self._base_url = base_url
        self._timeout = timeout
        self._max_bytes = max_response_bytes
        policy = FhirRetry.policy(
            retries, backoff=backoff, max_retry_after=max_retry_after, sleep=sleep
        )
        adapter = _FhirAdapter(pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=policy)
        session.mount("https://", adapter)
        session.mount("http://", adapter)

    def request(
        self,
        method: str,
        url: str,
        label: str,
        where: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request (retried by the policy) and return its answer; its time and
        any failure are recorded in the FHIR metrics (:func:`interaction` names it)."""
        started = time.monotonic()
        failure: str | None = None
        try:
            return self._request(
                method, url, label, where, params=params, body=body, headers=headers
            )
        except FhirError as exc:
            failure = failure_reason(exc)
            raise
        finally:
            seconds = time.monotonic() - started
            record_fhir_call(interaction(method, label, params), seconds, failure)

    def _request(
        self,
        method: str,
        url: str,
        label: str,
        where: str,
        *,
        params: list[tuple[str, str]] | None,
        body: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> Answer:
        deadline = current_deadline()
        if deadline is not None and deadline.expired():
            raise _timed_out(label, where, deadline)
        data = None if body is None else json.dumps(body, default=answers.json_default).encode()
        sent = {"Accept": FHIR_JSON, **(headers or {})}
        if self._auth is not None:
            sent["Authorization"] = self._auth.authorization(self._base_url)
        connect, read = self._timeout
        if deadline is not None:
            left = max(deadline.remaining(), _MIN_TIMEOUT)
            connect, read = min(connect, left), min(read, left)
        started = time.monotonic()
        with guarding(deadline.expires_at if deadline is not None else None) as guard:
            try:
                answer = self._exchange(
                    method, url, label, where, params, data, sent, (connect, read)
                )
            except FhirDeadlineError:
                raise
            except FhirUnavailableError as exc:
                if deadline is not None and deadline.expired():
                    raise _timed_out(label, where, deadline) from exc
                raise
            except FhirError as exc:
                if guard is not None and guard.fired:  # what was read was cut short
                    raise _timed_out(label, where, deadline) from exc
                raise
            if guard is not None and guard.fired:
                raise _timed_out(label, where, deadline)
        elapsed = (time.monotonic() - started) * 1000
        _log.debug("%s -> %s (%.0f ms)", label, answer.status, elapsed)
        return answer

    def _exchange(
        self,
        method: str,
        url: str,
        label: str,
        where: str,
        params: list[tuple[str, str]] | None,
        data: bytes | None,
        headers: dict[str, str],
        timeout: tuple[float, float],
    ) -> Answer:
        try:
            response = self._session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout as exc:
            raise FhirUnavailableError(f"{label}: timed out", url=where, timed_out=True) from exc
        except requests.RequestException as exc:
            raise FhirUnavailableError(f"{label}: connection failed", url=where) from exc
        with response:
            return self._answer(response, label, where)

    def _answer(self, response: requests.Response, label: str, where: str) -> Answer:
        status = response.status_code
        if 300 <= status < 400:
            raise FhirInvalidResponseError(
                f"{label}: redirect ({status}) not followed", url=where, status=status
            )
        raw = self._read(response, label, where)
        if status >= 400:
            body = None
            if raw is not None:
                try:
                    body = answers.parse_resource(raw, label, where, status)
                except FhirInvalidResponseError:
                    body = None  # an error page in HTML: the status says enough
            if status in (401, 403) and self._auth is not None:
                self._auth.invalidate()
            raise answers.error_for(status, label, where, body)
        if raw is None:
            raise FhirInvalidResponseError(
                f"{label}: the answer is larger than {self._max_bytes} bytes",
                url=where,
                status=status,
            )
        parsed = answers.parse_resource(raw, label, where, status) if raw.strip() else None
        return Answer(status, response.headers, parsed)

    def _read(self, response: requests.Response, label: str, where: str) -> bytes | None:
        """Return the body, or ``None`` if it is larger than ``max_response_bytes``."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=_CHUNK):
                size += len(chunk)
                if size > self._max_bytes:
                    return None
                chunks.append(chunk)
        except requests.ConnectionError as exc:
            # requests reports a read timeout while streaming as a ConnectionError
            timed_out = "timed out" in str(exc).lower()
            raise FhirUnavailableError(
                f"{label}: the answer was cut off", url=where, timed_out=timed_out
            ) from exc
        except requests.RequestException as exc:
            raise FhirUnavailableError(f"{label}: the answer was cut off", url=where) from exc
        return b"".join(chunks)
