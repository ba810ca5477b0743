"""End the socket reads of an HTTP exchange when its deadline passes.

A socket timeout bounds one read; a server that sends a byte every few seconds never
trips it. :class:`Guard` watches the connections an exchange uses and, when the
deadline passes, shuts them down (``shutdown(SHUT_RDWR)``), which wakes any read blocked
on them with an error: the exchange ends within moments of its deadline whatever the
server does. One daemon thread serves every guard of the process.

The connections are urllib3's, made by :mod:`service.fhir.transport` with classes that
report to the guard open in their thread (:func:`active_guard`).
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Guard", "active_guard", "guarding"]

log = logging.getLogger(__name__)

_ACTIVE: contextvars.ContextVar[Guard | None] = contextvars.ContextVar(
    "nelm_fhir_guard", default=None
)


class _Timer:
    __slots__ = ("action", "cancelled")

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action
        self.cancelled = False


class _Watchdog:
    """One thread running actions at their monotonic times (started on first use)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, when: float, action: Callable[[], None]) -> _Timer:
        timer = _Timer(action)
        with self._condition:
            heapq.heappush(self._heap, (when, next(self._order), timer))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="fhir-deadline-watchdog", daemon=True
                )
                self._thread.start()
            self._condition.notify()
        return timer

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._condition.wait(wait)
                _, _, timer = heapq.heappop(self._heap)
            if not timer.cancelled:
                try:
                    timer.action()
                except Exception:  # noqa: BLE001 - the watchdog must outlive any action
                    log.warning("a deadline action failed", exc_info=True)


_WATCHDOG = _Watchdog()


def _after_fork() -> None:
    global _WATCHDOG
    _WATCHDOG = _Watchdog()  # the parent's thread does not exist in the child


os.register_at_fork(after_in_child=_after_fork)


class Guard:
    """Shut down the connections attached to it when ``expires_at`` (monotonic) passes."""

    def __init__(self, expires_at: float) -> None:
        self.expires_at = expires_at
        self.fired = False
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self._timer: _Timer | None = None
        self._closed = False

    def attach(self, connection: Any) -> None:
        """Watch ``connection`` (anything with a ``sock``) until :meth:`close`."""
        with self._lock:
            if self._closed or any(c is connection for c in self._connections):
                return
            self._connections.append(connection)
            if self._timer is None:
                self._timer = _WATCHDOG.schedule(self.expires_at, self._fire)
            fired = self.fired
        if fired:
            _shut(connection)

    def _fire(self) -> None:
        with self._lock:
            if self._closed:
                return
            self.fired = True
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)

    def close(self) -> None:
        """Stop watching (the exchange is over)."""
        with self._lock:
            self._closed = True
            self._connections.clear()
            if self._timer is not None:
                self._timer.cancelled = True


def _shut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    with contextlib.suppress(OSError):  # already closed: nothing is blocked on it
        sock.shutdown(socket.SHUT_RDWR)
    log.info("FHIR exchange cut at its deadline")


def active_guard() -> Guard | None:
    """Return the guard of the exchange running in this context, if any."""
    return _ACTIVE.get()


@contextmanager
def guarding(expires_at: float | None) -> Iterator[Guard | None]:
    """Guard the HTTP exchange inside the block until ``expires_at`` (``None``: no guard)."""
    if expires_at is None:
        yield None
        return
    guard = Guard(expires_at)
    token = _ACTIVE.set(guard)
    try:
        yield guard
    finally:
        _ACTIVE.reset(token)
        guard.close()
