"""The shared store in a SQLite file: what every worker of one server sees, with no
extra service to run.

One table ``state(ns, key, value, expires_at)``; every operation is one SQL statement,
so it is atomic across threads and processes (SQLite serialises writers): ``add`` is an
``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired`` (a live key is never replaced),
``take`` a ``DELETE ... RETURNING``. The journal is WAL (readers never wait for the
writer), writers wait up to :data:`BUSY_TIMEOUT_MS` for each other. Expired rows are
purged, and namespace caps checked, every :data:`HOUSEKEEPING_EVERY` writes of a process.

Each thread of each process opens its own connection (lazily, and again after a fork),
and the file is created on first use with mode 0600 in a folder created 0700. Any
SQLite or file-system failure raises
:class:`~service.state.base.StoreUnavailableError`, logged at warning level.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from service.state.base import StoreFullError, StoreUnavailableError

__all__ = ["BUSY_TIMEOUT_MS", "HOUSEKEEPING_EVERY", "SqliteStore"]

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
HOUSEKEEPING_EVERY = 64

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS state ("
    " ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, expires_at REAL NOT NULL,"
    " PRIMARY KEY (ns, key)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS state_expiry ON state (ns, expires_at)",
)


class SqliteStore:
    """The shared store in the SQLite file at ``path`` (``clock``: epoch seconds)."""

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self._clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._writes = 0
        self._full: set[str] = set()
        self._schema_pid: int | None = None

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    # --- connections ------------------------------------------------------------------

    def _create_file(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(descriptor)

    def _connection(self) -> sqlite3.Connection:
        pid = os.getpid()
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None and getattr(self._local, "pid", None) == pid:
            return connection
        self._create_file()
        connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        with self._lock:
            if self._schema_pid != pid:
                connection.execute("PRAGMA journal_mode=WAL")
                for statement in _SCHEMA:
                    connection.execute(statement)
                self._schema_pid = pid
        connection.execute("PRAGMA synchronous=NORMAL")
        self._local.connection, self._local.pid = connection, pid
        return connection

    def _failed(self, exc: BaseException) -> StoreUnavailableError:
        self.close()
        log.warning("the state store %s failed: %s", self.path, type(exc).__name__)
        return StoreUnavailableError(f"the state store failed ({type(exc).__name__})")

    # --- housekeeping -----------------------------------------------------------------

    def _housekeeping_due(self) -> bool:
        with self._lock:
            self._writes += 1
            return self._writes % HOUSEKEEPING_EVERY == 1

    def _live(self, connection: sqlite3.Connection, namespace: str, now: float) -> int:
        row = connection.execute(
            "SELECT COUNT(*) FROM state WHERE ns = ? AND expires_at > ?", (namespace, now)
        ).fetchone()
        return int(row[0])

    def _housekeeping(self, connection: sqlite3.Connection, namespace: str, now: float) -> int:
        connection.execute("DELETE FROM state WHERE ns = ? AND expires_at <= ?", (namespace, now))
        return self._live(connection, namespace, now)

    # --- operations -------------------------------------------------------------------

    def add(self, namespace: str, key: str, value: bytes, ttl: float, *, cap: int) -> bool:
        """Store unless a live entry has ``key``; refuse with StoreFullError at the cap."""
        now = self._clock()
        try:
            connection = self._connection()
            if self._housekeeping_due() or namespace in self._full:
                if self._housekeeping(connection, namespace, now) >= cap:
                    self._full.add(namespace)
                    log.warning("the %s store is full (%d entries): refusing", namespace, cap)
                    raise StoreFullError(f"the {namespace} store is full ({cap} entries)")
                self._full.discard(namespace)
            if ttl <= 0:
                found = connection.execute(
                    "SELECT 1 FROM state WHERE ns = ? AND key = ? AND expires_at > ?",
                    (namespace, key, now),
                ).fetchone()
                return found is None
            cursor = connection.execute(
                "INSERT INTO state (ns, key, value, expires_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value,"
                " expires_at = excluded.expires_at WHERE state.expires_at <= ?",
                (namespace, key, value, now + ttl, now),
            )
            return cursor.rowcount == 1
        except (sqlite3.Error, OSError) as exc:
            raise self._failed(exc) from exc

    def put(self, namespace: str, key: str, value: bytes, ttl: float, *, cap: int) -> None:
        """Store, replacing any entry; past the cap, push out the entries nearest expiry."""
        now = self._clock()
        try:
            connection = self._connection()
            if self._housekeeping_due():
                surplus = self._housekeeping(connection, namespace, now) - cap + 1
                if surplus > 0:
                    connection.execute(
                        "DELETE FROM state WHERE ns = ? AND key IN (SELECT key FROM state"
                        " WHERE ns = ? ORDER BY expires_at LIMIT ?)",
                        (namespace, namespace, surplus),
                    )
            connection.execute(
                "INSERT OR REPLACE INTO state (ns, key, value, expires_at) VALUES (?, ?, ?, ?)",
                (namespace, key, value, now + ttl),
            )
        except (sqlite3.Error, OSError) as exc:
            raise self._failed(exc) from exc

    def get(self, namespace: str, key: str) -> bytes | None:
        """Return the live value, or ``None``."""
        try:
            row = (
                self._connection()
                .execute(
                    "SELECT value FROM state WHERE ns = ? AND key = ? AND expires_at > ?",
                    (namespace, key, self._clock()),
                )
                .fetchone()
            )
        except (sqlite3.Error, OSError) as exc:
            raise self._failed(exc) from exc
        return None if row is None else bytes(row[0])

    def take(self, namespace: str, key: str) -> bytes | None:
        """Remove the entry; return its value if it was live (one caller gets it)."""
        try:
            row = (
                self._connection()
                .execute(
                    "DELETE FROM state WHERE ns = ? AND key = ? RETURNING value, expires_at",
                    (namespace, key),
                )
                .fetchone()
            )
        except (sqlite3.Error, OSError) as exc:
            raise self._failed(exc) from exc
        if row is None or float(row[1]) <= self._clock():
            return None
        return bytes(row[0])

    def delete(self, namespace: str, key: str) -> None:
        """Remove the entry, if any."""
        try:
            self._connection().execute(
                "DELETE FROM state WHERE ns = ? AND key = ?", (namespace, key)
            )
        except (sqlite3.Error, OSError) as exc:
            raise self._failed(exc) from exc

    def check(self) -> None:
        """Take and release the write lock: raise unless the file can be written now."""
        try:
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        except (sqlite3.Error, OSError) as exc:
            raise self._failed(exc) from exc

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            with contextlib.suppress(sqlite3.Error):
                connection.close()
