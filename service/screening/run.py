"""One screening run: select and group, evaluate, write the outputs; resumable.

Outputs in the output folder: ``results.ndjson`` (one evaluation result per candidate,
by patient id), ``worklist.csv``, ``report.html``, ``report.pdf`` and ``summary.json``
(the figures: counts, bad input, speed). The run's state is kept in
``.screen-state.sqlite3`` beside them: run the same command again after a stop and it
carries on (grouping is redone only if it had not finished; finished patients are not
evaluated again). A state left by a run on other input, another date or other codes is
refused unless ``fresh`` is set.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from service import __version__
from service.criteria import EvaluationConfig
from service.mappers import Terminology
from service.screening.embedded import (
    EvaluationJob,
    default_workers,
    run_embedded,
    store_outcomes,
)
from service.screening.evaluate import Outcome
from service.screening.ndjson import ExportFile, find_export_files
from service.screening.outputs import write_outputs
from service.screening.progress import Progress
from service.screening.selection import SelectionStats, Tally, select
from service.screening.store import STATE_FILE, Store
from service.screening.writeback import write_back
from service.sources import PatientSource

__all__ = ["ScreenError", "ScreenOptions", "ScreenSummary", "screen_folder"]


class ScreenError(ValueError):
    """The run cannot start (bad folder, a state from another run); the message says why."""


@dataclass(frozen=True)
class ScreenOptions:
    """What a run needs besides its input folder."""

    out: Path
    at: date
    terminology: Terminology
    config: EvaluationConfig = field(default_factory=EvaluationConfig)
    site_codes_digest: str = ""
    workers: int = 0
    fresh: bool = False
    engine: str = "embedded"
    spark_master: str | None = None
    write_back: PatientSource | None = None


@dataclass(frozen=True)
class ScreenSummary:
    """What a run did (also written to ``summary.json``)."""

    figures: dict[str, Any]
    tally: Tally


def _fingerprint(files: list[ExportFile], options: ScreenOptions) -> str:
    digest = hashlib.sha256()
    for export_file in files:
        stat = export_file.path.stat()
        digest.update(f"{export_file.name}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    extra = (options.at.isoformat(), options.site_codes_digest, __version__, repr(options.config))
    digest.update("|".join(extra).encode())
    return digest.hexdigest()


def _open_state(out: Path, fingerprint: str, fresh: bool) -> Store:
    store = Store(out / STATE_FILE)
    known = store.get_meta("fingerprint")
    if known is None or fresh:
        store.reset()
        store.set_meta("fingerprint", fingerprint)
    elif known != fingerprint:
        store.close()
        raise ScreenError(
            f"{out} holds a screening run of other input, date or codes; "
            "choose another output folder or pass --fresh to start over"
        )
    return store


def screen_folder(
    folder: Path, options: ScreenOptions, *, log: TextIO | None = None, tty: bool | None = None
) -> ScreenSummary:
    """Screen the Bulk export in ``folder``; raises :class:`ScreenError` for a bad start."""
    stream = log or sys.stderr
    try:
        files = find_export_files(folder)
    except OSError as exc:
        raise ScreenError(str(exc)) from exc
    if not files:
        raise ScreenError(f"{folder}: no NDJSON files (*.ndjson, *.ndjson.gz)")
    options.out.mkdir(parents=True, exist_ok=True)
    store = _open_state(options.out, _fingerprint(files, options), options.fresh)
    with store:
        if options.engine == "spark":
            figures, tally = _spark(files, store, options, stream, tty)
        elif options.engine == "embedded":
            figures, tally = _embedded_run(files, store, options, stream, tty)
        else:
            raise ScreenError(f"unknown engine {options.engine!r}")
        if options.write_back is not None:
            stream.write("writing RiskAssessments back\n")
            figures["writeBack"] = write_back(store, options.write_back)
        write_outputs(store, options.out, options.at, figures, tally)
        return ScreenSummary(figures, tally)


def screen_export(
    config: Mapping[str, Any],
    level: str,
    group_id: str | None,
    options: ScreenOptions,
    *,
    type_filter_on: bool = True,
    max_wait: float = 6 * 3600.0,
    log: TextIO | None = None,
    tty: bool | None = None,
) -> ScreenSummary:
    """Run a live ``$export`` from ``config``'s FHIR server (allowlist and auth from the
    same settings as every FHIR call) into ``OUT/export``, then screen it."""
    from service.fhir.bulk import BulkExportClient
    from service.screening.live import export_request, export_to_folder, exported_files
    from service.settings import allowlist_from, fhir_auth, fhir_timeouts, text_setting

    stream = log or sys.stderr
    base = text_setting(config, "FHIR_BASE_URL")
    if base is None:
        raise ScreenError("a live export needs the FHIR base URL")
    timeout = fhir_timeouts(config)
    request = export_request(level, group_id, options.terminology, type_filter_on=type_filter_on)
    client = BulkExportClient(
        base,
        allowlist=allowlist_from(config),
        auth=fhir_auth(config, timeout),
        timeout=timeout,
        max_wait=max_wait,
    )
    folder = options.out / "export"
    with client:
        export_to_folder(client, request, folder, stream, fresh=options.fresh)
    if not exported_files(folder):
        hint = (
            "; if it cannot filter Observation by code, try --no-type-filter"
            if type_filter_on
            else ""
        )
        raise ScreenError(
            "the server's export holds no files (an unknown or empty Group, or no data of "
            f"the types asked for{hint})"
        )
    return screen_folder(folder, options, log=stream, tty=tty)


def _embedded_run(
    files: list[ExportFile], store: Store, options: ScreenOptions, stream: TextIO, tty: bool | None
) -> tuple[dict[str, Any], Tally]:
    tally = Tally.from_json(store.get_meta("tally"))
    selection = store.get_meta("selection")
    if selection is None:
        stream.write(f"selecting candidates from {len(files)} files\n")
        store.reset_grouping()
        tally = Tally()
        stats = select(files, store, options.terminology, tally)
        selection = {
            **stats.to_json(),
            "patients": store.count("patients"),
            "candidates": store.count("candidates"),
            "net": store.net_count(),
        }
        store.set_meta("tally", tally.to_json())
        store.set_meta("selection", selection)
    else:
        stream.write("resuming: candidates already selected\n")
    job = EvaluationJob(options.at, options.terminology, options.config)
    workers = options.workers or default_workers()
    progress = Progress(store.pending_count(), stream, tty=tty)
    started = time.perf_counter()
    run_embedded(store, job, workers=workers, on_done=progress.advance)
    progress.finish()
    figures = {
        "selection": selection,
        "evaluation": _evaluation(progress, time.perf_counter() - started, workers, "embedded"),
    }
    return figures, tally


def _spark(
    files: list[ExportFile], store: Store, options: ScreenOptions, stream: TextIO, tty: bool | None
) -> tuple[dict[str, Any], Tally]:
    """Run on Spark: it selects, groups and evaluates; results are stored as usual (a
    Spark run is not resumed part-way: it starts over)."""
    from service.screening.spark import SparkMissingError, run_spark

    store.reset()
    store.set_meta("fingerprint", _fingerprint(files, options))
    stream.write(f"starting Spark ({options.spark_master or 'local[*]'})\n")
    job = EvaluationJob(options.at, options.terminology, options.config)
    try:
        run = run_spark(files, job, options.spark_master)
    except SparkMissingError as exc:
        raise ScreenError(str(exc)) from exc
    progress = Progress(run.selection["candidates"], stream, tty=tty)
    started = time.perf_counter()
    try:
        batch: list[Outcome] = []
        for outcome in run.outcomes:
            batch.append(outcome)
            if len(batch) == 100:
                store_outcomes(store, batch)
                progress.advance(len(batch))
                batch = []
        store_outcomes(store, batch)
        progress.advance(len(batch))
    finally:
        run.stop()
    progress.finish()
    store.set_meta("tally", run.tally.to_json())
    store.set_meta("selection", run.selection)
    figures = {
        "selection": run.selection,
        "evaluation": _evaluation(progress, time.perf_counter() - started, 0, "spark"),
    }
    return figures, run.tally


def _evaluation(progress: Progress, seconds: float, workers: int, engine: str) -> dict[str, Any]:
    return {
        "evaluated": progress.done,
        "seconds": round(seconds, 3),
        "patientsPerSecond": round(progress.done / seconds, 1) if seconds > 0 else None,
        "workers": workers,
        "engine": engine,
    }


def selection_rate(stats: SelectionStats) -> float | None:
    """Return resources read per second during selection."""
    return stats.lines / stats.seconds if stats.seconds > 0 else None
