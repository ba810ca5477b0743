"""A FHIR R4 REST client for one server: one ``requests.Session``, timeouts, retries.

Every request goes only to the client's base URL (checked against the allowlist when the
client is built) through :class:`~service.fhir.transport.Transport`: a ``(connect,
read)`` timeout, ``Accept: application/fhir+json``, no redirects, a response-size
limit, the retry policy of :mod:`service.fhir.retry` (429/502/503/504 with
``Retry-After``, a reset connection once), and the request's overall deadline
(:mod:`service.fhir.deadline`). Searches are read to their end and checked against
``Bundle.total`` (:mod:`service.fhir.searching`); a short Observation search is tried
again code by code. Failures raise the tree in :mod:`service.fhir.errors`.

Logs name the interaction and status only (``GET Observation search -> 200``): never a
token, an id, a query string or a response body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from service.fhir import answers
from service.fhir.allowlist import Allowlist, parse_url, strip_query
from service.fhir.answers import Answer, expect
from service.fhir.auth import Auth
from service.fhir.deadline import current_deadline, in_this_context
from service.fhir.errors import (
    FhirDeadlineError,
    FhirIncompleteError,
    FhirInvalidResponseError,
    FhirNotFoundError,
    FhirUrlNotAllowedError,
)
from service.fhir.queries import (
    SearchParams,
    check_id,
    check_type,
    observation_code_param,
    search_pairs,
)
from service.fhir.searching import Found, Searcher, narrowed, union
from service.fhir.transport import FHIR_JSON, POOL_SIZE, Transport
from service.mappers.bundle import PatientRecord
from service.mappers.codes import DEFAULT_TERMINOLOGY, Terminology
from service.mappers.reading import make_entry

__all__ = ["FHIR_JSON", "CreateResult", "FhirClient"]

PAGE_SIZE = 200
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
    client closes only a session it created (and mounts its own adapter on it). ``sleep``
    is how the client waits before a retry (tests pass a recorder). Thread-safe for
    concurrent calls.

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
        self._session = session or requests.Session()
        self._owns_session = session is None
        self._transport = Transport(
            self._session,
            auth=auth,
            base_url=self.base_url,
            timeout=(float(connect), float(read)),
            retries=retries,
            backoff=backoff,
            max_retry_after=max_retry_after,
            max_response_bytes=max_response_bytes,
            sleep=sleep,
        )
        self._searcher = Searcher(
            self._request, self._base, allow_http=self._allow_http, max_pages=max_pages
        )
        # One pool for the life of the client (starting threads per fetch costs time on
        # every patient), large enough that concurrent requests do not queue behind a
        # slow one: each task ends by its own request's deadline.
        self._fetch_pool = ThreadPoolExecutor(
            max_workers=POOL_SIZE, thread_name_prefix="fhir-fetch"
        )

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
        A server whose results fall short of its ``Bundle.total`` is asked again one
        ``code`` at a time; if that does not complete them, :class:`FhirIncompleteError`.
        """
        found = self._complete(resource_type, search_pairs(params), strict=strict)
        return [entry["resource"] for entry in found.entries]

    def search_pages(
        self, resource_type: str, params: SearchParams | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield a search's matching resources page by page, for callers that want only
        the first pages (sampling); stop iterating to stop fetching.

        ``next`` links are followed under the same rules as :meth:`search` (never outside
        the base URL); ``max_pages`` does not apply, the caller decides when to stop.
        """
        yield from self._searcher.pages(resource_type, search_pairs(params))

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
        patient_future = pool.submit(in_this_context(self.read), "Patient", patient_id)
        search_futures = {
            name: pool.submit(in_this_context(self._complete), name, params)
            for name, params in searches.items()
        }
        futures: list[Future[Any]] = [patient_future, *search_futures.values()]
        self._wait(futures)
        for future in futures:
            error = future.exception()
            if error is not None:
                raise error
        patient = make_entry(patient_future.result(), f"{self.base_url}/Patient/{patient_id}", 0)
        found = {name: f.result() for name, f in search_futures.items()}
        return answers.patient_record(
            patient, {name: (f.entries, f.notes) for name, f in found.items()}
        )

    def _wait(self, futures: list[Future[Any]]) -> None:
        """Wait for ``futures`` until the deadline, if one is open; past it, cancel
        what has not started and raise (what runs ends by itself at the deadline)."""
        deadline = current_deadline()
        _, pending = wait(futures, timeout=deadline.remaining() + 0.05 if deadline else None)
        if pending and deadline is not None:
            for future in pending:
                future.cancel()
            raise FhirDeadlineError(
                f"the FHIR searches were not done within the {deadline.seconds:g} s deadline",
                seconds=deadline.seconds,
            )

    # ---- searches -----------------------------------------------------------------

    def _complete(
        self, resource_type: str, params: list[tuple[str, str]], *, strict: bool = False
    ) -> Found:
        """Return a search's entries, complete: when the server's results fall short of
        its ``Bundle.total``, ask again one ``code`` at a time (concurrently)."""
        try:
            return self._searcher.entries(resource_type, params, strict=strict)
        except FhirIncompleteError as short:
            parts = narrowed(params)
            if not parts:
                raise
            _log.warning("%s; searching code by code", short.message)
            futures = [
                self._fetch_pool.submit(
                    in_this_context(self._searcher.entries), resource_type, part, strict=strict
                )
                for part in parts
            ]
            self._wait(futures)
            try:
                return union([future.result() for future in futures])
            except FhirIncompleteError as still:
                raise FhirIncompleteError(
                    f"{short.message}, and searching code by code did not complete it",
                    announced=short.announced,
                    delivered=short.delivered,
                    url=still.url,
                ) from still

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
        return self._transport.request(
            method, url, label, where, params=params, body=body, headers=headers
        )
