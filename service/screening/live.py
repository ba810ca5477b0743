"""A live ``$export`` into the run's folder, resumable, then screened like any export.

Only what the criteria read is asked for: ``_type=Patient,Condition,Observation,
Procedure`` and, unless turned off, ``_typeFilter=Observation?code=<the codes the
mappers read>`` (the same code list the per-patient FHIR client searches with; site
codes included). Some servers cannot filter by code and then answer with an empty
export instead of an error (the SMART reference server does): turn the filter off for
them (``type_filter=False``).

The folder keeps ``export-state.json``: the status URL once the export is started, then
the manifest and each file downloaded. A run that stops goes on where it was: polling
the same export, or downloading the files still missing. Files are named
``0001.Observation.ndjson`` (the manifest's order and type); the server's error files
``0001.OperationOutcome.ndjson``, whose issues the selection counts as bad input.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO, cast

from service.fhir.bulk import (
    BulkExportClient,
    ExportRequest,
    Level,
    Manifest,
    ManifestFile,
    type_filter,
)
from service.fhir.queries import observation_code_param
from service.mappers import Terminology

__all__ = ["EXPORT_TYPES", "export_request", "export_to_folder", "exported_files"]

EXPORT_TYPES = ("Patient", "Condition", "Observation", "Procedure")
STATE = "export-state.json"


def export_request(
    level: str, group_id: str | None, terminology: Terminology, *, type_filter_on: bool = True
) -> ExportRequest:
    """Return the export request for ``level`` (``system``, ``patient``, ``group``)."""
    if level not in ("system", "patient", "group"):
        raise ValueError(f"unknown export level {level!r}")
    filters: tuple[str, ...] = ()
    codes = observation_code_param(terminology)
    if type_filter_on and codes is not None:
        filters = (type_filter("Observation", [("code", codes)]),)
    return ExportRequest(cast(Level, level), group_id, EXPORT_TYPES, filters)


def _load(folder: Path) -> dict[str, Any]:
    try:
        state = json.loads((folder / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def exported_files(folder: Path) -> int:
    """Return how many data files (error files aside) the manifest of the export in
    ``folder`` listed."""
    manifest = _load(folder).get("manifest")
    return len(manifest.get("output") or []) if isinstance(manifest, dict) else 0


def _save(folder: Path, state: dict[str, Any]) -> None:
    temporary = folder / f".{STATE}.partial"
    temporary.write_text(json.dumps(state, indent=2), encoding="utf-8")
    os.replace(temporary, folder / STATE)


def _files(manifest: dict[str, Any]) -> list[tuple[str, ManifestFile]]:
    named = []
    for index, item in enumerate(manifest["output"], start=1):
        named.append((f"{index:04d}.{item['type']}.ndjson", ManifestFile(**item)))
    for index, item in enumerate(manifest["errors"], start=1):
        named.append((f"{index:04d}.OperationOutcome.ndjson", ManifestFile(**item)))
    return named


def export_to_folder(
    client: BulkExportClient,
    request: ExportRequest,
    folder: Path,
    log: TextIO,
    *,
    fresh: bool = False,
) -> Manifest | None:
    """Run (or resume) the export into ``folder``; return the manifest when this call
    got it from the server, ``None`` when an earlier run already had it."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {} if fresh else _load(folder)
    request_key = json.dumps([client.base_url, request.path(), request.params()])
    if state.get("request") != request_key:
        for old in folder.glob("*.ndjson"):
            old.unlink()
        state = {"request": request_key}
    got: Manifest | None = None
    if "manifest" not in state:
        if "status" not in state:
            state["status"] = client.kick_off(request)
            _save(folder, state)
            log.write("export started; waiting for the server\n")
        else:
            log.write("resuming the export started earlier\n")

        def show(progress: Any) -> None:
            said = f" ({progress.progress})" if progress.progress else ""
            log.write(f"export in progress{said}; next check in {progress.wait:.0f} s\n")
            log.flush()

        got = client.wait(state["status"], show)
        state["manifest"] = {
            "transactionTime": got.transaction_time,
            "requiresAccessToken": got.requires_access_token,
            "output": [vars(f) for f in got.output],
            "errors": [vars(f) for f in got.errors],
        }
        state["done"] = []
        _save(folder, state)
    manifest = state["manifest"]
    files = _files(manifest)
    log.write(f"export ready: {len(files)} files\n")
    for name, item in files:
        if name in state["done"]:
            continue
        size = client.download(
            item, folder / f".{name}.partial", with_token=manifest["requiresAccessToken"]
        )
        os.replace(folder / f".{name}.partial", folder / name)
        state["done"].append(name)
        _save(folder, state)
        log.write(f"downloaded {name} ({size:,} bytes)\n")
    if not state.get("deleted"):
        client.delete(state["status"])
        state["deleted"] = True
        _save(folder, state)
    return got
