"""The shared store in Redis: what every replica behind a load balancer sees.

Keys are ``nelm-cds:<namespace>:<key>`` with a TTL (``SET ... NX PX`` for ``add``,
``GETDEL`` for ``take``: atomic on the server). Caps are left to Redis's own
``maxmemory`` policy. Every call has a 1 s socket timeout; an unreachable Redis or any
Redis error raises :class:`~service.state.base.StoreUnavailableError`, logged at warning
level. The URL (which may hold a password) never appears in messages: only its host.
"""

from __future__ import annotations

import logging
import math
from urllib.parse import urlsplit

import redis

from service.state.base import StoreUnavailableError

__all__ = ["REDIS_PREFIX", "REDIS_TIMEOUT_SECONDS", "RedisStore"]

log = logging.getLogger(__name__)

REDIS_PREFIX = "nelm-cds:"
REDIS_TIMEOUT_SECONDS = 1.0


class RedisStore:
    """The shared store on the Redis server at ``url`` (``redis://``, ``rediss://``,
    ``unix://``). Raises :class:`ValueError` at construction for another kind of URL."""

    def __init__(
        self, url: str, *, prefix: str = REDIS_PREFIX, timeout: float = REDIS_TIMEOUT_SECONDS
    ) -> None:
        try:
            self._client = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        except ValueError as exc:
            raise ValueError("not a redis://, rediss:// or unix:// URL") from exc
        self._prefix = prefix
        self.where = urlsplit(url).hostname or "a unix socket"

    def __repr__(self) -> str:
        return f"RedisStore({self.where!r})"

    def _key(self, namespace: str, key: str) -> str:
        return f"{self._prefix}{namespace}:{key}"

    def _failed(self, exc: redis.RedisError) -> StoreUnavailableError:
        log.warning("the state store (Redis at %s) failed: %s", self.where, type(exc).__name__)
        return StoreUnavailableError(
            f"the state store (Redis at {self.where}) failed: {type(exc).__name__}"
        )

    def add(self, namespace: str, key: str, value: bytes, ttl: float, *, cap: int) -> bool:
        """Store unless a live entry has ``key`` (``SET NX PX``)."""
        ttl_ms = math.ceil(ttl * 1000)
        try:
            if ttl_ms <= 0:
                return not self._client.exists(self._key(namespace, key))
            return bool(self._client.set(self._key(namespace, key), value, nx=True, px=ttl_ms))
        except redis.RedisError as exc:
            raise self._failed(exc) from exc

    def put(self, namespace: str, key: str, value: bytes, ttl: float, *, cap: int) -> None:
        """Store, replacing any entry (``SET PX``)."""
        ttl_ms = math.ceil(ttl * 1000)
        try:
            if ttl_ms <= 0:
                self._client.delete(self._key(namespace, key))
            else:
                self._client.set(self._key(namespace, key), value, px=ttl_ms)
        except redis.RedisError as exc:
            raise self._failed(exc) from exc

    def get(self, namespace: str, key: str) -> bytes | None:
        """Return the live value, or ``None``."""
        try:
            value = self._client.get(self._key(namespace, key))
        except redis.RedisError as exc:
            raise self._failed(exc) from exc
        return value if isinstance(value, bytes) else None

    def take(self, namespace: str, key: str) -> bytes | None:
        """Remove and return the live value (``GETDEL``), or ``None``."""
        try:
            value = self._client.getdel(self._key(namespace, key))
        except redis.RedisError as exc:
            raise self._failed(exc) from exc
        return value if isinstance(value, bytes) else None

    def delete(self, namespace: str, key: str) -> None:
        """Remove the entry."""
        try:
            self._client.delete(self._key(namespace, key))
        except redis.RedisError as exc:
            raise self._failed(exc) from exc

    def check(self) -> None:
        """``PING``: raise unless Redis answers."""
        try:
            self._client.ping()
        except redis.RedisError as exc:
            raise self._failed(exc) from exc

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
