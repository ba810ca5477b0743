"""Helpers for the screening tests: small exports, and the CLI on one patient's Bundle."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

from service.cli import main as cli_main
from service.screening.ndjson import find_export_files, read_lines
from service.screening.selection import patient_key

AT = date(2026, 11, 22)


def write_ndjson(path: Path, resources: list[dict[str, Any]]) -> Path:
    """Write resources as NDJSON (one per line)."""
    path.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    return path


def canonical_bundles(folder: Path) -> dict[str, dict[str, Any]]:
    """Return each patient's Bundle as the screen documents it: the Patient first, then
    the patient's other resources in file-name and line order."""
    patients: dict[str, list[dict[str, Any]]] = {}
    others: dict[str, list[dict[str, Any]]] = {}
    for export_file in find_export_files(folder):
        for _, raw in read_lines(export_file.path):
            try:
                resource = json.loads(raw or b"")
            except ValueError:
                continue
            kind = resource.get("resourceType")
            if kind == "Patient":
                patients.setdefault(resource["id"], []).append(resource)
            elif kind in ("Observation", "Condition", "Procedure"):
                key, _ = patient_key(resource)
                if key is not None:
                    others.setdefault(key, []).append(resource)
    return {
        pid: {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in rows + others.get(pid, [])],
        }
        for pid, rows in patients.items()
    }


def cli_result(
    bundle: dict[str, Any], tmp: Path, at: date = AT, site_codes: Path | None = None
) -> Any:
    """Run ``python -m service evaluate`` (in process) on a Bundle; return its JSON."""
    path = tmp / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    out = io.StringIO()
    args = ["evaluate", "--bundle", str(path), "--at", at.isoformat()]
    if site_codes is not None:
        args += ["--site-codes", str(site_codes)]
    with contextlib.redirect_stdout(out):
        status = cli_main(args)
    assert status == 0
    return json.loads(out.getvalue())


def results_by_patient(out: Path) -> dict[str, Any]:
    """Return results.ndjson as {patient reference: result}."""
    lines = (out / "results.ndjson").read_text(encoding="utf-8").splitlines()
    return {r["patient"]: r for r in map(json.loads, lines)}
