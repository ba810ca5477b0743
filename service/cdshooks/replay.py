"""Remember which token ids (``jti``) were used, so no token is accepted twice.

A key is recorded until the token can no longer be accepted anyway (its ``exp`` plus the
clock skew). :class:`MemoryReplayCache` serves one process; :class:`RedisReplayCache`
lets several replicas behind a load balancer share what they have seen (``SET key NX
PX``, atomic on the server). Both fail closed: a cache that is full or unreachable
raises :class:`~service.cdshooks.jwks.CdsTokenError`, so the token is refused rather
than accepted unchecked.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

import redis

from service.cdshooks.jwks import CdsTokenError

__all__ = ["MemoryReplayCache", "RedisReplayCache", "ReplayCache", "replay_key"]

REDIS_PREFIX = "nelm-cds:jti:"
REDIS_TIMEOUT_SECONDS = 1.0


def replay_key(iss: str, jti: str) -> str:
    """Return the cache key of a token id: SHA-256 of (iss, jti), unambiguous, fixed size."""
    return hashlib.sha256(json.dumps([iss, jti]).encode("utf-8")).hexdigest()


class ReplayCache(Protocol):
    """Where used token ids are recorded."""

    def first_use(self, key: str, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at`` (epoch seconds); return whether it was
        unseen. Atomic. Raise :class:`CdsTokenError` if it cannot tell."""
        ...

    def close(self) -> None:
        """Release connections, if any."""
        ...


class MemoryReplayCache:
    """Token ids seen by this process: thread-safe, expired entries purged as it goes,
    at most ``max_entries`` live ones (beyond that it refuses, failing closed)."""

    def __init__(
        self, *, max_entries: int = 100_000, clock: Callable[[], float] = time.time
    ) -> None:
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._expires: dict[str, float] = {}
        self._queue: list[tuple[float, str]] = []  # heap by expiry, one item per key

    def __len__(self) -> int:
        with self._lock:
            self._purge(self._clock())
            return len(self._expires)

    def first_use(self, key: str, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at``; return whether it was unseen."""
        with self._lock:
            now = self._clock()
            self._purge(now)
            if key in self._expires:
                return False
            if expires_at <= now:
                return True  # nothing to remember: it can no longer be accepted
            if len(self._expires) >= self._max_entries:
                raise CdsTokenError(f"the replay cache is full ({self._max_entries} token ids)")
            self._expires[key] = expires_at
            heapq.heappush(self._queue, (expires_at, key))
            return True

    def _purge(self, now: float) -> None:
        while self._queue and self._queue[0][0] <= now:
            _, key = heapq.heappop(self._queue)
            del self._expires[key]

    def close(self) -> None:
        """Nothing to release."""


class RedisReplayCache:
    """Token ids seen by any replica sharing the Redis server at ``url``.

    Keys are ``nelm-cds:jti:<key>`` with a TTL to ``expires_at``. Redis timeouts are
    1 s; an unreachable Redis or any Redis error raises :class:`CdsTokenError`. The URL
    (which may hold a password) never appears in messages: only its host does.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = REDIS_PREFIX,
        timeout: float = REDIS_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            self._client = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        except ValueError as exc:
            raise ValueError("not a redis://, rediss:// or unix:// URL") from exc
        self._prefix = prefix
        self._clock = clock
        self.where = urlsplit(url).hostname or "a unix socket"

    def first_use(self, key: str, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at`` (SET NX PX); return whether it was unseen."""
        ttl_ms = math.ceil((expires_at - self._clock()) * 1000)
        if ttl_ms <= 0:
            return True
        try:
            stored = self._client.set(self._prefix + key, b"1", nx=True, px=ttl_ms)
        except redis.RedisError as exc:
            raise CdsTokenError(
                f"the replay cache (Redis at {self.where}) failed: {type(exc).__name__}"
            ) from exc
        return bool(stored)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
