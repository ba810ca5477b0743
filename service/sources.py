"""Where patients come from and where RiskAssessments go: the demo store or a FHIR server.

Both sources answer the same three questions (a patient's record, write a
RiskAssessment, are you ready?) so the API does not care which one is configured.
FHIR failures are turned into HTTP-facing errors here: 404 for an unknown patient,
502 for a failing server, 504 for one that does not answer in time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from service import __version__
from service.demo_store import DemoStore
from service.errors import NotFoundError, ServiceError
from service.fhir import errors as fhir_errors
from service.fhir.client import FhirClient
from service.mappers import PatientRecord, Terminology
from service.supersession import plan_supersession
from service.writeback import DEFAULT_DEVICE_REFERENCE

__all__ = [
    "DemoSource",
    "FhirSource",
    "PatientSource",
    "UpstreamError",
    "UpstreamTimeoutError",
    "WriteResult",
]


DEVICE: dict[str, Any] = {
    "resourceType": "Device",
    "id": DEFAULT_DEVICE_REFERENCE.split("/", 1)[1],
    "status": "active",
    "deviceName": [{"name": "NELM-CDS", "type": "user-friendly-name"}],
    "version": [{"value": __version__}],
    "note": [{"text": "Clinical decision support for NELM transplant and resection eligibility."}],
}
"""The Device that RiskAssessment.performer names."""

log = logging.getLogger(__name__)


class UpstreamError(ServiceError):
    """The FHIR server failed or answered something unusable."""

    status_code = 502
    code = "fhir_server_error"


class UpstreamTimeoutError(ServiceError):
    """The FHIR server did not answer in time."""

    status_code = 504
    code = "fhir_server_timeout"


@dataclass(frozen=True)
class WriteResult:
    """The RiskAssessment as stored, whether this call created it, where it lives (an
    absolute URL, ``None`` for the in-memory demo store) and the earlier assessments
    this one superseded (their references)."""

    resource: dict[str, Any]
    created: bool
    location: str | None = None
    superseded: tuple[str, ...] = ()


class PatientSource(Protocol):
    """A source of patient records and a sink for RiskAssessments."""

    name: str

    def record(self, patient_id: str) -> PatientRecord:
        """Return the patient's record; raise :class:`NotFoundError` if unknown."""
        ...

    def write_risk_assessment(self, resource: dict[str, Any]) -> WriteResult:
        """Store a RiskAssessment idempotently (same id → one resource)."""
        ...

    def ready(self) -> tuple[bool, str]:
        """Say whether the source answers, with a short reason."""
        ...


@dataclass
class DemoSource:
    """The embedded demo patients; RiskAssessments are kept in memory."""

    store: DemoStore
    name: str = "demo"
    _written: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, patient_id: str) -> PatientRecord:
        """Return a demo patient's record."""
        found = self.store.record(patient_id)
        if found is None:
            raise NotFoundError(f"no patient with id '{patient_id}'")
        return found

    def write_risk_assessment(self, resource: dict[str, Any]) -> WriteResult:
        """Keep the RiskAssessment by id; writing the same id again changes nothing. An
        earlier assessment of the patient is marked superseded (:mod:`service.supersession`)."""
        with self._lock:
            existing = self._written.get(resource["id"])
            if existing is not None:
                return WriteResult(existing, created=False)
            plan = plan_supersession(resource, self._written.values())
            stored = {**plan.resource, "meta": {"versionId": "1"}}
            self._written[resource["id"]] = stored
            for amended in plan.amended:
                version = int(self._written[amended["id"]]["meta"]["versionId"]) + 1
                self._written[amended["id"]] = {**amended, "meta": {"versionId": str(version)}}
            superseded = tuple(f"RiskAssessment/{a['id']}" for a in plan.amended)
            return WriteResult(stored, created=True, superseded=superseded)

    def ready(self) -> tuple[bool, str]:
        """The demo store is always ready."""
        return True, f"demo store with {len(self.store.patient_ids())} patients"


@dataclass
class FhirSource:
    """A hospital FHIR R4 server reached through :class:`FhirClient`."""

    client: FhirClient
    terminology: Terminology
    name: str = "fhir"
    _device_written: bool = False

    def record(self, patient_id: str) -> PatientRecord:
        """Fetch the patient's Patient, Observations, Conditions and Procedures."""
        with translated_fhir_errors(patient_id):
            return self.client.fetch_patient(patient_id, self.terminology)

    def write_risk_assessment(self, resource: dict[str, Any]) -> WriteResult:
        """Write with a PUT to the id derived from the evaluation's identifier.

        Idempotent under retries and on servers whose conditional create ignores the
        identifier search (see README "Write-back").
        """
        with translated_fhir_errors(None):
            self._ensure_device()
            location = f"{self.client.base_url}/RiskAssessment/{resource['id']}"
            existing = self.client.read_optional("RiskAssessment", resource["id"])
            if existing is not None and _same_identifier(existing, resource):
                return WriteResult(existing, created=False, location=location)
            plan = plan_supersession(resource, self._patient_assessments(resource))
            stored = self.client.update(plan.resource)
            for amended in plan.amended:  # after the new one exists, so the link resolves
                self.client.update(amended)
            superseded = tuple(f"RiskAssessment/{a['id']}" for a in plan.amended)
            return WriteResult(stored, existing is None, location, superseded)

    def _patient_assessments(self, resource: dict[str, Any]) -> list[dict[str, Any]]:
        """Return the patient's RiskAssessments (to find the ones a new one supersedes)."""
        patient = str(resource["subject"]["reference"])
        return self.client.search("RiskAssessment", [("patient", patient), ("_count", "200")])

    def _ensure_device(self) -> None:
        """Create the Device the RiskAssessment names as performer, once per process
        (servers that enforce referential integrity refuse a dangling reference)."""
        if self._device_written:
            return
        if self.client.read_optional("Device", DEVICE["id"]) is None:
            self.client.update(DEVICE)
        self._device_written = True

    def ready(self) -> tuple[bool, str]:
        """Say whether the server answers its CapabilityStatement."""
        try:
            statement = self.client.capabilities()
        except fhir_errors.FhirError as exc:
            return False, f"FHIR server not ready: {fhir_errors.in_words(exc)}"
        return True, f"FHIR server {statement.get('fhirVersion', 'unknown version')}"


def _same_identifier(left: dict[str, Any], right: dict[str, Any]) -> bool:
    def identifiers(resource: dict[str, Any]) -> set[tuple[Any, Any]]:
        return {(i.get("system"), i.get("value")) for i in resource.get("identifier", [])}

    return bool(identifiers(left) & identifiers(right))


def _outcome(error: fhir_errors.FhirError) -> dict[str, Any]:
    return {"outcome": error.outcome} if isinstance(error.outcome, dict) else {}


@contextmanager
def translated_fhir_errors(patient_id: str | None) -> Iterator[None]:
    """Turn FHIR client errors into HTTP-facing service errors (404, 502, 504) whose
    message says in words what happened, with the server's OperationOutcome text (and
    the OperationOutcome itself under ``outcome``).

    With ``patient_id``, a patient the server does not have (404/410) or will not show
    (403) answers 404 alike, so no caller learns that a restricted patient exists.
    """
    try:
        yield
    except fhir_errors.FhirNotFoundError as error:
        if patient_id is None:
            raise UpstreamError(fhir_errors.in_words(error), details=_outcome(error)) from error
        raise NotFoundError(f"no patient with id '{patient_id}' on the FHIR server") from error
    except fhir_errors.FhirAuthError as error:
        if patient_id is not None and error.status == 403:
            log.warning("the FHIR server refused (403) a patient's data: answered as not found")
            raise NotFoundError(f"no patient with id '{patient_id}' on the FHIR server") from error
        raise UpstreamError(fhir_errors.in_words(error), details=_outcome(error)) from error
    except fhir_errors.FhirUnavailableError as error:
        if error.timed_out:
            raise UpstreamTimeoutError(fhir_errors.in_words(error)) from error
        raise UpstreamError(fhir_errors.in_words(error), details=_outcome(error)) from error
    except fhir_errors.FhirError as error:
        raise UpstreamError(fhir_errors.in_words(error), details=_outcome(error)) from error
