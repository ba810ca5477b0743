"""The client's HTTP calls to a CDS Service: urllib, a timeout on every call, no redirects.

Any answer, 4xx and 5xx included, comes back as an :class:`HttpAnswer`; only a service
that cannot be reached raises :class:`UnreachableError`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any

from service.fhir.answers import json_default

__all__ = ["HttpAnswer", "UnreachableError", "request"]

MAX_ANSWER_BYTES = 8 * 1024 * 1024


class UnreachableError(Exception):
    """Nothing answered at the URL (refused, unknown host, timeout)."""


@dataclass(frozen=True)
class HttpAnswer:
    """A status, its headers, the body, and how long it took."""

    status: int
    headers: Message
    body: bytes
    elapsed_ms: float

    def json(self) -> Any:
        """Return the body as JSON, or ``None`` when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: Any = None,
    timeout: float = 30.0,
) -> HttpAnswer:
    """Send one request; a JSON ``body`` is serialised. Raise :class:`UnreachableError`."""
    data = None if body is None else json.dumps(body, default=json_default).encode("utf-8")
    sent = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        sent["Content-Type"] = "application/json"
    prepared = urllib.request.Request(url, data=data, headers=sent, method=method)
    started = time.perf_counter()
    try:
        with _OPENER.open(prepared, timeout=timeout) as response:
            status, answer_headers = response.status, response.headers
            content = response.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as error:
        status, answer_headers = error.code, error.headers
        content = error.read(MAX_ANSWER_BYTES)
        error.close()
    except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UnreachableError(f"{method} {url}: {reason}") from exc
    elapsed = (time.perf_counter() - started) * 1000
    return HttpAnswer(status, answer_headers, content, elapsed)
