"""The run's state on disk (SQLite): resources grouped by patient, candidates, results.

Grouping happens out of core: rows go to a SQLite file in the output folder, so memory
stays flat whatever the export's size, and a run that stops can be resumed (results
already computed are kept; grouping is redone only when it had not finished). WAL mode
lets the evaluation read groups through one connection while results are written
through another.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["STATE_FILE", "Store"]

STATE_FILE = ".screen-state.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS patients (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS candidates (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS net (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS resources (patient TEXT NOT NULL, seq INTEGER NOT NULL,
                                      is_patient INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (patient TEXT PRIMARY KEY, body TEXT NOT NULL,
                                    summary TEXT NOT NULL) WITHOUT ROWID;
"""


class Store:
    """One run's SQLite state at ``path``; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA temp_store=FILE")
        self._db.executescript(_SCHEMA)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # ---- meta -----------------------------------------------------------------------

    def get_meta(self, key: str) -> Any:
        """Return a JSON value stored under ``key``, or ``None``."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``."""
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value))
        )

    def reset(self) -> None:
        """Forget everything (a fresh run)."""
        for table in ("meta", "patients", "candidates", "net", "resources", "results"):
            self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        self._db.execute("DROP INDEX IF EXISTS resources_by_patient")

    def reset_grouping(self) -> None:
        """Forget a grouping that did not finish (results are kept)."""
        for table in ("patients", "candidates", "net", "resources"):
            self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        self._db.execute("DROP INDEX IF EXISTS resources_by_patient")

    # ---- grouping -------------------------------------------------------------------

    def begin(self) -> None:
        """Start a write transaction (grouping writes in large transactions)."""
        self._db.execute("BEGIN")

    def commit(self) -> None:
        """Commit the current transaction."""
        self._db.execute("COMMIT")

    def add_patients(self, ids: Iterable[str]) -> None:
        """Record patient ids seen (for counting everyone)."""
        self._db.executemany("INSERT OR IGNORE INTO patients (id) VALUES (?)", ((i,) for i in ids))

    def add_candidates(self, ids: Iterable[str], table: str = "candidates") -> None:
        """Record candidate patient ids (``table="net"`` for patients with a NET code)."""
        if table not in ("candidates", "net"):
            raise ValueError(table)
        self._db.executemany(
            f"INSERT OR IGNORE INTO {table} (id) VALUES (?)",  # noqa: S608 - checked above
            ((i,) for i in ids),
        )

    def add_resources(self, rows: Iterable[tuple[str, int, int, str]]) -> None:
        """Store ``(patient, seq, is_patient, body)`` rows."""
        self._db.executemany(
            "INSERT INTO resources (patient, seq, is_patient, body) VALUES (?, ?, ?, ?)", rows
        )

    def index(self) -> None:
        """Index the resources by patient (after loading: faster than while loading)."""
        self._db.execute(
            "CREATE INDEX IF NOT EXISTS resources_by_patient ON resources (patient, seq)"
        )

    def count(self, table: str) -> int:
        """Return the number of rows of a table."""
        if table not in ("patients", "candidates", "net", "resources", "results"):
            raise ValueError(table)
        return int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608

    def candidate_ids(self) -> set[str]:
        """Return the candidate ids (a small share of any population)."""
        return {row[0] for row in self._db.execute("SELECT id FROM candidates")}

    def net_count(self) -> int:
        """Return how many patients have a NET code (primary, carcinoma or C7B)."""
        return self.count("net")

    # ---- evaluation -----------------------------------------------------------------

    def pending_groups(self) -> Iterator[tuple[str, list[tuple[int, str]]]]:
        """Yield ``(patient id, [(is_patient, body), ...])`` for every candidate without
        a result, Patient first then in export order, through a second connection."""
        reader = sqlite3.connect(self.path)
        try:
            rows = reader.execute(
                "SELECT r.patient, r.is_patient, r.body FROM resources r "
                "JOIN candidates c ON c.id = r.patient "
                "WHERE NOT EXISTS (SELECT 1 FROM results s WHERE s.patient = r.patient) "
                "ORDER BY r.patient, r.is_patient DESC, r.seq"
            )
            current: str | None = None
            group: list[tuple[int, str]] = []
            for patient, is_patient, body in rows:
                if patient != current:
                    if current is not None:
                        yield current, group
                    current, group = patient, []
                group.append((is_patient, body))
            if current is not None:
                yield current, group
        finally:
            reader.close()

    def pending_count(self) -> int:
        """Return how many candidates have no result yet."""
        row = self._db.execute(
            "SELECT count(*) FROM candidates c "
            "WHERE NOT EXISTS (SELECT 1 FROM results s WHERE s.patient = c.id)"
        ).fetchone()
        return int(row[0])

    def add_results(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Store ``(patient, result JSON, summary JSON)`` rows in one transaction."""
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT OR REPLACE INTO results (patient, body, summary) VALUES (?, ?, ?)", rows
        )
        self._db.execute("COMMIT")

    def summaries(self, patients: Iterable[str]) -> Iterator[str]:
        """Yield the summary JSON of each of ``patients`` (ids with results), in that order."""
        reader = sqlite3.connect(self.path)
        try:
            for patient in patients:
                row = reader.execute(
                    "SELECT summary FROM results WHERE patient = ?", (patient,)
                ).fetchone()
                if row is not None:
                    yield str(row[0])
        finally:
            reader.close()

    def results(self) -> Iterator[tuple[str, str, str]]:
        """Yield every ``(patient, result JSON, summary JSON)``, by patient id."""
        reader = sqlite3.connect(self.path)
        try:
            yield from reader.execute("SELECT patient, body, summary FROM results ORDER BY patient")
        finally:
            reader.close()
