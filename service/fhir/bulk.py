"""FHIR Bulk Data Access (``$export``): kick-off, status polling, manifest, downloads.

The flow of the Bulk Data Access IG (v2): ``GET [base]/$export`` (system),
``[base]/Patient/$export`` or ``[base]/Group/{id}/$export`` with
``Prefer: respond-async`` answers 202 and a ``Content-Location`` status URL; polling it
answers 202 (with ``X-Progress`` and ``Retry-After``, in seconds or as an HTTP date)
until 200 brings the JSON manifest, whose ``output`` files are downloaded as NDJSON.

Safety, as for every FHIR call of the service: the base URL, the status URL, manifest
pages and every file URL must be on the allowlist (a file on another host is refused,
not fetched); every request has a ``(connect, read)`` timeout, and the whole export a
deadline (``max_wait``); redirects are never followed. The access token (a bearer
token or SMART Backend Services) goes with the kick-off and the polls, and with the
downloads only when the manifest says ``requiresAccessToken``. Logs name the step and
status, never a URL's query, a token or a file's content.

Transient trouble is waited out: 429 and 503 honour ``Retry-After``; a 5xx whose
OperationOutcome has an issue coded ``transient`` while polling is polled again (the IG
says so); anything else fails with the :mod:`service.fhir.errors` tree.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from service.fhir.allowlist import Allowlist, strip_query
from service.fhir.answers import error_for, retry_after
from service.fhir.auth import Auth
from service.fhir.bulk_model import (
    NDJSON,
    ExportRequest,
    Level,
    Manifest,
    ManifestFile,
    Progress,
    manifest_files,
    type_filter,
)
from service.fhir.errors import (
    FhirError,
    FhirInvalidResponseError,
    FhirUnavailableError,
)

__all__ = [
    "BulkExportClient",
    "ExportRequest",
    "Level",
    "Manifest",
    "ManifestFile",
    "Progress",
    "type_filter",
]

FHIR_JSON = "application/fhir+json"
_CHUNK = 256 * 1024
_RETRY = frozenset({429, 503})
_log = logging.getLogger(__name__)


class BulkExportClient:
    """Run Bulk Data exports against one FHIR server at ``base_url`` (allowlisted).

    ``max_wait`` bounds the whole export in seconds (polling included); a status
    ``Retry-After`` is clamped to ``[min_poll, max_poll]`` seconds, and without one the
    wait doubles from ``min_poll``. ``max_file_bytes`` bounds each download.
    ``sleep`` and ``clock`` let tests run without waiting.
    """

    def __init__(
        self,
        base_url: str,
        *,
        allowlist: Allowlist,
        auth: Auth | None = None,
        timeout: tuple[float, float] = (3.05, 30.0),
        max_wait: float = 6 * 3600,
        min_poll: float = 1.0,
        max_poll: float = 120.0,
        retries: int = 5,
        max_file_bytes: int = 64 * 1024**3,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = str(allowlist.check(base_url))
        self._allowlist = allowlist
        self._auth = auth
        self._timeout = timeout
        self._max_wait = max_wait
        self._min_poll = min_poll
        self._max_poll = max_poll
        self._retries = retries
        self._max_file_bytes = max_file_bytes
        self._session = session or requests.Session()
        self._owns_session = session is None
        self._sleep = sleep
        self._clock = clock

    @property
    def base_url(self) -> str:
        """Return the normalised base URL."""
        return self._base

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> BulkExportClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- the three steps ------------------------------------------------------------

    def kick_off(self, request: ExportRequest) -> str:
        """Start an export; return its status URL (checked against the allowlist)."""
        url = f"{self._base}/{request.path()}"
        headers = {"Accept": FHIR_JSON, "Prefer": "respond-async"}
        response = self._call("GET", url, "export kick-off", headers, request.params())
        with response:
            if response.status_code != 202:
                raise self._error(response, "export kick-off", url)
            location = response.headers.get("Content-Location")
        if not location:
            raise FhirInvalidResponseError("export kick-off: no Content-Location", url=url)
        status_url = urljoin(self._base + "/", location)
        self._allowlist.check(status_url, base=False)
        return status_url

    def wait(
        self, status_url: str, on_progress: Callable[[Progress], Any] = lambda p: None
    ) -> Manifest:
        """Poll the status URL until the manifest comes; raise on failure or deadline."""
        deadline = self._clock() + self._max_wait
        backoff = self._min_poll
        polls = 0
        while True:
            polls += 1
            response = self._get(status_url, "export status", {"Accept": "application/json"})
            with response:
                status = response.status_code
                if status == 200:
                    manifest = self._json(response, "export status", status_url)
                    break
                asked = retry_after(response.headers.get("Retry-After"), time.time())
                if status == 202:
                    progress = response.headers.get("X-Progress")
                elif status == 429 or self._transient(response):
                    progress = f"server busy ({status})"
                else:
                    raise self._error(response, "export status", status_url)
            wait = min(max(asked if asked is not None else backoff, self._min_poll), self._max_poll)
            backoff = min(backoff * 2, self._max_poll)
            if self._clock() + wait > deadline:
                raise FhirUnavailableError(
                    f"export status: not complete after {self._max_wait:.0f} s",
                    url=strip_query(status_url),
                    timed_out=True,
                )
            on_progress(Progress(polls, progress, wait))
            self._sleep(wait)
        return self._manifest(manifest, status_url)

    def download(self, item: ManifestFile, target: Path, *, with_token: bool) -> int:
        """Stream one output file to ``target``; return its size in bytes."""
        self._allowlist.check(item.url, base=False)
        headers = {"Accept": NDJSON}
        response = self._call("GET", item.url, "export download", headers, None, token=with_token)
        size = 0
        with response:
            if response.status_code != 200:
                raise self._error(response, "export download", item.url)
            try:
                with target.open("wb") as handle:
                    for chunk in response.iter_content(chunk_size=_CHUNK):
                        size += len(chunk)
                        if size > self._max_file_bytes:
                            limit = self._max_file_bytes
                            raise FhirInvalidResponseError(
                                f"export download: a file is larger than {limit} bytes",
                                url=strip_query(item.url),
                            )
                        handle.write(chunk)
            except requests.RequestException as exc:
                raise FhirUnavailableError(
                    "export download: the file was cut off", url=strip_query(item.url)
                ) from exc
        return size

    def delete(self, status_url: str) -> None:
        """Tell the server the files may go (best effort: failures are only logged)."""
        try:
            self._call("DELETE", status_url, "export delete", {}, None).close()
        except FhirError as exc:
            _log.info("export delete failed: %s", exc.message)

    # ---- helpers --------------------------------------------------------------------

    def _manifest(self, first: Any, status_url: str) -> Manifest:
        pages = [first]
        seen = {status_url}
        while (next_url := _next_link(pages[-1])) is not None:
            absolute = urljoin(status_url, next_url)
            if absolute in seen or len(pages) >= 1000:
                raise FhirInvalidResponseError(
                    "export manifest: the pages loop", url=strip_query(absolute)
                )
            seen.add(absolute)
            self._allowlist.check(absolute, base=False)
            with self._get(
                absolute, "export manifest page", {"Accept": "application/json"}
            ) as page:
                if page.status_code != 200:
                    raise self._error(page, "export manifest page", absolute)
                pages.append(self._json(page, "export manifest page", absolute))
        head = pages[0]
        if not isinstance(head, dict) or not isinstance(head.get("output"), list):
            raise FhirInvalidResponseError(
                "export manifest: no output list", url=strip_query(status_url)
            )
        output = tuple(f for p in pages for f in manifest_files(p.get("output"), status_url))
        errors = tuple(f for p in pages for f in manifest_files(p.get("error"), status_url))
        return Manifest(
            transaction_time=str(head.get("transactionTime", "")),
            requires_access_token=head.get("requiresAccessToken") is not False,
            output=output,
            errors=errors,
            raw=head,
        )

    def _get(self, url: str, label: str, headers: dict[str, str]) -> requests.Response:
        return self._call("GET", url, label, headers, None)

    def _call(
        self,
        method: str,
        url: str,
        label: str,
        headers: dict[str, str],
        params: Sequence[tuple[str, str]] | None,
        *,
        token: bool = True,
    ) -> requests.Response:
        """Send one request (429/503 retried honouring Retry-After); return the
        streaming response, which the caller closes."""
        self._allowlist.check(url, base=False)
        for attempt in range(self._retries + 1):
            sent = dict(headers)
            if token and self._auth is not None:
                sent["Authorization"] = self._auth.authorization(self._base)
            try:
                response = self._session.request(
                    method,
                    url,
                    params=list(params or ()),
                    headers=sent,
                    timeout=self._timeout,
                    allow_redirects=False,
                    stream=True,
                )
            except requests.Timeout as exc:
                raise FhirUnavailableError(
                    f"{label}: timed out", url=strip_query(url), timed_out=True
                ) from exc
            except requests.RequestException as exc:
                raise FhirUnavailableError(
                    f"{label}: connection failed", url=strip_query(url)
                ) from exc
            _log.debug("%s -> %s", label, response.status_code)
            if response.status_code in (401, 403) and self._auth is not None:
                self._auth.invalidate()
            if (
                response.status_code in _RETRY
                and attempt < self._retries
                and label != "export status"
            ):
                asked = retry_after(response.headers.get("Retry-After"), time.time())
                response.close()
                self._sleep(min(max(asked or self._min_poll * 2**attempt, 0.0), self._max_poll))
                continue
            return response
        raise AssertionError("unreachable: the last attempt returns")

    def _json(self, response: requests.Response, label: str, url: str) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise FhirInvalidResponseError(f"{label}: not JSON", url=strip_query(url)) from exc

    def _outcome(self, response: requests.Response) -> dict[str, Any] | None:
        try:
            body = json.loads(response.content[: 1024 * 1024])
        except (ValueError, UnicodeDecodeError, requests.RequestException):
            return None
        return body if isinstance(body, dict) else None

    def _transient(self, response: requests.Response) -> bool:
        if response.status_code < 500:
            return False
        outcome = self._outcome(response) or {}
        issues = outcome.get("issue") if outcome.get("resourceType") == "OperationOutcome" else None
        return isinstance(issues, list) and any(
            isinstance(i, dict) and i.get("code") == "transient" for i in issues
        )

    def _error(self, response: requests.Response, label: str, url: str) -> FhirError:
        status = response.status_code
        if 300 <= status < 400:
            return FhirInvalidResponseError(
                f"{label}: redirect ({status}) not followed", url=strip_query(url), status=status
            )
        if status < 300:
            return FhirInvalidResponseError(
                f"{label}: unexpected HTTP status {status}", url=strip_query(url), status=status
            )
        return error_for(status, label, strip_query(url), self._outcome(response))


def _next_link(page: Any) -> str | None:
    links = page.get("link") if isinstance(page, dict) else None
    for link in links if isinstance(links, list) else []:
        if (
            isinstance(link, dict)
            and link.get("relation") == "next"
            and isinstance(link.get("url"), str)
        ):
            return str(link["url"])
    return None
