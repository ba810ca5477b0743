"""A bounded in-memory map whose entries expire: pending launches and SMART sessions.

In memory, so per process: with several replicas, the callback of a launch must reach
the replica that started it (sticky sessions), and a session lives on one replica.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["ExpiringStore"]

T = TypeVar("T")


class ExpiringStore(Generic[T]):
    """Map keys to values for a time-to-live each, holding at most ``max_entries``.

    When full, expired entries go first, then the oldest ones: a flood of new entries
    can push out old ones, never grow memory. Thread-safe. ``clock`` is seconds since
    the epoch (tests pass a fake one).
    """

    def __init__(self, *, max_entries: int, clock: Callable[[], float] = time.time) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, T]] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            self._drop_expired()
            return len(self._entries)

    def put(self, key: str, value: T, *, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds (replacing any old value)."""
        with self._lock:
            self._entries.pop(key, None)
            if len(self._entries) >= self._max:
                self._drop_expired()
            while len(self._entries) >= self._max:
                self._entries.popitem(last=False)
            self._entries[key] = (self._clock() + ttl, value)

    def get(self, key: str) -> T | None:
        """Return the value under ``key``, or ``None`` if there is none or it expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            return entry[1]

    def pop(self, key: str) -> T | None:
        """Remove and return the value under ``key`` (single use); ``None`` as :meth:`get`."""
        with self._lock:
            entry = self._entries.pop(key, None)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def _drop_expired(self) -> None:
        now = self._clock()
        for key in [k for k, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
