"""``python -m service probe``: run the checks and the survey, write the reports.

Exit status: 0 when every check passed or only warned; 1 when a check failed or the
server could not be reached (one line on stderr); 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from service import __version__
from service.fhir import Allowlist, BearerToken, FhirClient, FhirError
from service.mappers.codes import Terminology
from service.mappers.site_codes import SiteCodesError, load_terminology
from service.probe.checks import Check, capability_checks, search_checks
from service.probe.draft import draft_site_codes
from service.probe.inventory import unmapped_codes
from service.probe.render import render_html, render_text
from service.probe.report import build_report
from service.probe.sampling import Sample, fetch_records, find_patients, richest_record
from service.probe.usable import survey
from service.probe.writecheck import write_check

__all__ = ["run"]

REPORT_FILES = ("probe-report.txt", "probe-report.html", "probe-report.json")
DRAFT_FILE = "site-codes.draft.json"
WRITE_SKIPPED = (
    "not tried (opt-in): --write-check writes one RiskAssessment as entered-in-error, "
    "reads it back and deletes it; the CapabilityStatement check above says what the "
    "server declares"
)


class _BadArgumentsError(ValueError):
    """Options that cannot work; exit status 2."""


def _freshness(args: argparse.Namespace) -> int:
    value: Any = args.freshness_days
    if value is None:
        settings = getattr(args, "settings", None)  # NELM_CDS_LAB_FRESHNESS_DAYS, checked
        value = 90 if settings is None else settings.LAB_FRESHNESS_DAYS
    try:
        days = int(value)
    except ValueError as exc:
        raise _BadArgumentsError("--freshness-days must be a whole number") from exc
    if not 0 <= days <= 36_500:
        raise _BadArgumentsError("--freshness-days must be from 0 to 36500")
    return days


def _client(args: argparse.Namespace) -> FhirClient:
    base = args.fhir_base.rstrip("/")
    try:
        return FhirClient(
            base,
            allowlist=Allowlist([base], allow_http=args.allow_http),
            auth=BearerToken(args.token) if args.token else None,
            timeout=(3.05, args.timeout),
            max_pages=50,
        )
    except ValueError as exc:  # the URL is refused (http off loopback, credentials, ...)
        raise _BadArgumentsError(f"--fhir-base: {exc}") from exc


def _sample(args: argparse.Namespace, client: FhirClient, terminology: Terminology) -> Sample:
    if args.patient:
        sample = Sample()
        for patient in dict.fromkeys(args.patient):
            sample.patients.append(patient)
            sample.how[patient] = "given"
        return sample
    return find_patients(client, terminology, args.sample)


def _write(folder: Path, report: dict[str, Any], draft: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text, html, data = REPORT_FILES
    (folder / text).write_text(render_text(report), encoding="utf-8")
    (folder / html).write_text(render_html(report), encoding="utf-8")
    (folder / data).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    (folder / DRAFT_FILE).write_text(
        json.dumps(draft, indent=2, ensure_ascii=False) + "\n", "utf-8"
    )


def _probe(args: argparse.Namespace, out: TextIO) -> int:
    at = args.at or datetime.now(UTC).date()
    freshness = _freshness(args)
    try:
        terminology = load_terminology(args.site_codes)
    except SiteCodesError as exc:
        raise _BadArgumentsError(str(exc)) from exc
    with _client(args) as client:
        try:
            statement = client.capabilities()
        except FhirError as exc:
            print(
                f"error: the FHIR server did not answer its CapabilityStatement: {exc}",
                file=sys.stderr,
            )
            return 1
        capability = capability_checks(statement)
        try:
            sample = _sample(args, client, terminology)
        except FhirError as exc:
            sample = Sample()
            capability.append(Check("sampling", "fail", f"patients could not be searched: {exc}"))
        records = fetch_records(client, sample)
        readable = [p for p in sample.patients if p in records]
        searches = (
            search_checks(client, richest_record(records, readable), terminology)
            if readable
            else [Check("searches", "skipped", "no sampled patient to search for")]
        )
        if not args.write_check:
            write = [Check("RiskAssessment write", "skipped", WRITE_SKIPPED)]
        elif readable:
            write = write_check(client, readable[0])
        else:
            write = [Check("RiskAssessment write", "skipped", "no sampled patient to write for")]
    codes = unmapped_codes(records, terminology)
    source = f"{client.base_url} ({len(records)} patients, {at.isoformat()})"
    draft = draft_site_codes(codes, source=source)
    folder: Path = args.out
    report = build_report(
        header={
            "version": __version__,
            "fhirBase": client.base_url,
            "evaluationDate": at.isoformat(),
            "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        statement=statement,
        capability=capability,
        searches=searches,
        write=write,
        sample=sample,
        requested=len(args.patient) or args.sample,
        usages=survey(records, terminology, at, freshness),
        codes=codes,
        terminology=terminology,
        draft_path=str(folder / DRAFT_FILE),
    )
    try:
        _write(folder, report, draft)
    except OSError as exc:
        raise _BadArgumentsError(f"--out {folder}: cannot write ({exc.strerror})") from exc
    rendered = {"text": render_text, "html": render_html}.get(args.format)
    out.write(rendered(report) if rendered else json.dumps(report, indent=2, ensure_ascii=False))
    if args.format == "text":
        out.write(f"\nReports written to {folder}/ ({', '.join(REPORT_FILES)}, {DRAFT_FILE})\n")
    return 1 if report["probe"]["verdict"] == "fail" else 0


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``probe``; return the exit status."""
    try:
        return _probe(args, out or sys.stdout)
    except _BadArgumentsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
