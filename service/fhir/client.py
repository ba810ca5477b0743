"""A FHIR R4 REST client for one server: one ``requests.Session``, timeouts, retries.

Every request has a ``(connect, read)`` timeout, ``Accept: application/fhir+json``, a
response-size limit, and goes only to the client's base URL (checked against the
allowlist when the client is built; redirects are never followed). 429/502/503/504 are
retried a bounded number of times with exponential backoff, honouring ``Retry-After``
up to ``max_retry_after`` seconds; a POST is retried only on 429/503, the two answers
that say the request was not processed. Timeouts and connection errors are not
retried: they fail at once with :class:`FhirUnavailableError`, so a hook answers in
time. Failures raise the tree in :mod:`service.fhir.errors`.

Logs name the interaction and status only (``GET Observation search -> 200``): never a
token, an id, a query string or a response body.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin

import requests

from service.fhir import answers
from service.fhir.allowlist import Allowlist, parse_url, strip_query
from service.fhir.answers import Answer, expect
from service.fhir.auth import Auth
from service.fhir.errors import (
    FhirInvalidResponseError,
    FhirNotFoundError,
    FhirUnavailableError,
    FhirUrlNotAllowedError,
)
from service.fhir.queries import (
    SearchParams,
    check_id,
    check_type,
    observation_code_param,
    search_pairs,
)
from service.mappers.bundle import PatientRecord
from service.mappers.codes import DEFAULT_TERMINOLOGY, Terminology
from service.mappers.reading import make_entry

__all__ = ["FHIR_JSON", "CreateResult", "FhirClient"]

FHIR_JSON = "application/fhir+json"
PAGE_SIZE = 200
_RETRY_IDEMPOTENT = frozenset({429, 502, 503, 504})
_RETRY_POST = frozenset({429, 503})
_CHUNK = 64 * 1024
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreateResult:
    """What a create answered: ``created`` is False when ``If-None-Exist`` matched."""

    resource: dict[str, Any] | None
    """The created (or matched) resource; ``None`` if the server sent no body."""
    location: str | None
    created: bool


class FhirClient:
    """Talk to one FHIR R4 server at ``base_url``, which must be on ``allowlist``.

    ``timeout`` is ``(connect, read)`` seconds for every request. ``retries`` is how
    many times a retryable answer is retried (so at most ``retries + 1`` requests).
    ``max_pages`` bounds how many Bundle pages a search reads; ``max_response_bytes``
    bounds each answer. ``session`` lets the caller share or instrument a session; the
    client closes only a session it created. ``sleep`` is how the client waits before a
    retry (tests pass a recorder). Thread-safe for concurrent calls.

    Raises :class:`FhirUrlNotAllowedError` at construction, before any request, when
    ``base_url`` is not on the allowlist.
    """

    def __init__(
        self,
        base_url: str,
        *,
        allowlist: Allowlist,
        auth: Auth | None = None,
        timeout: tuple[float, float] = (3.05, 10.0),
        retries: int = 2,
        backoff: float = 0.25,
        max_retry_after: float = 5.0,
        max_pages: int = 20,
        max_response_bytes: int = 16 * 1024 * 1024,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        connect, read = timeout
        if connect <= 0 or read <= 0:
            raise ValueError("timeout must be two positive numbers (connect, read)")
        if retries < 0 or backoff < 0 or max_retry_after < 0:
            raise ValueError("retries, backoff and max_retry_after cannot be negative")
        if max_pages < 1 or max_response_bytes < 1:
            raise ValueError("max_pages and max_response_bytes must be at least 1")
        self._base = allowlist.check(base_url)
        self._allow_http = allowlist.allow_http
        self.base_url = str(self._base)
        self._auth = auth
        self._timeout = (float(connect), float(read))
        self._retries = retries
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._max_pages = max_pages
        self._max_bytes = max_response_bytes
        self._session = session or requests.Session()
        self._owns_session = session is None
        self._sleep = sleep
        # One pool for the life of the client: starting threads per fetch costs time
        # on every patient, and the four requests of a fetch need four workers.
        self._fetch_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fhir-fetch")

    def __repr__(self) -> str:
        return f"FhirClient({self.base_url!r})"

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the session if this client created it, and the fetch threads."""
        self._fetch_pool.shutdown(wait=False, cancel_futures=True)
        if self._owns_session:
            self._session.close()

    # ---- interactions -------------------------------------------------------------

    def capabilities(self) -> dict[str, Any]:
        """Return the server's CapabilityStatement (``GET [base]/metadata``)."""
        url = f"{self.base_url}/metadata"
        label = "GET metadata"
        return expect(self._request("GET", url, label), "CapabilityStatement", label, url)

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        """Return ``[base]/{type}/{id}``; :class:`FhirNotFoundError` if it does not exist.

        Raises :class:`ValueError` (before any request) for an invalid type or id.
        """
        url = f"{self.base_url}/{check_type(resource_type)}/{check_id(resource_id)}"
        label = f"GET {resource_type} read"
        resource = expect(self._request("GET", url, label), resource_type, label, url)
        if resource.get("id") != resource_id:
            raise FhirInvalidResponseError(f"{label}: the server sent another id", url=url)
        return resource

    def read_optional(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        """Return the resource like :meth:`read`, or ``None`` when it does not exist."""
        try:
            return self.read(resource_type, resource_id)
        except FhirNotFoundError:
            return None

    def search(
        self, resource_type: str, params: SearchParams | None = None, *, strict: bool = False
    ) -> list[dict[str, Any]]:
        """Return every resource a search matches, reading up to ``max_pages`` pages.

        ``strict=True`` sends ``Prefer: handling=strict`` so a server that honours it
        fails on a search parameter it does not know instead of ignoring it. Entries
        with ``search.mode = outcome`` are left out. Raises
        :class:`FhirInvalidResponseError` when a ``next`` link leaves the base URL (it
        is not called) or there are more than ``max_pages`` pages: partial results are
        never returned as if complete.
        """
        entries, _ = self._search_entries(resource_type, search_pairs(params), strict=strict)
        return [entry["resource"] for entry in entries]

    def search_pages(
        self, resource_type: str, params: SearchParams | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield a search's matching resources page by page, for callers that want only
        the first pages (sampling); stop iterating to stop fetching.

        ``next`` links are followed under the same rules as :meth:`search` (never outside
        the base URL); ``max_pages`` does not apply, the caller decides when to stop.
        """
        url: str | None = f"{self.base_url}/{check_type(resource_type)}"
        label = f"GET {resource_type} search"
        query: list[tuple[str, str]] | None = search_pairs(params)
        while url is not None:
            answer = self._request("GET", url, label, params=query)
            bundle = expect(answer, "Bundle", label, strip_query(url))
            entries, _ = answers.search_page(bundle)
            yield [entry["resource"] for entry in entries]
            url, query = self._next_url(bundle, label), None

    def delete(self, resource_type: str, resource_id: str) -> None:
        """DELETE ``[base]/{type}/{id}``; a resource already gone is not an error.

        Raises :class:`ValueError` (before any request) for an invalid type or id.
        """
        url = f"{self.base_url}/{check_type(resource_type)}/{check_id(resource_id)}"
        try:
            self._request("DELETE", url, f"DELETE {resource_type}")
        except FhirNotFoundError:
            return

    def create(
        self,
        resource: Mapping[str, Any],
        *,
        if_none_exist: SearchParams | str | None = None,
    ) -> CreateResult:
        """POST ``resource`` to ``[base]/{resourceType}``, conditionally with If-None-Exist.

        ``if_none_exist`` is search parameters (``{"identifier": "sys|val"}``); when
        they match one resource the server returns it and nothing is created
        (``created=False``); when they match several it answers 412
        (:class:`FhirOperationOutcomeError`).
        """
        resource_type = check_type(str(resource.get("resourceType")))
        url = f"{self.base_url}/{resource_type}"
        headers = {"Content-Type": FHIR_JSON, "Prefer": "return=representation"}
        if if_none_exist is not None:
            headers["If-None-Exist"] = urlencode(search_pairs(if_none_exist))
        label = f"POST {resource_type} create"
        answer = self._request("POST", url, label, body=resource, headers=headers)
        if answer.body is not None:
            expect(answer, resource_type, label, url)
        return CreateResult(answer.body, answer.headers.get("Location"), answer.status == 201)

    def update(self, resource: Mapping[str, Any]) -> dict[str, Any]:
        """PUT ``resource`` to ``[base]/{resourceType}/{id}`` (create or replace).

        Idempotent, so it is retried like a GET. Returns the stored resource (read back
        when the server answers without a body).
        """
        resource_type = check_type(str(resource.get("resourceType")))
        resource_id = check_id(str(resource.get("id")))
        url = f"{self.base_url}/{resource_type}/{resource_id}"
        headers = {"Content-Type": FHIR_JSON, "Prefer": "return=representation"}
        label = f"PUT {resource_type} update"
        answer = self._request("PUT", url, label, body=resource, headers=headers)
        if answer.body is None:
            return self.read(resource_type, resource_id)
        return expect(answer, resource_type, label, url)

    def transaction(self, bundle: Mapping[str, Any]) -> dict[str, Any]:
        """POST a ``transaction`` (or ``batch``) Bundle to the base; return the response
        Bundle. A failed transaction raises with the server's OperationOutcome."""
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") not in (
            "transaction",
            "batch",
        ):
            raise ValueError("transaction() needs a Bundle of type transaction or batch")
        headers = {"Content-Type": FHIR_JSON, "Prefer": "return=representation"}
        label = f"POST {bundle['type']}"
        answer = self._request("POST", self.base_url, label, body=bundle, headers=headers)
        return expect(answer, "Bundle", label, self.base_url)

    def fetch_patient(
        self, patient_id: str, terminology: Terminology = DEFAULT_TERMINOLOGY
    ) -> PatientRecord:
        """Return the patient's record: Patient, Observations (the codes ``terminology``
        reads), Conditions and Procedures, fetched by four concurrent requests.

        Raises the first failure in the order Patient, Observation, Condition,
        Procedure (so an unknown patient is :class:`FhirNotFoundError`), and
        :class:`ValueError` for an invalid id. Search results that are not the
        patient's are dropped; notes the server attaches to a search become warnings.
        """
        check_id(patient_id)
        searches: dict[str, list[tuple[str, str]]] = {
            "Observation": [("patient", patient_id)],
            "Condition": [("patient", patient_id)],
            "Procedure": [("patient", patient_id)],
        }
        codes = observation_code_param(terminology)
        if codes is not None:
            searches["Observation"].append(("code", codes))
        for params in searches.values():
            params.append(("_count", str(PAGE_SIZE)))
        pool = self._fetch_pool
        patient_future = pool.submit(self.read, "Patient", patient_id)
        search_futures = {
            name: pool.submit(self._search_entries, name, params)
            for name, params in searches.items()
        }
        futures: list[Future[Any]] = [patient_future, *search_futures.values()]
        wait(futures)
        for future in futures:
            error = future.exception()
            if error is not None:
                raise error
        patient = make_entry(patient_future.result(), f"{self.base_url}/Patient/{patient_id}", 0)
        return answers.patient_record(
            patient, {name: f.result() for name, f in search_futures.items()}
        )

    # ---- paging -------------------------------------------------------------------

    def _search_entries(
        self, resource_type: str, params: list[tuple[str, str]], *, strict: bool = False
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Return the match/include entries of every page, and the server's notes."""
        url: str | None = f"{self.base_url}/{check_type(resource_type)}"
        label = f"GET {resource_type} search"
        headers = {"Prefer": "handling=strict"} if strict else {}
        query: list[tuple[str, str]] | None = params
        entries: list[dict[str, Any]] = []
        notes: list[str] = []
        pages = 0
        while url is not None:
            if pages == self._max_pages:
                raise FhirInvalidResponseError(
                    f"{label}: more than {self._max_pages} pages; results would be partial",
                    url=strip_query(url),
                )
            answer = self._request("GET", url, label, params=query, headers=headers)
            bundle = expect(answer, "Bundle", label, strip_query(url))
            pages += 1
            page_entries, page_notes = answers.search_page(bundle)
            entries.extend(page_entries)
            notes.extend(page_notes)
            url, query = self._next_url(bundle, label), None
        return entries, notes

    def _next_url(self, bundle: dict[str, Any], label: str) -> str | None:
        links = bundle.get("link")
        if not isinstance(links, list):
            return None
        for link in links:
            if isinstance(link, dict) and link.get("relation") == "next":
                target = link.get("url")
                if not isinstance(target, str) or not target:
                    raise FhirInvalidResponseError(f"{label}: a next link has no URL")
                absolute = urljoin(self.base_url + "/", target)
                try:
                    inside = self._base.contains(
                        parse_url(absolute, base=False, allow_http=self._allow_http)
                    )
                except FhirUrlNotAllowedError:
                    inside = False
                if not inside:
                    raise FhirInvalidResponseError(
                        f"{label}: a next link leaves the base URL; not followed",
                        url=strip_query(absolute),
                    )
                return absolute
        return None

    # ---- transport ----------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        label: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        where = strip_query(url)
        if not self._base.contains(parse_url(url, base=False, allow_http=self._allow_http)):
            raise FhirUrlNotAllowedError(f"{label}: the URL is outside the base URL", url=where)
        data = None if body is None else json.dumps(body, default=answers.json_default).encode()
        retry_on = _RETRY_POST if method == "POST" else _RETRY_IDEMPOTENT
        for attempt in range(self._retries + 1):
            sent = {"Accept": FHIR_JSON, **(headers or {})}
            if self._auth is not None:
                sent["Authorization"] = self._auth.authorization(self.base_url)
            started = time.monotonic()
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=sent,
                    timeout=self._timeout,
                    allow_redirects=False,
                    stream=True,
                )
            except requests.Timeout as exc:
                raise FhirUnavailableError(
                    f"{label}: timed out", url=where, timed_out=True
                ) from exc
            except requests.RequestException as exc:
                raise FhirUnavailableError(f"{label}: connection failed", url=where) from exc
            with response:
                status = response.status_code
                elapsed = (time.monotonic() - started) * 1000
                _log.debug("%s -> %s (%.0f ms, attempt %d)", label, status, elapsed, attempt + 1)
                if status in retry_on and attempt < self._retries:
                    delay = self._delay(response.headers.get("Retry-After"), attempt)
                    _log.info("%s -> %s; retrying in %.2f s", label, status, delay)
                    self._sleep(delay)
                    continue
                return self._answer(response, label, where)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _delay(self, header: str | None, attempt: int) -> float:
        asked = answers.retry_after(header, time.time())
        delay = asked if asked is not None else self._backoff * 2**attempt
        return min(delay, self._max_retry_after)

    def _answer(self, response: requests.Response, label: str, where: str) -> Answer:
        status = response.status_code
        if 300 <= status < 400:
            raise FhirInvalidResponseError(
                f"{label}: redirect ({status}) not followed", url=where, status=status
            )
        raw = self._read(response, label, where)
        if status >= 400:
            body = None
            if raw is not None:
                try:
                    body = answers.parse_resource(raw, label, where, status)
                except FhirInvalidResponseError:
                    body = None  # an error page in HTML: the status says enough
            if status in (401, 403) and self._auth is not None:
                self._auth.invalidate()
            raise answers.error_for(status, label, where, body)
        if raw is None:
            raise FhirInvalidResponseError(
                f"{label}: the answer is larger than {self._max_bytes} bytes",
                url=where,
                status=status,
            )
        parsed = answers.parse_resource(raw, label, where, status) if raw.strip() else None
        return Answer(status, response.headers, parsed)

    def _read(self, response: requests.Response, label: str, where: str) -> bytes | None:
        """Return the body, or ``None`` if it is larger than ``max_response_bytes``."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=_CHUNK):
                size += len(chunk)
                if size > self._max_bytes:
                    return None
                chunks.append(chunk)
        except requests.ConnectionError as exc:
            # requests reports a read timeout while streaming as a ConnectionError
            timed_out = "timed out" in str(exc).lower()
            raise FhirUnavailableError(
                f"{label}: the answer was cut off", url=where, timed_out=timed_out
            ) from exc
        except requests.RequestException as exc:
            raise FhirUnavailableError(f"{label}: the answer was cut off", url=where) from exc
        return b"".join(chunks)
