"""SMART App Launch over HTTP: read a server's SMART configuration, exchange a code.

:func:`smart_configuration` reads ``{base}/.well-known/smart-configuration`` of a FHIR
server that must be on the allowlist (checked before any request).
:func:`exchange_code` trades an authorization code and its PKCE ``code_verifier`` for
an access token at the token endpoint that configuration named.

The endpoints a configuration names are not required to be on the FHIR allowlist: an
EHR's authorization server often lives on another host than its FHIR server, and it is
trusted because an allowlisted FHIR server named it over TLS. They must still be safe
URLs (https, or http to loopback; no credentials; see :func:`parse_url`).

Every call has a ``(connect, read)`` timeout, follows no redirect and reads at most
64 KiB. Failures raise the tree in :mod:`service.fhir.errors`; messages name the
endpoint, never a code, a verifier, a secret or a token.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from service.fhir.allowlist import Allowlist, parse_url, strip_query
from service.fhir.deadline import current_deadline
from service.fhir.errors import (
    FhirAuthError,
    FhirDeadlineError,
    FhirError,
    FhirInvalidResponseError,
    FhirTokenRefusedError,
    FhirUnavailableError,
    FhirUrlNotAllowedError,
    failure_reason,
)
from service.metrics.recorders import record_fhir_call

__all__ = [
    "SmartConfiguration",
    "TokenResponse",
    "authorization_server_call",
    "exchange_code",
    "smart_configuration",
]

WELL_KNOWN = "/.well-known/smart-configuration"
_MAX_ANSWER = 64 * 1024
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
"""An OAuth ``error`` we repeat: RFC 6749 codes are short ASCII words."""


@dataclass(frozen=True)
class SmartConfiguration:
    """What a FHIR server's ``.well-known/smart-configuration`` says (SMART 2.x)."""

    authorization_endpoint: str
    token_endpoint: str
    capabilities: tuple[str, ...]
    code_challenge_methods: tuple[str, ...] | None
    """``None`` when the document has no ``code_challenge_methods_supported`` (SMART
    1.0 servers); SMART 2.x makes it required, with ``S256`` in it."""


@dataclass(frozen=True)
class TokenResponse:
    """A successful token response (RFC 6749 §5.1 plus SMART launch context)."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in: float | None
    scope: str | None
    patient: str | None
    """The ``patient`` launch context: a FHIR id on the resource server, or ``None``."""
    fhir_user: str | None = None
    """The ``fhirUser`` claim of the ``id_token`` (``Practitioner/123``), if one came.
    Read without checking its signature: the token came straight from the token
    endpoint over TLS (OpenID Connect Core §3.1.3.7), and it serves the audit trail
    only, never an access decision. The SMART launch validates ``id_token`` itself."""
    id_token: str | None = field(default=None, repr=False)
    """The OpenID Connect ``id_token`` as sent, for the caller to validate."""
    need_patient_banner: bool | None = None
    """SMART: whether the app must show the patient banner (``None``: not said)."""
    smart_style_url: str | None = None
    """SMART: where the EHR's style settings are, if it sent one."""


def smart_configuration(
    base_url: str,
    *,
    allowlist: Allowlist,
    timeout: tuple[float, float],
    session: requests.Session | None = None,
) -> SmartConfiguration:
    """Return the SMART configuration of the FHIR server at ``base_url``.

    Raises :class:`FhirUrlNotAllowedError` (nothing sent) when ``base_url`` is not on
    ``allowlist``; :class:`FhirUnavailableError` when the server cannot be reached or
    fails; :class:`FhirInvalidResponseError` when the document lacks a usable
    ``authorization_endpoint`` or ``token_endpoint``.
    """
    base = allowlist.check(base_url)
    url = f"{base}{WELL_KNOWN}"
    body = authorization_server_call(session, "GET", url, timeout=timeout)
    endpoints = [
        _endpoint(body, name, url, allow_http=allowlist.allow_http)
        for name in ("authorization_endpoint", "token_endpoint")
    ]
    return SmartConfiguration(
        authorization_endpoint=endpoints[0],
        token_endpoint=endpoints[1],
        capabilities=_strings(body, "capabilities", url) or (),
        code_challenge_methods=_strings(body, "code_challenge_methods_supported", url),
    )


def exchange_code(
    token_endpoint: str,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    client_id: str,
    client_secret: str | None = None,
    timeout: tuple[float, float],
    allow_http: bool = False,
    session: requests.Session | None = None,
) -> TokenResponse:
    """Exchange an authorization ``code`` for an access token (SMART App Launch step 5).

    A public client sends ``client_id`` in the form; a confidential one (with
    ``client_secret``) authenticates with HTTP Basic and leaves ``client_id`` out of
    the form, as SMART's symmetric client authentication says. The
    ``code_verifier`` is always sent (PKCE).

    Raises :class:`FhirTokenRefusedError` when the server answers an OAuth error
    (``invalid_grant`` for a wrong code or verifier), :class:`FhirUnavailableError`
    when it cannot be reached or fails, :class:`FhirInvalidResponseError` when the
    answer has no usable bearer token.
    """
    try:
        parse_url(token_endpoint, base=False, allow_http=allow_http)
    except FhirUrlNotAllowedError as exc:
        raise FhirInvalidResponseError(
            f"the token endpoint is not a safe URL: {exc.message}", url=exc.url
        ) from exc
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    auth: tuple[str, str] | None = None
    if client_secret:
        auth = (client_id, client_secret)
    else:
        form["client_id"] = client_id
    body = authorization_server_call(
        session, "POST", token_endpoint, timeout=timeout, data=form, auth=auth
    )
    return _token_response(body, strip_query(token_endpoint))


# --- helpers --------------------------------------------------------------------------


def authorization_server_call(
    session: requests.Session | None,
    method: str,
    url: str,
    *,
    timeout: tuple[float, float],
    data: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Call an OAuth authorization server (token endpoint, SMART configuration).

    No redirects, a (connect, read) timeout (shortened to the request's deadline, if
    one is open), at most 64 KiB read; answers map to the
    FHIR error tree (timeouts are marked ``timed_out``; a 400/401/403 keeps the OAuth
    ``error`` code). A ``session`` of ``None`` uses a one-off session. Its time and any
    failure are recorded in the FHIR metrics as a ``token`` interaction.
    """
    started = time.monotonic()
    failure: str | None = None
    try:
        return _call(session, method, url, timeout=timeout, data=data, auth=auth)
    except FhirError as exc:
        failure = failure_reason(exc)
        raise
    finally:
        record_fhir_call("token", time.monotonic() - started, failure)


def _call(
    session: requests.Session | None,
    method: str,
    url: str,
    *,
    timeout: tuple[float, float],
    data: dict[str, str] | None,
    auth: tuple[str, str] | None,
) -> dict[str, Any]:
    where = strip_query(url)
    deadline = current_deadline()
    if deadline is not None:
        if deadline.expired():
            raise FhirDeadlineError(
                "no time left to call the authorization server", seconds=deadline.seconds, url=where
            )
        left = deadline.remaining()
        timeout = (min(timeout[0], left), min(timeout[1], left))
    http = session or requests.Session()
    try:
        response = http.request(
            method,
            url,
            data=data,
            auth=auth,
            headers={"Accept": "application/json"},
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
        with response:
            raw = _read_limited(response, _MAX_ANSWER)
    except requests.Timeout as exc:
        raise FhirUnavailableError(
            "the authorization server did not answer in time", url=where, timed_out=True
        ) from exc
    except requests.RequestException as exc:
        raise FhirUnavailableError("the authorization server is unreachable", url=where) from exc
    finally:
        if session is None:
            http.close()
    return _answer(response.status_code, raw, where)


def _answer(status: int, raw: bytes | None, where: str) -> dict[str, Any]:
    if status == 200:
        return _json_object(raw, where)
    if status >= 500 or status == 429:
        raise FhirUnavailableError("the authorization server failed", url=where, status=status)
    if status in (400, 401, 403):
        code = _error_code(raw)
        raise FhirTokenRefusedError(
            f"the authorization server refused the request ({code or 'no error code'})",
            url=where,
            status=status,
            error_code=code,
        )
    raise FhirAuthError(f"the authorization server answered {status}", url=where, status=status)


def _error_code(raw: bytes | None) -> str | None:
    try:
        body = _json_object(raw, "")
    except FhirInvalidResponseError:
        return None
    code = body.get("error")
    return code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else None


def _endpoint(body: dict[str, Any], name: str, where: str, *, allow_http: bool) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise FhirInvalidResponseError(f"smart-configuration has no {name}", url=where)
    try:
        parse_url(value, base=False, allow_http=allow_http)
    except FhirUrlNotAllowedError as exc:
        raise FhirInvalidResponseError(
            f"smart-configuration {name} is not a safe URL: {exc.message}", url=where
        ) from exc
    return value


def _strings(body: dict[str, Any], name: str, where: str) -> tuple[str, ...] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FhirInvalidResponseError(
            f"smart-configuration {name} is not a list of strings", url=where
        )
    return tuple(value)


def _token_response(body: dict[str, Any], where: str) -> TokenResponse:
    token = body.get("access_token")
    if not isinstance(token, str) or not token or any(c.isspace() for c in token):
        raise FhirInvalidResponseError("the token endpoint sent no access_token", url=where)
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise FhirInvalidResponseError("the token endpoint sent a non-bearer token", url=where)
    expires_in = body.get("expires_in")
    if expires_in is not None and (
        isinstance(expires_in, bool) or not isinstance(expires_in, int | float) or expires_in <= 0
    ):
        raise FhirInvalidResponseError("the token endpoint sent an invalid expires_in", url=where)
    scope = body.get("scope")
    patient = body.get("patient")
    if patient is not None and not isinstance(patient, str):
        raise FhirInvalidResponseError("the token endpoint sent an invalid patient", url=where)
    return TokenResponse(
        access_token=token,
        token_type=token_type,
        expires_in=None if expires_in is None else float(expires_in),
        scope=scope if isinstance(scope, str) else None,
        patient=patient or None,
        fhir_user=_fhir_user(body.get("id_token")),
        id_token=id_token if isinstance(id_token := body.get("id_token"), str) else None,
        need_patient_banner=banner
        if isinstance(banner := body.get("need_patient_banner"), bool)
        else None,
        smart_style_url=style if isinstance(style := body.get("smart_style_url"), str) else None,
    )


def _fhir_user(id_token: object) -> str | None:
    """Return the ``fhirUser`` (or SMART 1's ``profile``) of an id_token, if readable."""
    if not isinstance(id_token, str) or id_token.count(".") != 2 or len(id_token) > 16_384:
        return None
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(claims, dict):
        return None
    user = claims.get("fhirUser", claims.get("profile"))
    return user[:256] if isinstance(user, str) and user.isprintable() else None


def _read_limited(response: requests.Response, limit: int) -> bytes | None:
    """Return the body, or ``None`` when it is longer than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=16 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _json_object(raw: bytes | None, where: str) -> dict[str, Any]:
    if raw is None:
        raise FhirInvalidResponseError("the authorization server's answer is too large", url=where)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise FhirInvalidResponseError("the authorization server sent no JSON", url=where) from exc
    if not isinstance(body, dict):
        raise FhirInvalidResponseError("the authorization server sent no JSON object", url=where)
    return body
