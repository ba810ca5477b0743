"""Flask glue for the REST API's access tokens: build the validator, guard the routes.

``@requires(scope, action)`` on a view: notes the access for the audit trail (action,
and the ``patient_id`` of the URL), checks the bearer token before anything is read
(so a caller without the scope learns nothing, not even whether the patient exists),
and keeps who called in :func:`current_principal`. A refusal is
:class:`ApiUnauthorizedError` (401/403, RFC 6750 ``WWW-Authenticate``, a body without
the reason).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, request

from service.auth.audit import Actor, note
from service.auth.keys import SharedDocuments
from service.auth.resource_server import (
    ANONYMOUS,
    API_AUTH_DEFAULTS,
    ApiAccessError,
    ApiTokenValidator,
    Principal,
)
from service.errors import ServiceError
from service.mappers.reading import is_fhir_id

__all__ = ["ApiUnauthorizedError", "current_principal", "init_api_auth", "requires"]

log = logging.getLogger(__name__)

EXTENSION = "nelm_api_tokens"
F = TypeVar("F", bound=Callable[..., Any])

_MESSAGES = {
    None: "this route needs a bearer access token",
    "invalid_token": "the access token is not valid here",
    "insufficient_scope": "the access token lacks the scope this route needs",
}


class ApiUnauthorizedError(ServiceError):
    """The call is refused (401 or 403); the body names the RFC 6750 error, not why."""

    def __init__(self, refusal: ApiAccessError) -> None:
        super().__init__(_MESSAGES.get(refusal.error, "refused"))
        self.status_code = refusal.status
        self.code = refusal.error or "unauthorized"
        self.headers = {"WWW-Authenticate": refusal.www_authenticate}
        if refusal.scope is not None:
            self.details = {"scope": refusal.scope}


def init_api_auth(
    app: Flask, *, demo: bool, shared_keys: SharedDocuments | None = None
) -> ApiTokenValidator:
    """Build the API token validator into ``app`` (settings in ``API_AUTH_DEFAULTS``);
    raise :class:`~service.settings.SettingError` for a bad or unsafe configuration."""
    for key, value in API_AUTH_DEFAULTS.items():
        app.config.setdefault(key, value)
    validator = ApiTokenValidator.from_config(app.config, demo=demo, shared_keys=shared_keys)
    app.extensions[EXTENSION] = validator
    return validator


def current_principal() -> Principal:
    """Return who calls this request (anonymous on an open API)."""
    principal: Principal = g.get("nelm_principal", ANONYMOUS)
    return principal


def _actor(principal: Principal) -> Actor:
    if principal.issuer is None:
        return Actor("open-api")
    return Actor(
        "api-token", sub=principal.subject, client_id=principal.client_id, iss=principal.issuer
    )


def requires(scope: str, action: str) -> Callable[[F], F]:
    """Guard a view: the access token must carry ``scope``; audit it as ``action``."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            patient_id = kwargs.get("patient_id")
            known = isinstance(patient_id, str) and is_fhir_id(patient_id)
            note(action, patient_id=patient_id if known else None)
            validator: ApiTokenValidator = current_app.extensions[EXTENSION]
            try:
                principal = validator.authorize(request.headers.get("Authorization"), scope)
            except ApiAccessError as refusal:
                log.info("REST API call refused (%s %s): %s", request.method, _route(), refusal)
                raise ApiUnauthorizedError(refusal) from None
            g.nelm_principal = principal
            note(actor=_actor(principal))
            return view(*args, **kwargs)

        guarded.required_scope = scope  # type: ignore[attr-defined]  # for the spec check
        return cast(F, guarded)

    return decorate


def _route() -> str:
    return request.url_rule.rule if request.url_rule is not None else "(unmatched)"
