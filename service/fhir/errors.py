"""Errors raised by the FHIR client.

Exception tree::

    Exception
    └── FhirError (url, status, outcome: keyword-only context)
        ├── FhirAuthError               401 / 403, or the token endpoint refused us
        │   └── FhirTokenRefusedError   an OAuth error answer (``error_code``: invalid_grant...)
        ├── FhirNotFoundError           404 / 410
        ├── FhirUnavailableError        timeout, connection error, 5xx, 429 after retries
        │   │                           (``timed_out`` says which)
        │   └── FhirDeadlineError       the request's overall deadline passed (timed out)
        ├── FhirInvalidResponseError    not JSON, wrong resourceType, too large, redirect,
        │   │                           next link outside the base URL, too many pages
        │   └── FhirIncompleteError     a search delivered fewer results than its total
        ├── FhirOperationOutcomeError   any other 4xx (400, 409, 412, 422...)
        └── FhirUrlNotAllowedError      the URL is not on the allowlist (nothing was sent)

Messages are safe to log: they name the interaction (``GET Observation search``) but
never a token, a query string, a resource id or the server's diagnostics. ``url`` (no
query string, but it may hold a resource id such as ``Patient/123``) and ``outcome``
(the server's OperationOutcome, whose diagnostics may quote patient data) are for the
caller to show or keep where patient data is allowed.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "FhirAuthError",
    "FhirDeadlineError",
    "FhirError",
    "FhirIncompleteError",
    "FhirInvalidResponseError",
    "FhirNotFoundError",
    "FhirOperationOutcomeError",
    "FhirTokenRefusedError",
    "FhirUnavailableError",
    "FhirUrlNotAllowedError",
    "failure_reason",
    "in_words",
    "outcome_text",
]


class FhirError(Exception):
    """A FHIR interaction failed; ``url``, ``status`` and ``outcome`` say where and how.

    ``status`` is ``None`` when no HTTP answer was had (timeout, refused URL).
    ``outcome`` is the OperationOutcome the server sent with the error, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        outcome: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.outcome = outcome


class FhirAuthError(FhirError):
    """The server (401/403) or the token endpoint refused our credentials."""


class FhirTokenRefusedError(FhirAuthError):
    """The token endpoint answered an OAuth 2.0 error (RFC 6749 §5.2).

    ``error_code`` is the answer's ``error`` (``invalid_grant``, ``invalid_client``...)
    when it is a plain code, else ``None``; the ``error_description`` is never kept, as
    it is the server's free text.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.error_code = error_code


class FhirNotFoundError(FhirError):
    """The resource does not exist (404) or was deleted (410)."""


class FhirUnavailableError(FhirError):
    """The server could not be reached or kept failing: try again later.

    ``timed_out`` is True when the server did not answer within the timeout (a
    gateway answers 504 then), False for refused connections and 5xx/429 answers.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        outcome: dict[str, Any] | None = None,
        timed_out: bool = False,
    ) -> None:
        super().__init__(message, url=url, status=status, outcome=outcome)
        self.timed_out = timed_out


class FhirDeadlineError(FhirUnavailableError):
    """The request's overall deadline for FHIR work passed (paging, retries and slow
    answers included); ``seconds`` is that deadline."""

    def __init__(self, message: str, *, seconds: float, url: str | None = None) -> None:
        super().__init__(message, url=url, timed_out=True)
        self.seconds = seconds


class FhirInvalidResponseError(FhirError):
    """The server answered something the client cannot use safely."""


class FhirIncompleteError(FhirInvalidResponseError):
    """A search delivered fewer results than the ``Bundle.total`` the server announced,
    and the missing ones could not be fetched: the data would be partial.
    ``announced`` and ``delivered`` are the two counts."""

    def __init__(
        self, message: str, *, announced: int, delivered: int, url: str | None = None
    ) -> None:
        super().__init__(message, url=url)
        self.announced = announced
        self.delivered = delivered


class FhirOperationOutcomeError(FhirError):
    """The server rejected the request (4xx other than 401/403/404/410/429).

    ``outcome`` holds the server's OperationOutcome when it sent one.
    """


class FhirUrlNotAllowedError(FhirError):
    """The URL is not on the configured allowlist; no request was made."""


def outcome_text(outcome: dict[str, Any] | None, *, limit: int = 300) -> str | None:
    """Return what an OperationOutcome's issues say (``details.text`` or
    ``diagnostics``), joined, at most ``limit`` characters; ``None`` if nothing."""
    if not isinstance(outcome, dict):
        return None
    texts: list[str] = []
    issues = outcome.get("issue")
    for issue in issues if isinstance(issues, list) else []:
        if not isinstance(issue, dict):
            continue
        details = issue.get("details")
        text = details.get("text") if isinstance(details, dict) else None
        text = text if isinstance(text, str) and text.strip() else issue.get("diagnostics")
        if isinstance(text, str) and text.strip():
            texts.append(" ".join(text.split()))
    joined = "; ".join(texts)
    if not joined:
        return None
    return joined if len(joined) <= limit else joined[: limit - 3] + "..."


def in_words(error: FhirError) -> str:
    """Say what went wrong with the FHIR server, for a person (no class names): the
    kind of failure, the HTTP status, and what the server's OperationOutcome says."""
    status = f" (HTTP {error.status})" if error.status is not None else ""
    if isinstance(error, FhirDeadlineError):
        said = f"the FHIR server did not deliver the data within the {error.seconds:g} s deadline"
    elif isinstance(error, FhirUnavailableError) and error.timed_out:
        said = "the FHIR server did not answer in time"
    elif isinstance(error, FhirUnavailableError):
        said = f"the FHIR server is unavailable{status}"
    elif isinstance(error, FhirAuthError):
        said = f"the FHIR server refused the credentials{status}"
    elif isinstance(error, FhirNotFoundError):
        said = f"the FHIR server did not find the resource{status}"
    elif isinstance(error, FhirIncompleteError):
        said = f"the FHIR server's data is incomplete: {error.message}"
    elif isinstance(error, FhirOperationOutcomeError):
        said = f"the FHIR server rejected the request{status}"
    elif isinstance(error, FhirUrlNotAllowedError):
        said = f"the FHIR server cannot be called: {error.message}"
    else:
        said = f"the FHIR server sent an answer the service cannot use: {error.message}"
    text = outcome_text(error.outcome)
    return f"{said}; it said: {text}" if text else said


def failure_reason(error: FhirError) -> str:
    """Return a short fixed word for why an exchange failed (a metrics label: never the
    message, URL or status text)."""
    if isinstance(error, FhirDeadlineError):
        return "deadline"
    if isinstance(error, FhirUnavailableError):
        return "timeout" if error.timed_out else "unavailable"
    for kind, reason in (
        (FhirAuthError, "auth"),
        (FhirNotFoundError, "not_found"),
        (FhirOperationOutcomeError, "refused"),
        (FhirInvalidResponseError, "invalid_response"),
        (FhirUrlNotAllowedError, "not_allowed"),
    ):
        if isinstance(error, kind):
            return reason
    return "error"
