"""The shared-state contract, its errors, and the in-process implementation.

A :class:`SharedStore` maps ``(namespace, key)`` to bytes, each entry living until its
own expiry. Every operation is atomic on its own; the implementations that matter in
production (:class:`~service.state.sqlite_store.SqliteStore`,
:class:`~service.state.redis_store.RedisStore`) are shared by every worker process (and,
for Redis, every replica), so a ``jti`` used on one worker is used on all. Any backend
failure raises :class:`StoreUnavailableError`: callers fail closed.

Exception tree::

    Exception
    └── StoreUnavailableError      the backend failed; nothing can be decided
        └── StoreFullError         ``add`` found the namespace at its cap (fail closed)
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["MemoryStore", "SharedStore", "StoreFullError", "StoreUnavailableError"]


class StoreUnavailableError(Exception):
    """The shared store cannot be read or written; the message names no key or value."""


class StoreFullError(StoreUnavailableError):
    """The namespace holds its maximum of live entries: ``add`` refuses (fails closed)."""


class SharedStore(Protocol):
    """Entries ``(namespace, key) -> bytes`` with an expiry each; atomic operations.

    ``cap`` bounds the live entries of a namespace: :meth:`add` then refuses
    (:class:`StoreFullError`), :meth:`put` pushes out the entries closest to expiry.
    Backends may enforce caps approximately (checked every so many writes).
    """

    def add(self, namespace: str, key: str, value: bytes, ttl: float, *, cap: int) -> bool:
        """Store ``value`` unless a live entry has ``key``; return whether it was stored."""
        ...

    def put(self, namespace: str, key: str, value: bytes, ttl: float, *, cap: int) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds, replacing any entry."""
        ...

    def get(self, namespace: str, key: str) -> bytes | None:
        """Return the live entry's value, or ``None``."""
        ...

    def take(self, namespace: str, key: str) -> bytes | None:
        """Remove the entry and return its value if it was live (single use), else ``None``."""
        ...

    def delete(self, namespace: str, key: str) -> None:
        """Remove the entry, if any."""
        ...

    def check(self) -> None:
        """Raise :class:`StoreUnavailableError` unless the store can be written now."""
        ...

    def close(self) -> None:
        """Release connections (the store may be used again: it reconnects)."""
        ...


class MemoryStore:
    """Entries in this process's memory: for tests and single-process tools only (the
    workers of a server each have their own). ``clock`` is epoch seconds."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, bytes]] = {}
        self._expiry: list[tuple[float, str, str]] = []

    def __repr__(self) -> str:
        return "MemoryStore()"

    def __len__(self) -> int:
        with self._lock:
            self._purge(self._clock())
            return len(self._entries)

    def _purge(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] <= now:
            expires, namespace, key = heapq.heappop(self._expiry)
            held = self._entries.get((namespace, key))
            if held is not None and held[0] == expires:
                del self._entries[(namespace, key)]

    def _count(self, namespace: str) -> int:
        return sum(1 for ns, _ in self._entries if ns == namespace)

    def _store(self, namespace: str, key: str, value: bytes, expires: float) -> None:
        self._entries[(namespace, key)] = (expires, value)
        heapq.heappush(self._expiry, (expires, namespace, key))

    def add(self, namespace: str, key: str, value: bytes, ttl: float, *, cap: int) -> bool:
        """Store unless live; refuse with :class:`StoreFullError` at the cap."""
        with self._lock:
            now = self._clock()
            self._purge(now)
            if (namespace, key) in self._entries:
                return False
            if ttl <= 0:
                return True  # nothing to remember: it would expire at once
            if self._count(namespace) >= cap:
                raise StoreFullError(f"the {namespace} store is full ({cap} entries)")
            self._store(namespace, key, value, now + ttl)
            return True

    def put(self, namespace: str, key: str, value: bytes, ttl: float, *, cap: int) -> None:
        """Store, pushing out the entries closest to expiry at the cap."""
        with self._lock:
            now = self._clock()
            self._purge(now)
            self._entries.pop((namespace, key), None)
            held = sorted(
                (expires, k) for (ns, k), (expires, _) in self._entries.items() if ns == namespace
            )
            for _, old in held[: max(0, len(held) - cap + 1)]:
                del self._entries[(namespace, old)]
            if ttl > 0:
                self._store(namespace, key, value, now + ttl)

    def get(self, namespace: str, key: str) -> bytes | None:
        """Return the live value, or ``None``."""
        with self._lock:
            self._purge(self._clock())
            held = self._entries.get((namespace, key))
            return None if held is None else held[1]

    def take(self, namespace: str, key: str) -> bytes | None:
        """Remove and return the live value, or ``None``."""
        with self._lock:
            self._purge(self._clock())
            held = self._entries.pop((namespace, key), None)
            return None if held is None else held[1]

    def delete(self, namespace: str, key: str) -> None:
        """Remove the entry."""
        with self._lock:
            self._entries.pop((namespace, key), None)

    def check(self) -> None:
        """Memory is always there."""

    def close(self) -> None:
        """Nothing to release."""
