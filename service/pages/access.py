"""Who may see a patient's clinician page, and where the record is read from.

In order, for the patient named in the URL:

1. a SMART on FHIR launch context for *that* patient (from
   :mod:`service.smart.context`, when that module is installed): the record is read
   from the launch's FHIR server with the launch's access token;
2. the embedded demo store (synthetic patients): open to anyone;
3. a FHIR server configured for the service: only with a valid signed ``?token=`` for
   that patient (:mod:`service.pages.links`), the record read by the configured source;
4. otherwise :class:`PageUnauthorizedError` (401), raised before anything is fetched, so
   the answer does not depend on whether the patient exists.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol, cast

from flask import current_app, request

from service.app_services import patient_source
from service.auth.audit import Actor, note
from service.errors import ServiceError
from service.fhir import BearerToken, FhirAuthError, FhirClient
from service.mappers import PatientRecord, Terminology
from service.mappers.reading import is_fhir_id
from service.pages.links import PageLinks
from service.settings import allowlist_from, fhir_timeouts
from service.sources import DemoSource, FhirSource, PatientSource, translated_fhir_errors

__all__ = [
    "SMART_CONTEXT_MODULE",
    "PageUnauthorizedError",
    "RecordReader",
    "SmartContext",
    "current_smart_context",
    "record_reader",
]

SMART_CONTEXT_MODULE = "service.smart.context"


class PageUnauthorizedError(ServiceError):
    """No SMART launch and no valid signed link for this patient; nothing more is said."""

    status_code = 401
    code = "unauthorized"


class SmartContext(Protocol):
    """What the page needs from a SMART launch (see :mod:`service.smart.context`)."""

    @property
    def patient_id(self) -> str | None:
        """The launch's patient id."""
        ...

    @property
    def fhir_base_url(self) -> str:
        """The FHIR server of the launch."""
        ...

    @property
    def access_token(self) -> str:
        """The access token the launch obtained for that server."""
        ...

    @property
    def scope(self) -> str | None:
        """The scopes the EHR granted, if it said."""
        ...

    @property
    def fhir_user(self) -> str | None:
        """The clinician (``Practitioner/123``) from the validated ``id_token``, if any."""
        ...

    @property
    def need_patient_banner(self) -> bool:
        """Whether the page must show the patient's identity (the EHR may show its own)."""
        ...

    @property
    def style(self) -> Mapping[str, str]:
        """The EHR's checked SMART style settings."""
        ...


@functools.cache
def _smart_module() -> ModuleType | None:
    try:
        return importlib.import_module(SMART_CONTEXT_MODULE)
    except ModuleNotFoundError as exc:
        # Only the module's absence means "no SMART support here"; a broken import
        # inside it is a bug to surface, not to hide.
        missing = exc.name or ""
        if missing == SMART_CONTEXT_MODULE or SMART_CONTEXT_MODULE.startswith(missing + "."):
            return None
        raise


def current_smart_context(patient_id: str | None = None) -> SmartContext | None:
    """Return the SMART launch context of this request for ``patient_id`` (each patient's
    launch has its own session), or ``None`` (none, or SMART support not installed)."""
    module = _smart_module()
    if module is None:
        return None
    return cast("SmartContext | None", module.current_smart_context(patient_id))


@dataclass(frozen=True)
class RecordReader:
    """How the page gets this patient's record, and the FHIR base its references live
    under (``None``: show references as text)."""

    fetch: Callable[[str], PatientRecord]
    fhir_base: str | None


class SmartSessionEndedError(ServiceError):
    """The EHR no longer accepts the launch's token (expired or revoked): HTTP 401."""

    status_code = 401
    code = "session_ended"


@contextmanager
def launch_token_errors(patient_id: str | None) -> Iterator[None]:
    """Translate FHIR errors of calls made with a launch's token: a token the server
    refuses (401) means the EHR session ended, which the clinician fixes by opening the
    page again from the EHR, not "the FHIR server failed"; the rest as usual."""
    with translated_fhir_errors(patient_id):
        try:
            yield
        except FhirAuthError as exc:
            if exc.status == 401:
                raise SmartSessionEndedError(
                    "Your session with the EHR has ended (the access token expired or was "
                    "revoked). Open this page again from the patient's chart in the EHR."
                ) from exc
            raise


def _smart_reader(context: SmartContext, terminology: Terminology) -> RecordReader:
    config = current_app.config

    def fetch(patient_id: str) -> PatientRecord:
        with launch_token_errors(patient_id):
            client = FhirClient(
                context.fhir_base_url,
                allowlist=allowlist_from(config),
                auth=BearerToken(context.access_token),
                timeout=fhir_timeouts(config),
            )
            with client:
                return client.fetch_patient(patient_id, terminology)

    return RecordReader(fetch, context.fhir_base_url)


def _configured_fhir_base(source: PatientSource) -> str | None:
    return source.client.base_url if isinstance(source, FhirSource) else None


def record_reader(patient_id: str, terminology: Terminology) -> RecordReader:
    """Return how to read ``patient_id``'s record for this request, or raise
    :class:`PageUnauthorizedError` (before any fetch). The access is noted for the
    audit trail, with who opens the page."""
    note("page.view", patient_id=patient_id if is_fhir_id(patient_id) else None)
    context = current_smart_context(patient_id)
    if context is not None and context.patient_id == patient_id:
        note(actor=Actor("smart-user", fhir_user=context.fhir_user))
        return _smart_reader(context, terminology)
    source = patient_source()
    if isinstance(source, DemoSource):
        note(actor=Actor("demo"))
        return RecordReader(source.record, None)
    links: PageLinks = current_app.extensions["nelm_page_links"]
    token = request.args.get("token", "")
    if token and links.verify(token, patient_id):
        note(actor=Actor("signed-link"))
        return RecordReader(source.record, _configured_fhir_base(source))
    raise PageUnauthorizedError("open this page from the patient's chart in the EHR")
