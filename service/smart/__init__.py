"""SMART App Launch (EHR launch with PKCE S256): how a clinician reaches the service from
the EHR, with the EHR's patient and an access token to its FHIR server.

The sequence (SMART App Launch 2.x, "EHR launch"):

1. the EHR opens ``GET /smart/launch?iss=<FHIR base>&launch=<opaque>`` (the CDS Hooks
   card's ``type: "smart"`` link, or the EHR's app menu);
2. the service checks ``iss`` against the FHIR allowlist, reads
   ``<iss>/.well-known/smart-configuration`` and redirects to its
   ``authorization_endpoint`` with ``state``, ``aud=iss`` and a PKCE S256 challenge;
3. the authorization server redirects back to ``GET /smart/callback?code=&state=``;
   the service exchanges the code (with the PKCE verifier) at the ``token_endpoint``;
4. the token response's ``patient``, the FHIR base and the access token become a
   server-side session named by the ``nelm_smart`` cookie, and the browser goes to
   ``/patients/<patient>/evaluation``, where :func:`~service.smart.context.current_smart_context`
   gives them back.

Modules: :mod:`~service.smart.pkce` (verifier and challenge),
:mod:`~service.smart.store` (bounded in-memory stores with expiry),
:mod:`~service.smart.context` (:class:`~service.smart.context.SmartContext`),
:mod:`~service.smart.flow` (the launch logic, without Flask),
:mod:`~service.smart.routes` (the ``smart`` blueprint and ``init_app``). The HTTP calls
are in :mod:`service.fhir.oauth`.

This package module holds data only, so importing a submodule stays cheap.
"""

from __future__ import annotations

from typing import Any

from service.config import DEFAULT_SMART_SCOPE, defaults

__all__ = ["DEFAULT_SMART_SCOPE", "SMART_DEFAULTS"]


SMART_DEFAULTS: dict[str, Any] = defaults(
    "SMART_CLIENT_ID", "SMART_CLIENT_SECRET", "SMART_REDIRECT_URI", "SMART_SCOPE"
)
"""``SMART_CLIENT_ID``: the client id the EHR registered for the service (``None``: SMART
launch is off, its routes answer 404 and cards keep their absolute link).
``SMART_CLIENT_SECRET``: set for a confidential client (HTTP Basic at the token
endpoint); ``None`` for a public client. ``SMART_REDIRECT_URI``: the registered redirect
URI (``None``: ``PUBLIC_BASE_URL`` + ``/smart/callback``). ``SMART_SCOPE``: the scopes
asked for; must include ``launch``."""
