"""The Spark engine (``--engine spark``): the same selection and evaluation on Apache Spark.

For regional registries that outgrow one machine: Spark reads the NDJSON files in
parallel (gzip by the ``.gz`` name), classifies each line with the same function as the
embedded engine (:func:`~service.screening.selection.classify_line`), groups the
candidates' resources by patient with a join and a shuffle, and evaluates each group
with the same :func:`~service.screening.evaluate.evaluate_group`. Results stream back to
the driver, which stores them like the embedded engine's, so every output is the same.

``pyspark`` is an optional extra (``pip install nelm-cds[spark]``) and needs Java 17 or
newer; it is imported only here, when this engine runs. ``master`` is ``local[*]`` by
default (every core of this machine) or any cluster URL (``spark://host:7077``,
``yarn``, ``k8s://…``): the executors then need this package installed, and the export
folder on storage they all read (HDFS, S3 or a shared mount).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from service.screening.embedded import EvaluationJob, portable
from service.screening.evaluate import Outcome, evaluate_group
from service.screening.ndjson import ExportFile
from service.screening.selection import MAX_EXAMPLES, Classified, Tally, classify_line

__all__ = ["SparkMissingError", "SparkRun", "run_spark"]

LOCAL_HEAP = "512m"
"""The JVM heap of a ``local`` run (driver and executor are one process; Spark refuses
to start with less than 450 MB)."""
LOCAL_PYTHON_WORKER = "128m"
"""What a Python worker of a ``local`` run holds while grouping before it spills to disk
(Spark's default, 512m per worker, let memory grow with the export)."""

Row = tuple[int, int, str, bytes]  # file rank, line number, file name, line


class SparkMissingError(RuntimeError):
    """pyspark (or Java) is not installed; the message says how to get it."""


@dataclass
class SparkRun:
    """What the Spark engine found (selection figures, bad input) and its outcomes."""

    selection: dict[str, Any]
    tally: Tally
    outcomes: Iterator[Outcome]
    stop: Callable[[], None]


def _session(master: str | None) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkMissingError(
            "the Spark engine needs pyspark: pip install 'nelm-cds[spark]' (and Java 17+)"
        ) from exc
    # Python workers run this interpreter (with this package and its dependencies)
    # unless the user chose one for a cluster.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    master = master or "local[*]"
    builder = (
        SparkSession.builder.master(master)
        .appName("nelm-cds-screen")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "ERROR")
    )
    if master.startswith("local"):  # stay on loopback: nothing listens on the network
        builder = (
            builder.config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            # One JVM does all the work here: a fixed heap keeps its memory flat (Spark
            # spills to local disk past it) instead of growing towards 1 GB with the export,
            # and the Python workers spill their grouping to disk past a small share too.
            .config("spark.driver.memory", LOCAL_HEAP)
            .config("spark.python.worker.memory", LOCAL_PYTHON_WORKER)
        )
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Java missing or the master unreachable: say so in one line
        raise SparkMissingError(
            f"Spark did not start ({type(exc).__name__}: is Java 17+ installed?)"
        ) from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


def _classify(rows: Iterable[Row], job: EvaluationJob) -> Iterator[tuple[Row, Classified]]:
    for row in rows:
        yield row, classify_line(row[3], job.terminology)


def _evaluate(
    groups: Iterable[tuple[str, Iterable[tuple[int, int, str]]]], job: EvaluationJob
) -> Iterator[str]:
    for patient, rows in groups:
        ordered = sorted(rows, key=lambda r: (-r[0], r[1]))  # Patient first, then export order
        outcome = evaluate_group(
            patient, [(r[0], r[2]) for r in ordered], job.at, job.terminology, job.config
        )
        yield json.dumps([outcome.patient, outcome.result, outcome.summary], ensure_ascii=False)


def _figures(part: Iterable[tuple[Row, Classified]]) -> Iterator[dict[str, Any]]:
    lines, by_type, problems = 0, Counter[str](), Counter[str]()
    examples: dict[str, list[tuple[int, int, str]]] = {}
    for row, line in part:
        lines += 1
        if line.kind is not None:
            by_type[line.kind] += 1
        if line.problem is not None:
            problems[line.problem] += 1
            places = examples.setdefault(line.problem, [])
            places.append((row[0], row[1], f"{row[2]}:{row[1]}"))
            if len(places) > 4 * MAX_EXAMPLES:
                places[:] = sorted(places)[:MAX_EXAMPLES]
    yield {"lines": lines, "byType": by_type, "problems": problems,
           "examples": {k: sorted(v)[:MAX_EXAMPLES] for k, v in examples.items()}}  # fmt: skip


def _merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    examples = dict(left["examples"])
    for kind, places in right["examples"].items():
        examples[kind] = sorted(examples.get(kind, []) + places)[:MAX_EXAMPLES]
    return {
        "lines": left["lines"] + right["lines"],
        "byType": left["byType"] + right["byType"],
        "problems": left["problems"] + right["problems"],
        "examples": examples,
    }


def _keys(row_line: tuple[Row, Classified]) -> list[tuple[str, str]]:
    line = row_line[1]
    if line.problem is not None or line.key is None:
        return []
    out = [("patient", line.key)] if line.kind == "Patient" else []
    if line.liver:
        out.append(("candidate", line.key))
    if line.net:
        out.append(("net", line.key))
    return out


def run_spark(files: list[ExportFile], job: EvaluationJob, master: str | None) -> SparkRun:
    """Select and group on Spark; return the figures and a stream of outcomes (call
    ``stop`` when the stream is consumed)."""
    session = _session(master)
    from pyspark import StorageLevel

    context = session.sparkContext
    job = EvaluationJob(job.at, portable(job.terminology), job.config)
    ranks = {f.name: rank for rank, f in enumerate(sorted(files, key=lambda f: f.name))}
    started = time.perf_counter()
    parts = []
    for export_file in files:
        rank, name = ranks[export_file.name], export_file.name
        lines = context.textFile(str(export_file.path), use_unicode=False).zipWithIndex()
        parts.append(lines.map(lambda pair, r=rank, n=name: (r, pair[1] + 1, n, pair[0])))
    rows = context.union(parts).filter(lambda row: row[3].strip() != b"")
    # Kept on local disk, not in memory, between the passes: memory stays flat whatever
    # the export's size (in memory, the whole export was held by the JVM).
    disk = StorageLevel.DISK_ONLY
    classified = rows.mapPartitions(lambda part: _classify(part, job)).persist(disk)
    # One pass for the figures and the bad input, one for the distinct patients.
    totals = classified.mapPartitions(_figures).reduce(_merge)
    keys = classified.flatMap(_keys).distinct().persist(disk)
    distinct = keys.map(lambda kv: kv[0]).countByValue()
    candidates = frozenset(
        keys.filter(lambda kv: kv[0] == "candidate").map(lambda kv: kv[1]).collect()
    )
    chosen = context.broadcast(candidates)
    groups = (
        classified.filter(lambda rc: rc[1].problem is None and rc[1].key in chosen.value)
        .map(lambda rc: (rc[1].key, (int(rc[1].kind == "Patient"), (rc[0][0] << 32) | rc[0][1],
                                     rc[0][3].decode("utf-8"))))
        .groupByKey()
    )  # fmt: skip
    tally = Tally()
    tally.counts.update(totals["problems"])
    tally.examples.update({k: [w for *_, w in v] for k, v in sorted(totals["examples"].items())})
    selection = {
        "lines": totals["lines"],
        "byType": dict(totals["byType"]),
        "kept": None,
        "seconds": round(time.perf_counter() - started, 3),
        "patients": int(distinct.get("patient", 0)),
        "candidates": len(candidates),
        "net": int(distinct.get("net", 0)),
    }
    outcomes_json = groups.mapPartitions(lambda part: _evaluate(part, job))

    def outcomes() -> Iterator[Outcome]:
        for text in outcomes_json.toLocalIterator():
            patient, result, summary = json.loads(text)
            yield Outcome(patient, result, summary)

    return SparkRun(selection, tally, outcomes(), session.stop)
