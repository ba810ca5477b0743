"""Say in one line why a CDS Service refused a call, where the client can tell.

The service's 401 carries no detail (a refused token learns nothing), so the client
reasons from what it can see:

- **audience**: the 401's ``WWW-Authenticate`` names the service's public base URL as its
  ``realm``; when that differs from the URL called (``localhost`` is not ``127.0.0.1``),
  the token's ``aud`` cannot match;
- **clock**: the answer's ``Date`` is far from the client's clock;
- **issuer**: otherwise the service does not trust the issuer or its key;
- **CORS origin**: a preflight from the origin is not allowed;
- **allowlist**: a 412 saying ``fhirServer`` cannot be called.

The service's log names the failed check in every case (at info level).
"""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from service.cdsclient.http import HttpAnswer

__all__ = [
    "explain_cors",
    "explain_failure",
    "explain_precondition",
    "explain_unauthorized",
    "realm_of",
]

_REALM = re.compile(r'realm="([^"]*)"')
CLOCK_SKEW_SECONDS = 60


def realm_of(www_authenticate: str | None) -> str | None:
    """Return the ``realm`` of a ``WWW-Authenticate: Bearer`` header, if any."""
    match = _REALM.search(www_authenticate or "")
    return match.group(1).rstrip("/") if match else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _clock_offset(answer: HttpAnswer, now: float) -> float | None:
    date = answer.headers.get("Date")
    if not date:
        return None
    try:
        return parsedate_to_datetime(date).timestamp() - now
    except (TypeError, ValueError):
        return None


def explain_unauthorized(
    answer: HttpAnswer,
    *,
    base_url: str,
    iss: str,
    kid: str,
    development: bool,
    now: float | None = None,
) -> str:
    """Return why a 401 happened, as well as the client can tell."""
    realm = realm_of(answer.headers.get("WWW-Authenticate"))
    if realm and realm != base_url.rstrip("/"):
        return (
            f"audience: the service's public base URL is {realm} but this call went to "
            f"{base_url}, so the token's aud cannot match; call {realm}/cds-services, or "
            f"set NELM_CDS_PUBLIC_BASE_URL={base_url} on the service (the host must be the "
            "same text: localhost is not 127.0.0.1)"
        )
    offset = _clock_offset(answer, time.time() if now is None else now)
    if offset is not None and abs(offset) > CLOCK_SKEW_SECONDS:
        return (
            f"clock: the service's clock is {offset:+.0f} s from this machine's; tokens are "
            f"checked within {CLOCK_SKEW_SECONDS} s (NELM_CDS_CDS_CLOCK_SKEW_SECONDS)"
        )
    if development:
        return (
            "issuer: the service does not trust the development CDS client; it does only in "
            "demo mode (no NELM_CDS_FHIR_BASE_URL) with the key in its instance folder: run "
            "this command from the folder the service runs in, or give --key/--kid/--iss"
        )
    return (
        f"issuer: the service does not trust iss {iss!r} with kid {kid!r}: list that issuer "
        "and its public JWK Set in NELM_CDS_CDS_ISSUERS (the service's log names the failed "
        "check)"
    )


def explain_precondition(message: str, fhir_server: str | None) -> str:
    """Return what a 412 means for the caller."""
    if "cannot be called" in message or "allowlist" in message.lower():
        return (
            f"allowlist: the service may not call the FHIR server {fhir_server}: add it to "
            f"NELM_CDS_FHIR_ALLOWLIST on the service ({message})"
        )
    if fhir_server is None:
        return f"data: the service needs data that was not prefetched ({message})"
    return f"data: the service could not get the data from {fhir_server} ({message})"


def explain_cors(preflight: HttpAnswer, origin: str) -> str | None:
    """Return why a browser page at ``origin`` would be refused, or ``None`` if it would not."""
    allowed = preflight.headers.get("Access-Control-Allow-Origin")
    if allowed in ("*", origin) or (allowed and _origin(allowed) == _origin(origin)):
        return None
    return (
        f"CORS origin: a browser page at {origin} would be refused (no "
        "Access-Control-Allow-Origin for it): add exactly that origin to "
        "NELM_CDS_CDS_CORS_ORIGINS (scheme, host and port as the browser shows them)"
    )


def explain_failure(answer: HttpAnswer) -> str:
    """Return the service's own words for another 4xx/5xx answer."""
    body = answer.json()
    if isinstance(body, dict):
        words = body.get("detail") or body.get("message") or body.get("title") or body.get("error")
        if isinstance(words, str) and words:
            return f"the service answered {answer.status}: {words}"
    return f"the service answered {answer.status}"
