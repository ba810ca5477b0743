"""``python -m service screen`` and ``python -m service synth``: argument wiring only.

Kept apart from :mod:`service.cli` so the CLI module stays small, and light: nothing
here imports the screening machinery until the command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

__all__ = ["add_commands"]

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def add_commands(commands: Any, date_type: Callable[[str], date]) -> None:
    """Add the ``screen`` and ``synth`` subcommands to an argparse subparsers object;
    each sets ``run`` to the function that runs it (returning the exit status)."""
    screen = commands.add_parser(
        "screen", help="screen a Bulk FHIR export: results, worklist and tumour-board report"
    )
    source = screen.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="folder of NDJSON files (gzip or not)")
    source.add_argument(
        "--export",
        choices=("system", "patient", "group"),
        help="run a live $export at this level from --fhir-base (files go to OUT/export)",
    )
    screen.add_argument("--group", help="the Group id of a group-level export")
    screen.add_argument(
        "--fhir-base",
        default=None,
        help="FHIR server for --export and --write-back (default: $NELM_CDS_FHIR_BASE_URL); "
        "allowlist, token and SMART Backend Services from the NELM_CDS_FHIR_* settings",
    )
    screen.add_argument(
        "--no-type-filter",
        action="store_true",
        help="export every Observation (for servers that cannot filter Observation by code)",
    )
    screen.add_argument(
        "--export-timeout", type=float, default=6 * 3600.0, help="seconds (default: 6 hours)"
    )
    screen.add_argument(
        "--write-back",
        action="store_true",
        help="write a RiskAssessment for each patient with a NET liver metastasis",
    )
    screen.add_argument("--out", required=True, type=Path, help="output folder")
    screen.add_argument(
        "--at", type=date_type, help="evaluation date YYYY-MM-DD (default: today, UTC)"
    )
    screen.add_argument(
        "--site-codes",
        type=Path,
        default=None,
        help="JSON file of local codes (default: $NELM_CDS_SITE_CODES)",
    )
    screen.add_argument("--workers", type=int, default=0, help="processes (default: every core)")
    screen.add_argument("--fresh", action="store_true", help="start over instead of resuming")
    screen.add_argument(
        "--engine",
        choices=("embedded", "spark"),
        default="embedded",
        help="embedded (this machine, every core) or spark (needs the spark extra and Java 17+)",
    )
    screen.add_argument("--master", help="Spark master URL (default: local[*])")
    screen.set_defaults(run=_screen)

    synth = commands.add_parser("synth", help="write a synthetic population as a Bulk export")
    synth.add_argument("--patients", type=int, required=True)
    synth.add_argument("--out", type=Path, required=True)
    synth.add_argument("--seed", type=int, default=1)
    synth.add_argument(
        "--at", type=date_type, help="the date the records lead up to (default: today, UTC)"
    )
    synth.add_argument("--gzip", action="store_true", help="write .ndjson.gz files")
    synth.add_argument("--faults", type=int, default=0, help="add N of each kind of bad input")
    synth.add_argument(
        "--net-share",
        type=float,
        default=None,
        help="share of patients with NET liver metastases (default 0.08)",
    )
    synth.set_defaults(run=_synth)


def _today() -> date:
    return datetime.now(UTC).date()


def _fail(message: str, status: int = EXIT_BAD_INPUT) -> int:
    print("error: " + " ".join(message.split()), file=sys.stderr)
    return status


def _synth(args: argparse.Namespace) -> int:
    from service.synth import Mix, write_population

    if args.patients < 0 or args.faults < 0:
        return _fail("--patients and --faults cannot be negative")
    mix = Mix() if args.net_share is None else Mix(net_liver=args.net_share)
    if not 0 <= mix.net_liver <= 1 - mix.net_only - mix.other_liver:
        return _fail("--net-share must be between 0 and 0.92")
    try:
        summary = write_population(
            args.out,
            args.patients,
            seed=args.seed,
            anchor=args.at or _today(),
            compress=args.gzip,
            faults=args.faults,
            mix=mix,
        )
    except OSError as exc:
        return _fail(f"{args.out}: cannot be written ({exc.strerror})")
    counts = ", ".join(f"{n:,} {kind}" for kind, n in summary.resources.items())
    print(f"wrote {summary.patients:,} patients to {args.out}: {counts}")
    return 0


def _fhir_config(base: str | None, settings: Any) -> dict[str, Any]:
    """The FHIR settings (``NELM_CDS_FHIR_*``, read once by the command line) with
    ``--fhir-base``."""
    if settings is None:
        from service.config.loading import load_settings

        settings = load_settings()
    config: dict[str, Any] = settings.flask_config()
    if base is not None:
        config["FHIR_BASE_URL"] = base
    return config


def _screen(args: argparse.Namespace) -> int:
    import hashlib  # here: only a screen needs it, not every command (OpenSSL loads)

    from service.criteria.config import ConfigError
    from service.fhir import FhirError
    from service.mappers.site_codes import SiteCodesError, load_terminology
    from service.screening.run import ScreenError, ScreenOptions, screen_export, screen_folder
    from service.settings import SettingError, build_source

    if (args.export or args.write_back) and not args.fhir_base:
        return _fail("--export and --write-back need --fhir-base (or NELM_CDS_FHIR_BASE_URL)")
    if args.export == "group" and not args.group:
        return _fail("--export group needs --group ID")
    try:
        terminology = load_terminology(args.site_codes)
        digest = hashlib.sha256(args.site_codes.read_bytes()).hexdigest() if args.site_codes else ""
        config = _fhir_config(args.fhir_base, getattr(args, "settings", None))
        source = build_source(config, terminology) if args.write_back else None
        options = ScreenOptions(
            out=args.out,
            at=args.at or _today(),
            terminology=terminology,
            site_codes_digest=digest,
            workers=args.workers,
            fresh=args.fresh,
            write_back=source,
            engine=args.engine,
            spark_master=args.master,
        )
        if args.export:
            summary = screen_export(
                config,
                args.export,
                args.group,
                options,
                type_filter_on=not args.no_type_filter,
                max_wait=args.export_timeout,
            )
        else:
            summary = screen_folder(args.input, options)
    except (ScreenError, SiteCodesError, ConfigError, SettingError, ValueError) as exc:
        return _fail(str(exc))
    except FhirError as exc:
        return _fail(f"the FHIR server failed: {exc.message}", EXIT_FAILED)
    except OSError as exc:
        return _fail(f"cannot write the outputs ({exc.strerror or exc})", EXIT_FAILED)
    evaluation = summary.figures["evaluation"]
    selection = summary.figures["selection"]
    bad = sum(summary.tally.counts.values())
    print(
        f"screened {selection['patients']:,} patients: {selection['candidates']:,} with a "
        f"liver-metastasis Condition, {evaluation['evaluated']:,} evaluated now; "
        f"{bad:,} bad input lines counted; outputs in {args.out}"
    )
    written = summary.figures.get("writeBack")
    if written is not None:
        print(
            f"RiskAssessments: {written['created']} created, {written['unchanged']} already "
            f"there, {written['failed']} failed, {written['deceased']} not written (deceased)"
        )
    return EXIT_FAILED if written and written["failed"] else 0
