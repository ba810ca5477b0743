"""When a FHIR request is tried again: urllib3's :class:`~urllib3.util.retry.Retry`,
with the rules a clinical service needs.

- **Statuses**: 429, 502, 503 and 504 are retried up to ``retries`` times for idempotent
  methods (GET, PUT, DELETE); a POST only on 429 and 503, the two answers that say the
  request was not processed. The wait is the server's ``Retry-After`` (seconds or an HTTP
  date), else exponential backoff (``backoff``, twice that, ...), never more than
  ``max_retry_after``. After the last try the last answer is returned as is (its
  OperationOutcome kept).
- **A reset connection** (a pooled keep-alive connection the server closed) is retried
  once, for idempotent methods only, at once.
- **Timeouts and refused connections** are not retried: the caller is waiting.
- **The deadline** (:mod:`service.fhir.deadline`): no retry is made whose wait would
  end past it, and once it has passed nothing is retried
  (:class:`~service.fhir.errors.FhirDeadlineError`).

The waits happen in :meth:`FhirRetry.increment` (with the ``sleep`` given, which tests
replace), so they are the same whether urllib3 or a test double drives the retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from urllib3.exceptions import MaxRetryError, ReadTimeoutError, ResponseError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from service.fhir.answers import retry_after
from service.fhir.deadline import current_deadline
from service.fhir.errors import FhirDeadlineError

__all__ = ["IDEMPOTENT", "RETRY_POST", "RETRY_STATUSES", "FhirRetry"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_POST = frozenset({429, 503})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class FhirRetry(Retry):
    """The retry policy of :mod:`service.fhir` (see the module); build with :meth:`policy`."""

    sleep_for: Callable[[float], None] = staticmethod(time.sleep)
    backoff_seconds: float = 0.25
    max_retry_after: float = 5.0

    @classmethod
    def policy(
        cls,
        retries: int,
        *,
        backoff: float,
        max_retry_after: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> FhirRetry:
        """Return the policy: ``retries`` status retries, one reset retry."""
        retry = cls(
            total=None,
            connect=0,
            read=1,
            redirect=0,
            status=retries,
            other=0,
            allowed_methods=IDEMPOTENT,
            status_forcelist=RETRY_STATUSES,
            raise_on_redirect=False,
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        retry._carry(sleep, backoff, max_retry_after)
        return retry

    def _carry(self, sleep: Callable[[float], None], backoff: float, cap: float) -> None:
        self.sleep_for = sleep
        self.backoff_seconds = backoff
        self.max_retry_after = cap

    def new(self, **kw: Any) -> Self:
        """Return a copy with new counters, keeping this policy's waits."""
        copy = super().new(**kw)
        copy._carry(self.sleep_for, self.backoff_seconds, self.max_retry_after)
        return copy

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Say whether an answer with ``status_code`` is retried for ``method``."""
        if method.upper() == "POST":
            return status_code in RETRY_POST and self.status is not None and self.status > 0
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        """Count one more try; wait before a status retry; refuse what the deadline or
        the rules above forbid."""
        deadline = current_deadline()
        if deadline is not None and deadline.expired():
            raise FhirDeadlineError("no time left to try again", seconds=deadline.seconds)
        if isinstance(error, ReadTimeoutError):
            raise error.with_traceback(_stacktrace)
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if response is None or error is not None:
            return retry  # a reset connection: tried again at once
        delay = self._wait(response, retry)
        if deadline is not None and delay >= deadline.remaining():
            raise MaxRetryError(_pool, url or "", ResponseError("no time left to retry"))
        if delay > 0:
            self.sleep_for(delay)
        return retry

    def _wait(self, response: BaseHTTPResponse, retry: FhirRetry) -> float:
        asked = retry_after(response.headers.get("Retry-After"), time.time())
        if asked is None:
            status_tries = sum(1 for entry in retry.history if entry.status is not None)
            asked = self.backoff_seconds * 2 ** max(0, status_tries - 1)
        return min(asked, self.max_retry_after)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        """Do nothing: :meth:`increment` has waited already."""
