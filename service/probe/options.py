"""The ``probe`` command-line options (cheap to import)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_parser"]

DESCRIPTION = (
    "Onboarding probe: check a FHIR server's CapabilityStatement and each search the "
    "service makes, survey a sample of patients with liver metastases (usable data per "
    "criteria input, local codes the service does not read), and write a text, HTML and "
    "JSON report and a draft site-codes file for review. Reads only, unless --write-check."
)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("must be a whole number") from exc
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be from 1 to 1000")
    return value


def add_parser(commands: Any, iso_date: Any) -> None:
    """Add the ``probe`` sub-command; ``iso_date`` parses ``--at``."""
    parser = commands.add_parser(
        "probe", help="onboarding: what a FHIR server and its data lack", description=DESCRIPTION
    )
    parser.add_argument("--fhir-base", required=True, help="FHIR R4 base URL to probe")
    parser.add_argument(
        "--sample", type=_positive, default=20, help="patients to survey (default 20)"
    )
    parser.add_argument(
        "--patient", action="append", default=[], help="survey this patient id (repeatable)"
    )
    parser.add_argument("--at", type=iso_date, help="evaluation date YYYY-MM-DD (default today)")
    parser.add_argument(
        "--token",
        default=None,
        help="bearer token (default: $NELM_CDS_FHIR_TOKEN)",
    )
    parser.add_argument(
        "--site-codes",
        type=Path,
        default=None,
        help="the site's current codes file (default: $NELM_CDS_SITE_CODES)",
    )
    parser.add_argument(
        "--write-check",
        action="store_true",
        help="also write one entered-in-error RiskAssessment, read it back, delete it",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("nelm-probe"),
        help="folder for probe-report.{txt,html,json} and site-codes.draft.json "
        "(default ./nelm-probe)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "html", "json"),
        default="text",
        help="what to print on stdout (default text)",
    )
    parser.add_argument(
        "--freshness-days",
        type=int,
        default=None,
        help="how old a bilirubin or platelet count may be "
        "(default: $NELM_CDS_LAB_FRESHNESS_DAYS or 90)",
    )
    parser.add_argument(
        "--allow-http", action="store_true", help="allow plain http to a non-loopback server"
    )
    parser.add_argument("--timeout", type=float, default=20.0, help="read timeout, seconds (20)")
