"""A cache of fetched JSON documents (JWK Sets) shared by the workers through the store.

One worker's fetch serves the others until the document's cache time is up. The cache is
an optimisation: a store failure is logged and treated as a miss, never as an error (the
key source then fetches for itself, and still fails closed on its own).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable

from service.state.base import SharedStore, StoreUnavailableError

__all__ = ["DOCUMENTS", "StoredDocuments"]

log = logging.getLogger(__name__)

DOCUMENTS = "documents"
MAX_DOCUMENTS = 1000


class StoredDocuments:
    """Keep fetched JSON documents in ``store`` by URL (``clock``: epoch seconds)."""

    def __init__(self, store: SharedStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    @staticmethod
    def _key(url: str) -> str:
        return hashlib.sha256(url.encode("utf-8")).hexdigest()

    def get_document(self, url: str) -> tuple[object, float] | None:
        """Return the document held for ``url`` and when it was fetched, if any."""
        try:
            raw = self._store.get(DOCUMENTS, self._key(url))
        except StoreUnavailableError:
            return None
        if raw is None:
            return None
        try:
            held = json.loads(raw)
            return held["document"], float(held["fetched_at"])
        except (ValueError, KeyError, TypeError):
            return None

    def put_document(self, url: str, document: object, ttl: float) -> None:
        """Hold ``document`` for ``ttl`` seconds (best effort)."""
        raw = json.dumps({"fetched_at": self._clock(), "document": document}).encode("utf-8")
        try:
            self._store.put(DOCUMENTS, self._key(url), raw, ttl, cap=MAX_DOCUMENTS)
        except StoreUnavailableError:
            log.warning("a fetched JWK Set could not be shared with the other workers")
