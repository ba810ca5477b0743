"""Command line: ``python -m service evaluate --bundle PATH [--at DATE] [--patient ID]``.

Also ``seed`` (demo patients into a FHIR server), ``serve`` (gunicorn), ``cds-call`` (a
CDS Hooks test client), ``probe`` (site onboarding: what a FHIR server and its data lack),
``criteria --markdown [--output PATH]`` (the criteria documentation, ``docs/criteria.md``,
generated from the criteria with the shipped defaults), ``screen`` (a Bulk FHIR export →
results, worklist and tumour-board report) and ``synth`` (a synthetic population as a Bulk
export): see :mod:`service.screening.command`.

Exit status 0 with the JSON result on stdout; 2 with one line on stderr and nothing
on stdout for bad input (interfaces.md §2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, NoReturn

from service.criteria.config import ConfigError
from service.engine import evaluate_bundle, parse_evaluation_date
from service.mappers import BundleError, load_bundle_json
from service.mappers.site_codes import SiteCodesError, load_terminology

__all__ = ["ENDS_AT_ONCE", "main"]

ENDS_AT_ONCE = frozenset({"evaluate", "criteria"})
"""Commands after which ``python -m service`` ends without interpreter clean-up
(:mod:`service.__main__`): nothing they open outlives :func:`main`."""
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


def _terminal_columns() -> int:
    """Return the terminal's width as ``shutil.get_terminal_size`` does ($COLUMNS, then
    the terminal, then 80), without importing shutil (and bz2 and lzma with it)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, made without importing shutil: argparse makes one for
    every option it adds (to check its metavar), so ``evaluate`` would pay for it."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = _terminal_columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """An argument parser that reports errors in one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise _BadInputError(message)


class _BadInputError(Exception):
    """Bad input: reported as one line on stderr with exit status 2."""


def _iso_date(text: str) -> date:
    try:
        return parse_evaluation_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _file_path(text: str) -> str:
    """A path, kept as a string (see :func:`_read_bundle`); an empty one is refused."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path")
    return text


def _batch_size(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError("must be a whole number from 1 to 1000")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError("must be a port number from 1 to 65535")
    return int(text)


def _add_evaluate(commands: Any) -> None:
    evaluate = commands.add_parser("evaluate", help="evaluate one patient's FHIR Bundle")
    evaluate.add_argument("--bundle", required=True, type=_file_path, help="FHIR R4 Bundle (JSON)")
    evaluate.add_argument(
        "--at", type=_iso_date, help="evaluation date YYYY-MM-DD (default: today, UTC)"
    )
    evaluate.add_argument("--patient", help="Patient id when the Bundle holds several")
    evaluate.add_argument(
        "--site-codes",
        type=_file_path,
        default=os.environ.get("NELM_CDS_SITE_CODES") or None,
        help="JSON file of local codes (default: $NELM_CDS_SITE_CODES)",
    )


def _add_seed(commands: Any) -> None:
    seed = commands.add_parser("seed", help="load the demo patients into a FHIR server")
    seed.add_argument(
        "--fhir-base", required=True, help="FHIR R4 base URL (https, or http on loopback)"
    )
    seed.add_argument(
        "--batch-size",
        type=_batch_size,
        default=50,
        help="entries per transaction (default 50; halved when the server refuses one)",
    )
    seed.add_argument(
        "--allow-http",
        action="store_true",
        help="allow plain http to a non-loopback host (a private network only)",
    )


def _add_cds_call(commands: Any) -> None:
    from service.cdsclient.options import add_parser

    add_parser(commands)


def _add_criteria(commands: Any) -> None:
    criteria = commands.add_parser(
        "criteria", help="print the criteria documentation generated from the criteria"
    )
    criteria.add_argument(
        "--markdown", action="store_true", required=True, help="as Markdown (docs/criteria.md)"
    )
    criteria.add_argument("--output", type=_file_path, help="write to this file instead of stdout")


def _add_probe(commands: Any) -> None:
    from service.probe.options import add_parser

    add_parser(commands, _iso_date)


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the HTTP service (gunicorn)")
    serve.add_argument("--host", default=None, help="default: $NELM_CDS_HOST or 127.0.0.1")
    serve.add_argument("--port", type=_port, default=None, help="default: $NELM_CDS_PORT or 8080")
    serve.add_argument("--workers", type=int, default=None, help="default: 2 x CPUs + 1, at most 8")


def _add_screening(commands: Any) -> None:
    from service.screening.command import add_commands

    add_commands(commands, _iso_date)


_COMMANDS: tuple[tuple[frozenset[str], Callable[[Any], None]], ...] = (
    (frozenset({"evaluate"}), _add_evaluate),
    (frozenset({"seed"}), _add_seed),
    (frozenset({"cds-call"}), _add_cds_call),
    (frozenset({"criteria"}), _add_criteria),
    (frozenset({"probe"}), _add_probe),
    (frozenset({"serve"}), _add_serve),
    (frozenset({"screen", "synth"}), _add_screening),
)
"""Each command's parser, in the order ``--help`` lists them, with the names it adds."""


def _parser(argv: Sequence[str]) -> _Parser:
    """Return the parser of the command ``argv`` names, or of all of them (for ``--help``,
    or a name that is no command). argparse makes several objects, and looks for message
    catalogues, for every option it adds: making only the one command's options is
    most of a millisecond per command off every ``evaluate`` (issue 12)."""
    parser = _Parser(prog="python -m service", description="NELM eligibility (CDS)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    named = argv[0] if argv else None
    adders = [add for names, add in _COMMANDS if named in names]
    for add in adders or [add for _, add in _COMMANDS]:
        add(commands)
    return parser


def _read_bundle(path: str) -> bytes:
    """Return the file's bytes. Paths stay strings on the ``evaluate`` path: pathlib (with
    urllib.parse and ipaddress) is 5 ms of a start where nothing else needs it (issue 12)."""
    try:
        with open(path, "rb") as file:
            if os.fstat(file.fileno()).st_size > MAX_BUNDLE_BYTES:
                raise _BadInputError(f"{path}: larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MiB")
            return file.read()
    except FileNotFoundError as exc:
        raise _BadInputError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise _BadInputError(f"{path}: is a directory") from exc
    except OSError as exc:
        raise _BadInputError(f"{path}: cannot be read ({exc.strerror})") from exc


def _evaluate(args: argparse.Namespace) -> str:
    terminology = load_terminology(args.site_codes)
    bundle = load_bundle_json(_read_bundle(args.bundle))
    at = args.at or datetime.now(UTC).date()
    result = evaluate_bundle(bundle, at, args.patient, terminology=terminology)
    return json.dumps(result, indent=2, ensure_ascii=False)


def _seed(base_url: str, *, token: str | None, allow_http: bool, batch_size: int) -> int:
    from service.fhir import FhirError  # imported late: evaluating needs no HTTP client
    from service.seed import SeedError, outcome_text, seed_demo_patients

    try:
        summary = seed_demo_patients(
            base_url,
            token=token,
            allow_http=allow_http,
            batch_size=batch_size,
        )
    except ValueError as exc:  # an unsafe or malformed base URL
        raise _BadInputError(str(exc)) from exc
    except SeedError as exc:
        print(f"error: seeding failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except FhirError as exc:
        reason = outcome_text(exc) if exc.outcome else ""
        print(f"error: seeding failed: {exc}{': ' + reason if reason else ''}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"seeded {len(summary.patients)} demo patients ({summary.resources} resources, "
        f"{summary.transactions} transactions) into {base_url}: {', '.join(summary.patients)}"
    )
    return 0


def _criteria_markdown(output: str | None) -> str | None:
    from service.reference import criteria_markdown, criteria_reference

    text = criteria_markdown(criteria_reference())
    if output is None:
        return text.rstrip("\n")
    try:
        with open(output, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        raise _BadInputError(f"{output}: cannot be written ({exc.strerror})") from exc
    return None


def _bad_input_errors() -> tuple[type[Exception], ...]:
    """Return the errors reported as bad input. ``SettingError`` counts only once its
    module is loaded (no setting can have failed before): importing the settings would
    bring in pydantic, which ``evaluate`` does not need and should not pay for."""
    errors: tuple[type[Exception], ...] = (_BadInputError, BundleError, SiteCodesError, ConfigError)
    readers = sys.modules.get("service.config.readers")
    return errors if readers is None else (*errors, readers.SettingError)


SETTINGS_COMMANDS = frozenset({"serve", "seed", "probe", "screen", "cds-call"})
"""The commands that read the service's settings (:mod:`service.config`), all of them,
once, before they start: a bad value is one line and exit status 2. ``evaluate``,
``criteria`` and ``synth`` read none (``evaluate``'s ``--site-codes`` defaults to
``$NELM_CDS_SITE_CODES``, a path taken as it is), so they start without pydantic."""


def _with_settings(args: argparse.Namespace) -> argparse.Namespace:
    """Put the settings on ``args`` (``args.settings``) and fill the options they default."""
    from pathlib import Path

    from service.config.loading import load_settings  # pydantic: only where needed

    settings = load_settings()
    args.settings = settings
    if getattr(args, "site_codes", False) is None and settings.SITE_CODES:
        args.site_codes = Path(settings.SITE_CODES)
    if args.command == "probe" and args.token is None and settings.FHIR_TOKEN is not None:
        args.token = settings.FHIR_TOKEN.get_secret_value()
    if args.command == "screen" and args.fhir_base is None:
        args.fhir_base = settings.FHIR_BASE_URL
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        arguments = sys.argv[1:] if argv is None else list(argv)
        args = _parser(arguments).parse_args(arguments)
        if args.command in SETTINGS_COMMANDS:
            args = _with_settings(args)
        if args.command in ("screen", "synth"):
            return int(args.run(args))
        if args.command == "seed":
            token = args.settings.FHIR_TOKEN
            return _seed(
                args.fhir_base,
                token=None if token is None else token.get_secret_value(),
                allow_http=args.allow_http,
                batch_size=args.batch_size,
            )
        if args.command == "probe":
            from service.probe.command import run as probe  # HTTP client: late

            return probe(args)
        if args.command == "cds-call":
            from service.cdsclient.command import run as cds_call  # HTTP and keys: late

            return cds_call(args)
        if args.command == "serve":
            from service.serve import serve  # imported late: gunicorn is not needed to evaluate

            serve(args.host, args.port, args.workers)
            return 0
        if args.command == "criteria":
            written = _criteria_markdown(args.output)
            if written is None:
                return 0
            output = written
        else:
            output = _evaluate(args)
    except Exception as exc:
        if not isinstance(exc, _bad_input_errors()):
            raise
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    sys.stdout.write(output + "\n")
    return 0
