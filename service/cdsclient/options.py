"""The ``cds-call`` command-line options (cheap to import: no HTTP client, no keys)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["add_parser", "default_service_url"]

DESCRIPTION = (
    "Call a CDS Hooks service as an EHR would: sign a JWT, call discovery, prefetch what "
    "the discovery templates ask for, call patient-view and print the cards. Without "
    "options it signs as the development client and prefetches the embedded demo "
    "patients, which a service on the demo store trusts."
)


def default_service_url(public_base_url: str | None, port: int) -> str:
    """Return the URL a local service answers at: its ``NELM_CDS_PUBLIC_BASE_URL``, else
    ``http://127.0.0.1:<NELM_CDS_PORT>`` (the values of :class:`service.config.Settings`)."""
    public = (public_base_url or "").strip()
    if public:
        return public.rstrip("/")
    return f"http://127.0.0.1:{port}"


def add_parser(commands: Any) -> None:
    """Add the ``cds-call`` sub-command to an argparse sub-parser collection."""
    parser = commands.add_parser(
        "cds-call",
        help="call a CDS Hooks service as an EHR would (JWT, discovery, prefetch, cards)",
        description=DESCRIPTION,
    )
    parser.add_argument(
        "--service",
        default=None,
        help="the service's base URL (default: $NELM_CDS_PUBLIC_BASE_URL or "
        "http://127.0.0.1:$NELM_CDS_PORT); a discovery URL ending /cds-services works too",
    )
    parser.add_argument("--patient", default="demo-transplant", help="context.patientId")
    parser.add_argument("--user", default="Practitioner/cds-call", help="context.userId")
    parser.add_argument("--fhir-server", help="FHIR base URL to prefetch from and send")
    parser.add_argument("--token", help="bearer token for the FHIR server (fhirAuthorization)")
    parser.add_argument(
        "--prefetch",
        choices=("templates", "none"),
        default="templates",
        help="templates: prefetch what discovery asks for; none: let the service fetch",
    )
    parser.add_argument("--key", type=Path, help="PEM private key (EC P-384 or RSA 2048+)")
    parser.add_argument("--kid", help="key id of --key (JWT header kid)")
    parser.add_argument("--iss", help="issuer the service trusts for --key (JWT iss)")
    parser.add_argument("--jku", help="JWK Set URL to name in the JWT header (optional)")
    parser.add_argument("--origin", help="also check that a browser page at this origin may call")
    parser.add_argument(
        "--instance-path", help="folder of the development key (default: the service's)"
    )
    parser.add_argument("--json", action="store_true", help="print the hook answer as JSON")
    parser.add_argument(
        "--allow-http", action="store_true", help="allow plain http to a non-loopback FHIR server"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per call (30)")
