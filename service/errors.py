"""HTTP-facing errors: every error body is JSON, never a stack trace.

Exception tree::

    Exception
    └── ServiceError (status_code, to_dict())
        ├── BadRequest          400
        ├── NotFound            404
        └── Unprocessable       422
"""

from __future__ import annotations

from typing import Any

__all__ = ["BadRequestError", "NotFoundError", "ServiceError", "UnprocessableError"]


class ServiceError(Exception):
    """An error with an HTTP status and a JSON body; ``message`` is safe to show."""

    status_code = 500
    code = "error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers: dict[str, str] = {}
        """Response headers the answer must carry (``WWW-Authenticate``, ``Retry-After``)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON error body."""
        return {"error": self.code, "message": self.message, **self.details}


class BadRequestError(ServiceError):
    """The request is malformed (not JSON, bad parameter)."""

    status_code = 400
    code = "bad_request"


class NotFoundError(ServiceError):
    """The resource asked for does not exist."""

    status_code = 404
    code = "not_found"


class UnprocessableError(ServiceError):
    """The request is well-formed but its content cannot be evaluated."""

    status_code = 422
    code = "unprocessable"
