"""Turn a hook request's prefetch into one patient's record, fetching what is missing.

What each prefetch value means (CDS Hooks 2.0, "Providing FHIR resources"):

- **key absent**: the client did not prefetch it; the service fetches it from
  ``fhirServer`` with the ``fhirAuthorization`` bearer token (without a token when the
  client sent none, as open test servers do);
- **null**: the client has no data for it. Not missing data: nothing is fetched (for
  ``patient`` a bare Patient with only the id stands in, so age is unknown);
- **an OperationOutcome** (the client's prefetch failed), a Bundle holding an error
  OperationOutcome, a Bundle with a ``next`` link, or one with fewer entries than its
  ``total`` (partial): treated as not prefetched, so fetched;
- **a Bundle** (any type) or a single resource of the template's type: used as is;
  OperationOutcome warnings in a Bundle become warnings of the result. For
  ``patient`` the Patient whose id is ``context.patientId`` is used (a lone Patient
  without an id is taken to be it). A value of another resource type, or Patients none
  of which is ``context.patientId``, is a malformed request (400).

Missing keys are fetched concurrently by one :class:`~service.fhir.FhirClient` built for
this request, only when ``fhirServer`` is on the configured allowlist: a hook request can
never make the service send a token (or any request) elsewhere. When data is needed and
cannot be had (no ``fhirServer``, not allowlisted, timeout, refused, error answer) the
call fails with :class:`PrefetchUnavailableError`, HTTP 412, whose message says in
words what went wrong and what the server's OperationOutcome said (also passed on under
``outcome``); so does a fetch not done within ``CDS_DEADLINE_SECONDS``. The token is
used for this request only, and neither it nor the server's answers are logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from service.cdshooks.discovery import PrefetchTemplate
from service.cdshooks.request import HookRequest, HookRequestError
from service.criteria.inputs import Warning
from service.errors import ServiceError
from service.fhir import Allowlist, BearerToken, FhirClient, FhirError
from service.fhir.deadline import in_this_context
from service.fhir.errors import FhirNotFoundError, FhirUrlNotAllowedError, in_words
from service.mappers.bundle import PatientRecord, record_from_resources
from service.mappers.outcomes import is_outcome_entry, issue_texts, reported
from service.mappers.reading import Entry, make_entry

__all__ = [
    "FetchSettings",
    "Prefetched",
    "PrefetchUnavailableError",
    "Resolution",
    "fetch_missing",
    "read_prefetched",
    "resolve_record",
]

log = logging.getLogger(__name__)

PAGE_SIZE = 200
_FAILED_SEVERITIES = frozenset({"error", "fatal"})


class PrefetchUnavailableError(ServiceError):
    """Data the service needs was not prefetched and cannot be fetched (HTTP 412)."""

    status_code = 412
    code = "precondition_failed"


@dataclass(frozen=True)
class FetchSettings:
    """How the service may call a hook's ``fhirServer``."""

    allowlist: Allowlist
    timeout: tuple[float, float]
    retries: int = 0


@dataclass(frozen=True)
class Prefetched:
    """The resources one prefetch key yielded, with their fullUrls and the notes that
    came with them (OperationOutcome warnings)."""

    resources: tuple[tuple[dict[str, Any], str | None], ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolution:
    """The patient's record and which keys the service fetched itself."""

    record: PatientRecord
    fetched: tuple[str, ...] = field(default=())


def _issue_texts(outcome: Mapping[str, Any]) -> tuple[list[str], bool]:
    """Return an OperationOutcome's warning/error/fatal issue texts and whether any issue
    is an error."""
    issues = outcome.get("issue")
    failed = any(
        isinstance(issue, dict) and issue.get("severity") in _FAILED_SEVERITIES
        for issue in (issues if isinstance(issues, list) else [])
    )
    return issue_texts(outcome), failed


def _has_next_link(bundle: Mapping[str, Any]) -> bool:
    links = bundle.get("link")
    return isinstance(links, list) and any(
        isinstance(link, dict) and link.get("relation") == "next" for link in links
    )


def _bundle_resources(key: str, bundle: Mapping[str, Any], resource_type: str) -> Prefetched | None:
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise HookRequestError(
            f"prefetch.{key}: Bundle.entry is not a list", field=f"prefetch.{key}"
        )
    if _has_next_link(bundle):
        return None  # a partial result: the template's answer is more than this page
    kept: list[tuple[dict[str, Any], str | None]] = []
    notes: list[str] = []
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        if is_outcome_entry(entry):
            texts, failed = _issue_texts(resource)
            if failed:
                return None
            notes.extend(texts)
        elif resource.get("resourceType") == resource_type:
            full_url = entry.get("fullUrl")
            kept.append((resource, full_url if isinstance(full_url, str) else None))
    total = bundle.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total > len(kept):
        return None  # fewer results than the client's search found: partial, so fetched
    return Prefetched(tuple(kept), tuple(notes))


def read_prefetched(
    template: PrefetchTemplate, value: dict[str, Any] | None, patient_id: str
) -> Prefetched | None:
    """Return what a prefetched ``value`` holds, or ``None`` when it must be fetched.

    ``value`` ``None`` (JSON null) means no data: an empty :class:`Prefetched`. Raises
    :class:`HookRequestError` for a value of the wrong type or another patient.
    """
    key = template.key
    if value is None:
        return Prefetched()
    found = value.get("resourceType")
    if found == "OperationOutcome":
        return None
    if found == "Bundle":
        prefetched = _bundle_resources(key, value, template.resource_type)
    elif found == template.resource_type:
        prefetched = Prefetched(((value, None),))
    else:
        raise HookRequestError(
            f"prefetch.{key} must be a {template.resource_type}, a Bundle or null",
            field=f"prefetch.{key}",
        )
    if template.read and prefetched is not None:
        prefetched = _the_patient(key, prefetched, patient_id)
    return prefetched


def _the_patient(key: str, prefetched: Prefetched, patient_id: str) -> Prefetched:
    """Keep the Patient whose id is ``patient_id``; a lone Patient without an id is
    taken to be it, never one without an id among others."""
    for resource, full_url in prefetched.resources:
        if resource.get("id") == patient_id:
            return Prefetched(((resource, full_url),), prefetched.notes)
    if len(prefetched.resources) == 1 and prefetched.resources[0][0].get("id") is None:
        return Prefetched(prefetched.resources, prefetched.notes)
    if prefetched.resources:
        raise HookRequestError(
            f"prefetch.{key} is not the patient of context.patientId", field=f"prefetch.{key}"
        )
    return prefetched


def _client(request: HookRequest, settings: FetchSettings) -> FhirClient:
    server = request.fhir_server
    if server is None:
        raise PrefetchUnavailableError("data was not prefetched and the request has no fhirServer")
    token = request.fhir_authorization
    try:
        return FhirClient(
            server,
            allowlist=settings.allowlist,
            auth=BearerToken(token.access_token) if token is not None else None,
            timeout=settings.timeout,
            retries=settings.retries,
            max_retry_after=min(1.0, settings.timeout[1]),
        )
    except FhirUrlNotAllowedError as exc:
        # The message names the origin or the rule broken, never a path, query or token.
        log.warning("hook fhirServer refused: %s", exc.message)
        raise PrefetchUnavailableError(f"fhirServer cannot be called: {exc.message}") from exc


def _fetch_one(client: FhirClient, template: PrefetchTemplate, patient_id: str) -> Prefetched:
    if template.read:
        resource = client.read(template.resource_type, patient_id)
        full_url = f"{client.base_url}/{template.resource_type}/{patient_id}"
        return Prefetched(((resource, full_url),))
    params = [*template.search_params(patient_id), ("_count", str(PAGE_SIZE))]
    resources = client.search(template.resource_type, params)
    return Prefetched(tuple((r, None) for r in resources))


def fetch_missing(
    templates: Sequence[PrefetchTemplate], request: HookRequest, settings: FetchSettings
) -> dict[str, Prefetched]:
    """Fetch every template in ``templates`` concurrently from ``request.fhir_server``.

    Raises :class:`PrefetchUnavailableError` (412) when any of them cannot be had.
    """
    if not templates:
        return {}
    keys = [t.key for t in templates]
    client = _client(request, settings)
    with client, ThreadPoolExecutor(len(templates), thread_name_prefix="cds-fetch") as pool:
        futures = {
            t.key: pool.submit(in_this_context(_fetch_one), client, t, request.patient_id)
            for t in templates
        }
        results: dict[str, Prefetched] = {}
        for key, future in futures.items():
            error = future.exception()
            if error is None:
                results[key] = future.result()
                continue
            shown = error.message if isinstance(error, FhirError) else type(error).__name__
            log.warning("hook data unavailable for %s: %s", ",".join(keys), shown)
            if isinstance(error, FhirNotFoundError) and key == "patient":
                raise PrefetchUnavailableError(
                    "the FHIR server has no Patient with the id of context.patientId",
                    details={"prefetch": keys},
                ) from error
            if isinstance(error, FhirError):
                details: dict[str, Any] = {"prefetch": keys}
                if isinstance(error.outcome, dict):
                    details["outcome"] = error.outcome
                raise PrefetchUnavailableError(
                    f"data could not be fetched from fhirServer: {in_words(error)}",
                    details=details,
                ) from error
            raise error
    return results


def _record(
    patient_id: str, resolved: Mapping[str, Prefetched], templates: Sequence[PrefetchTemplate]
) -> PatientRecord:
    patient_data = resolved["patient"].resources
    if patient_data:
        resource, full_url = patient_data[0]
        if resource.get("id") is None:
            resource = {**resource, "id": patient_id}
    else:
        resource, full_url = {"resourceType": "Patient", "id": patient_id}, None
    patient = make_entry(resource, full_url, 0)
    entries: list[Entry] = []
    warnings: list[Warning] = []
    for template in templates:
        if template.read:
            continue
        prefetched = resolved[template.key]
        for item, item_url in prefetched.resources:
            entries.append(make_entry(item, item_url, len(entries) + 1))
        where = f"prefetch {template.key}"
        warnings.extend(Warning(None, reported(note, where)) for note in prefetched.notes)
    # single_patient=False: a resource about another patient is dropped without naming
    # that patient, as for resources fetched from a FHIR server.
    return record_from_resources(patient, entries, single_patient=False, warnings=warnings)


def resolve_record(
    request: HookRequest, templates: Sequence[PrefetchTemplate], settings: FetchSettings
) -> Resolution:
    """Return the patient's record from the prefetch, fetching the keys it lacks."""
    resolved: dict[str, Prefetched] = {}
    missing: list[PrefetchTemplate] = []
    for template in templates:
        if template.key in request.prefetch:
            value = read_prefetched(template, request.prefetch[template.key], request.patient_id)
            if value is not None:
                resolved[template.key] = value
                continue
        missing.append(template)
    resolved.update(fetch_missing(missing, request, settings))
    record = _record(request.patient_id, resolved, templates)
    return Resolution(record, tuple(t.key for t in missing))
