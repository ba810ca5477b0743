"""Remember which token ids (``jti``) were used, so no token is accepted twice.

A key is recorded in the shared store (:mod:`service.state`) until the token can no
longer be accepted anyway (its ``exp`` plus the clock skew). The app's store is a SQLite
file every worker shares, or Redis shared by every replica, so a token replayed to
another worker (or replica) is refused. The cache fails closed: a store that is full or
unreachable raises :class:`~service.auth.keys.TokenError`, so the token is refused
rather than accepted unchecked.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from service.auth.keys import TokenError
from service.settings import SettingError, setting_name, text_setting
from service.state.base import MemoryStore, SharedStore, StoreFullError, StoreUnavailableError
from service.state.redis_store import RedisStore

__all__ = ["JTI_NAMESPACE", "MAX_ENTRIES", "ReplayCache", "replay_cache_from_config", "replay_key"]

JTI_NAMESPACE = "jti"
MAX_ENTRIES = 1_000_000
"""Live token ids at most; beyond that tokens are refused (fail closed)."""


def replay_key(iss: str, jti: str) -> str:
    """Return the cache key of a token id: SHA-256 of (iss, jti), unambiguous, fixed size."""
    return hashlib.sha256(json.dumps([iss, jti]).encode("utf-8")).hexdigest()


class ReplayCache:
    """Token ids seen, in ``store`` (``clock``: epoch seconds). Thread-safe as the store is."""

    def __init__(
        self,
        store: SharedStore,
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._max_entries = max_entries
        self._clock = clock

    def __repr__(self) -> str:
        return f"ReplayCache({self.store!r})"

    def first_use(self, key: str, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at`` (epoch seconds); return whether it was
        unseen. Atomic across every process sharing the store. Raise
        :class:`TokenError` if the store cannot tell (full or unreachable)."""
        try:
            return self.store.add(
                JTI_NAMESPACE, key, b"1", expires_at - self._clock(), cap=self._max_entries
            )
        except StoreFullError as exc:
            raise TokenError(f"the replay cache is full ({self._max_entries} token ids)") from exc
        except StoreUnavailableError as exc:
            raise TokenError(f"the replay cache failed: {exc}") from exc

    def check(self) -> None:
        """Raise :class:`~service.state.base.StoreUnavailableError` unless the store works."""
        self.store.check()

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()


def replay_cache_from_config(
    config: Mapping[str, Any], *, clock: Callable[[], float] = time.time
) -> ReplayCache:
    """Return a cache on Redis at ``REDIS_URL``, else in this process's memory (for a
    validator built on its own; the app passes its shared store instead)."""
    url = text_setting(config, "REDIS_URL")
    if url is None:
        return ReplayCache(MemoryStore(clock=clock), clock=clock)
    try:
        return ReplayCache(RedisStore(url), clock=clock)
    except ValueError as exc:
        raise SettingError(f"{setting_name('REDIS_URL')}: {exc}") from exc
