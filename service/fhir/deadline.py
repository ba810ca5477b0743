"""One overall deadline for all the FHIR work of a request.

Read timeouts bound each socket read, not a request: paging, retries and a body
trickled byte by byte add up. A :class:`Deadline` bounds the sum. The web layer opens
one per request with :func:`deadline_scope` (``FHIR_DEADLINE_SECONDS`` for the REST API
and pages, ``CDS_DEADLINE_SECONDS`` for hooks); every FHIR call made while it is open,
in this thread or in a thread started with :func:`in_this_context`, shortens its
timeouts to the time left, retries only when the wait fits, and stops reading an answer
when time is up (:mod:`service.fhir.transport`). Past it,
:class:`~service.fhir.errors.FhirDeadlineError`.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

__all__ = [
    "Deadline",
    "close_deadline",
    "current_deadline",
    "deadline_scope",
    "in_this_context",
    "open_deadline",
]

P = ParamSpec("P")
R = TypeVar("R")

_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "nelm_fhir_deadline", default=None
)


@dataclass(frozen=True)
class Deadline:
    """A moment on the monotonic clock by which the work must be done."""

    seconds: float
    """How long the work was given (for messages)."""
    expires_at: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise ValueError("a deadline needs a positive number of seconds")
        if self.expires_at < 0:
            object.__setattr__(self, "expires_at", time.monotonic() + self.seconds)

    def remaining(self) -> float:
        """Return the seconds left (0 when past)."""
        return max(0.0, self.expires_at - time.monotonic())

    def expired(self) -> bool:
        """Say whether the deadline has passed."""
        return time.monotonic() >= self.expires_at


def current_deadline() -> Deadline | None:
    """Return the deadline of the work in progress, if one is open."""
    return _CURRENT.get()


def open_deadline(seconds: float) -> contextvars.Token[Deadline | None]:
    """Open a deadline of ``seconds`` for what this context does next (a web request's
    ``before_request``); pass the token to :func:`close_deadline` when it ends."""
    return _CURRENT.set(Deadline(seconds))


def close_deadline(token: contextvars.Token[Deadline | None]) -> None:
    """Close the deadline :func:`open_deadline` opened."""
    _CURRENT.reset(token)


@contextmanager
def deadline_scope(seconds: float | None) -> Iterator[Deadline | None]:
    """Open a deadline of ``seconds`` for the FHIR work inside the block (``None``: the
    work has no overall deadline, only per-read timeouts)."""
    deadline = Deadline(seconds) if seconds is not None else None
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)


def in_this_context(function: Callable[P, R]) -> Callable[P, R]:
    """Return ``function`` bound to the caller's context (its deadline), to run in a
    pool thread: ``pool.submit(in_this_context(fetch), ...)``."""
    context = contextvars.copy_context()

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return context.copy().run(function, *args, **kwargs)

    return run
