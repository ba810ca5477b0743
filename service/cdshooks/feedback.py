"""CDS Hooks feedback: validate it, store it durably in SQLite, count it per outcome.

A feedback item (CDS Hooks 2.0 "Feedback") names the ``card`` (our card's UUID), the
``outcome`` (``accepted`` or ``overridden``), the ``outcomeTimestamp`` and, for an
override, an optional ``overrideReason`` (a Coding and/or a ``userComment``).

Storing is idempotent: the key is the card and the outcome timestamp (normalised to
UTC), so a client that repeats a post, or sends the same interaction twice, leaves one
row. What is kept: service id, card UUID, outcome, timestamp, accepted suggestion ids,
the override reason Coding, and *whether* there was a user comment, not its text: a
free-text comment may hold patient data, and this store is not a place for it.

Each call opens its own connection (safe across threads and processes); the journal is
WAL with ``synchronous=FULL``, so an acknowledged post survives a crash. The file is
created on first use.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.errors import BadRequestError, ServiceError
from service.settings import SettingError

__all__ = [
    "OUTCOMES",
    "Feedback",
    "FeedbackError",
    "FeedbackStore",
    "FeedbackStoreError",
    "StoreResult",
    "parse_feedback",
]

log = logging.getLogger(__name__)

OUTCOMES = ("accepted", "overridden")
MAX_ITEMS = 100
_MAX_TEXT = 1024
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    service TEXT NOT NULL,
    card TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    outcome_timestamp TEXT NOT NULL,
    accepted_suggestions TEXT,
    reason_system TEXT,
    reason_code TEXT,
    reason_display TEXT,
    has_comment INTEGER NOT NULL DEFAULT 0,
    received_at TEXT NOT NULL,
    UNIQUE (card, outcome_timestamp)
)
"""


class FeedbackError(BadRequestError):
    """The feedback body is malformed; ``field`` names the offending element."""

    code = "invalid_feedback"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, details={"field": field} if field else None)


@dataclass(frozen=True)
class Feedback:
    """One validated feedback item."""

    card: str
    outcome: str
    outcome_timestamp: str
    """ISO 8601 in UTC, normalised (``2026-11-22T10:15:00+00:00``)."""
    accepted_suggestions: tuple[str, ...] = ()
    reason_system: str | None = None
    reason_code: str | None = None
    reason_display: str | None = None
    has_comment: bool = False


@dataclass(frozen=True)
class StoreResult:
    """How many items a post stored, and how many were repeats of stored ones."""

    stored: int
    duplicates: int


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_TEXT:
        raise FeedbackError(f"{where} must be a non-empty string", field=where)
    return value


def _optional_text(value: Any, where: str) -> str | None:
    return None if value is None else _text(value, where)


def _timestamp(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise FeedbackError(f"{where} must be an ISO 8601 date-time with a zone", field=where)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FeedbackError(f"{where} is not a valid date-time", field=where) from exc
    return moment.astimezone(UTC).isoformat()


def _suggestions(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise FeedbackError(f"{where} must be an array", field=where)
    ids: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise FeedbackError(f"{where}[{index}] must be an object", field=where)
        ids.append(_text(item.get("id"), f"{where}[{index}].id"))
    return tuple(ids)


def _override_reason(value: Any, where: str) -> tuple[str | None, str | None, str | None, bool]:
    if value is None:
        return None, None, None, False
    if not isinstance(value, dict):
        raise FeedbackError(f"{where} must be an object", field=where)
    comment = _optional_text(value.get("userComment"), f"{where}.userComment")
    reason = value.get("reason")
    if reason is None:
        return None, None, None, comment is not None
    if not isinstance(reason, dict):
        raise FeedbackError(f"{where}.reason must be a Coding", field=f"{where}.reason")
    system = _optional_text(reason.get("system"), f"{where}.reason.system")
    code = _text(reason.get("code"), f"{where}.reason.code")
    display = _optional_text(reason.get("display"), f"{where}.reason.display")
    return system, code, display, comment is not None


def _item(item: Any, where: str) -> Feedback:
    if not isinstance(item, dict):
        raise FeedbackError(f"{where} must be an object", field=where)
    card = item.get("card")
    if not isinstance(card, str) or not _UUID.fullmatch(card):
        raise FeedbackError(f"{where}.card must be the UUID of a card", field=f"{where}.card")
    outcome = item.get("outcome")
    if outcome not in OUTCOMES:
        raise FeedbackError(
            f"{where}.outcome must be accepted or overridden", field=f"{where}.outcome"
        )
    timestamp = _timestamp(item.get("outcomeTimestamp"), f"{where}.outcomeTimestamp")
    suggestions = _suggestions(item.get("acceptedSuggestions"), f"{where}.acceptedSuggestions")
    if "overrideReason" in item and outcome != "overridden":
        raise FeedbackError(
            f"{where}.overrideReason is only for an overridden card",
            field=f"{where}.overrideReason",
        )
    system, code, display, has_comment = _override_reason(
        item.get("overrideReason"), f"{where}.overrideReason"
    )
    return Feedback(
        card.lower(), str(outcome), timestamp, suggestions, system, code, display, has_comment
    )


def parse_feedback(body: Any) -> list[Feedback]:
    """Return the feedback items of a request body; raise :class:`FeedbackError` (400).

    ``acceptedSuggestions`` is accepted but not required for ``accepted``: a client may
    report a card as accepted without naming a suggestion (cards without suggestions
    have nothing else to accept). Accepted suggestions are counted by
    :meth:`FeedbackStore.accepted_suggestions`.
    """
    if not isinstance(body, dict):
        raise FeedbackError("the request body must be a JSON object")
    items = body.get("feedback")
    if not isinstance(items, list) or not items:
        raise FeedbackError("feedback must be a non-empty array", field="feedback")
    if len(items) > MAX_ITEMS:
        raise FeedbackError(f"at most {MAX_ITEMS} feedback items per request", field="feedback")
    return [_item(item, f"feedback[{index}]") for index, item in enumerate(items)]


class FeedbackStoreError(ServiceError):
    """The feedback file cannot be opened or written (HTTP 503); details are logged."""

    status_code = 503
    code = "feedback_store_unavailable"


class FeedbackStore:
    """Feedback in a SQLite file at ``path``.

    The file (and its folder) is created on first use, not at start-up, so an app that
    never receives feedback leaves no file behind. A file that cannot be opened raises
    :class:`FeedbackStoreError`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: str) -> FeedbackStore:
        """Return the store at ``FEEDBACK_DB``, else ``feedback.sqlite3`` in the instance
        folder; a setting that is not a path raises :class:`SettingError`."""
        configured = config.get("FEEDBACK_DB")
        if configured in (None, ""):
            return cls(os.path.join(instance_path, "feedback.sqlite3"))
        if not isinstance(configured, str | os.PathLike):
            raise SettingError("NELM_CDS_FEEDBACK_DB must be a file path")
        return cls(configured)

    def __repr__(self) -> str:
        return f"FeedbackStore({str(self.path)!r})"

    def _ensure_schema(self) -> None:
        with self._lock:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10)) as connection:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(_SCHEMA)
                connection.commit()
            self._ready = True

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            self._ensure_schema()
            with closing(sqlite3.connect(self.path, timeout=10)) as connection:
                connection.execute("PRAGMA synchronous=FULL")
                with connection:  # one transaction: committed on success, rolled back on error
                    yield connection
        except (OSError, sqlite3.Error) as exc:
            log.error("feedback store %s failed: %s", self.path, type(exc).__name__)
            raise FeedbackStoreError("feedback cannot be stored now; try again later") from exc

    def check(self) -> None:
        """Raise :class:`FeedbackStoreError` unless the file can be written now (it takes
        and releases the write lock; the file is created if need be)."""
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")

    def add(self, service: str, items: Sequence[Feedback]) -> StoreResult:
        """Store ``items`` in one transaction; repeats of stored items are skipped."""
        received = datetime.now(UTC).isoformat()
        stored = 0
        with self._connection() as connection:
            for item in items:
                cursor = connection.execute(
                    "INSERT OR IGNORE INTO feedback (service, card, outcome, outcome_timestamp,"
                    " accepted_suggestions, reason_system, reason_code, reason_display,"
                    " has_comment, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        service,
                        item.card,
                        item.outcome,
                        item.outcome_timestamp,
                        json.dumps(list(item.accepted_suggestions))
                        if item.accepted_suggestions
                        else None,
                        item.reason_system,
                        item.reason_code,
                        item.reason_display,
                        int(item.has_comment),
                        received,
                    ),
                )
                stored += cursor.rowcount
        return StoreResult(stored, len(items) - stored)

    def counts(self, *, service: str | None = None, card: str | None = None) -> dict[str, int]:
        """Return how many feedback items there are per outcome (every outcome listed),
        optionally for one service or one card."""
        query = "SELECT outcome, COUNT(*) FROM feedback WHERE 1 = 1"
        params: list[str] = []
        if service is not None:
            query += " AND service = ?"
            params.append(service)
        if card is not None:
            query += " AND card = ?"
            params.append(card.lower())
        query += " GROUP BY outcome"
        with self._connection() as connection:
            rows = connection.execute(query, params).fetchall()
        return {**dict.fromkeys(OUTCOMES, 0), **{str(o): int(n) for o, n in rows}}

    def accepted_suggestions(self, *, service: str | None = None) -> dict[str, int]:
        """Return how many times each suggestion ``uuid`` was accepted (each stored
        feedback item counts once per suggestion it names), most accepted first."""
        query = (
            "SELECT suggestion.value, COUNT(*) FROM feedback,"
            " json_each(feedback.accepted_suggestions) AS suggestion"
            " WHERE feedback.outcome = 'accepted' AND feedback.accepted_suggestions IS NOT NULL"
        )
        params: list[str] = []
        if service is not None:
            query += " AND feedback.service = ?"
            params.append(service)
        query += " GROUP BY suggestion.value ORDER BY COUNT(*) DESC, suggestion.value"
        with self._connection() as connection:
            rows = connection.execute(query, params).fetchall()
        return {str(suggestion): int(count) for suggestion, count in rows}

    def override_reasons(self, *, service: str | None = None) -> list[tuple[str | None, str, int]]:
        """Return ``(system, code, count)`` for each override reason, most frequent first."""
        query = (
            "SELECT reason_system, reason_code, COUNT(*) FROM feedback"
            " WHERE outcome = 'overridden' AND reason_code IS NOT NULL"
        )
        params: list[str] = []
        if service is not None:
            query += " AND service = ?"
            params.append(service)
        query += " GROUP BY reason_system, reason_code ORDER BY COUNT(*) DESC, reason_code"
        with self._connection() as connection:
            rows = connection.execute(query, params).fetchall()
        return [(system, str(code), int(count)) for system, code, count in rows]
