"""A CDS Hooks 2.0 test client: ``python -m service cds-call``.

It does what an EHR's CDS client does, so a service can be tried without an EHR:
sign a JWT (:mod:`~service.cdsclient.signing`), call discovery, build the prefetch
from the discovery templates (:mod:`~service.cdsclient.prefetch`), call the
``patient-view`` service and print the cards (:mod:`~service.cdsclient.render`).
When the service refuses, :mod:`~service.cdsclient.diagnose` says why in one line
where the client can tell (audience, issuer, clock, CORS origin, FHIR allowlist).
:mod:`~service.cdsclient.options` declares the command line (cheap to import) and
:mod:`~service.cdsclient.command` runs it.

Depends downward only: on :mod:`service.fhir` (to prefetch from a FHIR server), the
demo store, :mod:`service.dev_issuer` and :mod:`service.instance`; never on the app.
"""
