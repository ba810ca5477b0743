"""Where the SMART launch keeps what a later request needs.

- :class:`SealedRecords`: pending launches and sessions, as JSON in the shared store
  (:mod:`service.state`), so a launch begun on one worker (or replica) completes on any
  other, and a session is known to all. Values are sealed (encrypted and authenticated:
  a session holds the EHR's access token); keys are SHA-256 of the state or session id,
  so whoever reads the store cannot use what it finds to hijack a launch or a session.
- :class:`ExpiringStore`: a bounded in-memory map, for what each process may cache on
  its own (the EHRs' SMART configurations).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from service.state.base import SharedStore, StoreUnavailableError
from service.state.sealing import Sealer, SealError

__all__ = ["ExpiringStore", "SealedRecords"]

log = logging.getLogger(__name__)

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


class SealedRecords:
    """JSON objects in ``namespace`` of the shared ``store``, sealed by ``sealer``.

    A record that cannot be opened (another key, altered) or a store that fails reads
    as absent, with a warning in the log: the caller then refuses (fail closed).
    Writing raises :class:`~service.state.base.StoreUnavailableError`.
    """

    def __init__(
        self, store: SharedStore, namespace: str, sealer: Sealer, *, max_entries: int
    ) -> None:
        self._store = store
        self._namespace = namespace
        self._sealer = sealer
        self._max = max_entries

    @staticmethod
    def _key(name: str) -> str:
        return hashlib.sha256(name.encode("utf-8")).hexdigest()

    def put(self, name: str, record: dict[str, Any], *, ttl: float) -> None:
        """Keep ``record`` under ``name`` for ``ttl`` seconds."""
        sealed = self._sealer.seal(json.dumps(record).encode("utf-8"))
        self._store.put(self._namespace, self._key(name), sealed, ttl, cap=self._max)

    def get(self, name: str) -> dict[str, Any] | None:
        """Return the record under ``name``, or ``None``."""
        return self._read(lambda: self._store.get(self._namespace, self._key(name)))

    def pop(self, name: str) -> dict[str, Any] | None:
        """Remove and return the record (single use: one caller gets it), or ``None``."""
        return self._read(lambda: self._store.take(self._namespace, self._key(name)))

    def _read(self, fetch: Callable[[], bytes | None]) -> dict[str, Any] | None:
        try:
            sealed = fetch()
            if sealed is None:
                return None
            record = json.loads(self._sealer.open(sealed))
        except StoreUnavailableError:
            log.warning("the %s store cannot be read: treated as unknown", self._namespace)
            return None
        except (SealError, ValueError):
            log.warning("a %s record cannot be opened: treated as unknown", self._namespace)
            return None
        return record if isinstance(record, dict) else None
