"""FHIR R4 REST client: the only part of the service that talks HTTP to a FHIR server.

Build an :class:`Allowlist` from configuration once, then a :class:`FhirClient` per
server (a :class:`BearerToken` from a hook's ``fhirAuthorization``, or
:class:`SmartBackendServices` for calls made on the service's own behalf), and call
:meth:`FhirClient.fetch_patient` to get a :class:`~service.mappers.PatientRecord` for
the mappers. Every call honours the overall deadline open in its context
(:func:`deadline_scope`, :mod:`service.fhir.deadline`). :mod:`service.fhir.oauth`
holds the two SMART App Launch calls (read ``.well-known/smart-configuration``,
exchange an authorization code). Every failure is a :class:`FhirError` (tree in
:mod:`service.fhir.errors`; :func:`~service.fhir.errors.in_words` says it for a person).
"""

from __future__ import annotations

from service.fhir.allowlist import Allowlist, parse_url
from service.fhir.auth import Auth, BearerToken, SmartBackendServices
from service.fhir.client import FHIR_JSON, CreateResult, FhirClient
from service.fhir.deadline import Deadline, current_deadline, deadline_scope
from service.fhir.errors import (
    FhirAuthError,
    FhirDeadlineError,
    FhirError,
    FhirIncompleteError,
    FhirInvalidResponseError,
    FhirNotFoundError,
    FhirOperationOutcomeError,
    FhirTokenRefusedError,
    FhirUnavailableError,
    FhirUrlNotAllowedError,
)
from service.fhir.oauth import SmartConfiguration, TokenResponse, exchange_code, smart_configuration

__all__ = [
    "FHIR_JSON",
    "Allowlist",
    "Auth",
    "BearerToken",
    "CreateResult",
    "Deadline",
    "FhirAuthError",
    "FhirClient",
    "FhirDeadlineError",
    "FhirError",
    "FhirIncompleteError",
    "FhirInvalidResponseError",
    "FhirNotFoundError",
    "FhirOperationOutcomeError",
    "FhirTokenRefusedError",
    "FhirUnavailableError",
    "FhirUrlNotAllowedError",
    "SmartBackendServices",
    "SmartConfiguration",
    "TokenResponse",
    "current_deadline",
    "deadline_scope",
    "exchange_code",
    "parse_url",
    "smart_configuration",
]
