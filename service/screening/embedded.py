"""The embedded engine: evaluate the grouped candidates on every core of one machine.

Groups are read from the store in patient order and sent in chunks to worker
processes (``spawn``, so it behaves the same on Linux, macOS and Windows); at most a
few chunks per worker are in flight, so memory stays flat whatever the number of
candidates. ``workers=1`` evaluates in this process. Results are stored as chunks
finish, so a run that stops keeps what it has done.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import date
from types import MappingProxyType
from typing import Any

from service import records
from service.criteria import EvaluationConfig
from service.mappers import Terminology
from service.screening.evaluate import Outcome, evaluate_group
from service.screening.store import Store

__all__ = ["EvaluationJob", "default_workers", "portable", "run_embedded", "store_outcomes"]

CHUNK = 25
IN_FLIGHT_PER_WORKER = 3
Group = tuple[str, list[tuple[int, str]]]


@dataclass(frozen=True)
class EvaluationJob:
    """What every worker needs: the evaluation date, code sets and settings."""

    at: date
    terminology: Terminology
    config: EvaluationConfig


_JOB: EvaluationJob | None = None


def portable(terminology: Terminology) -> Terminology:
    """Return ``terminology`` with plain dicts for its read-only mappings, so it can be
    sent to worker processes (a ``MappingProxyType`` cannot be pickled)."""
    changes = {
        name: dict(value)
        for name in terminology.__struct_fields__
        if isinstance(value := getattr(terminology, name), MappingProxyType)
    }
    return records.replace(terminology, **changes)


def _init_worker(job: EvaluationJob) -> None:
    global _JOB  # noqa: PLW0603 - one job per worker process
    _JOB = job


def _evaluate_chunk(chunk: Sequence[Group]) -> list[Outcome]:
    job = _JOB
    if job is None:
        raise RuntimeError("worker not initialised")
    return [evaluate_group(pid, group, job.at, job.terminology, job.config) for pid, group in chunk]


def default_workers() -> int:
    """Return the number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _chunks(groups: Iterator[Group], size: int) -> Iterator[list[Group]]:
    chunk: list[Group] = []
    for group in groups:
        chunk.append(group)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def store_outcomes(store: Store, outcomes: Sequence[Outcome]) -> None:
    """Store finished outcomes (results and summaries) in one transaction."""
    store.add_results(
        (o.patient, o.result or "", json.dumps(o.summary, ensure_ascii=False)) for o in outcomes
    )


def run_embedded(
    store: Store,
    job: EvaluationJob,
    *,
    workers: int,
    on_done: Callable[[int], Any] = lambda n: None,
) -> None:
    """Evaluate every pending candidate of ``store``; call ``on_done(n)`` as ``n`` more
    patients finish."""
    chunks = _chunks(store.pending_groups(), CHUNK)
    if workers <= 1:
        _init_worker(job)
        for chunk in chunks:
            outcomes = _evaluate_chunk(chunk)
            store_outcomes(store, outcomes)
            on_done(len(outcomes))
        return
    job = replace(job, terminology=portable(job.terminology))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(job,)
    ) as pool:
        pending: set[Future[list[Outcome]]] = set()
        limit = workers * IN_FLIGHT_PER_WORKER
        for chunk in chunks:
            pending.add(pool.submit(_evaluate_chunk, chunk))
            if len(pending) >= limit:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    outcomes = future.result()
                    store_outcomes(store, outcomes)
                    on_done(len(outcomes))
        for future in pending:
            outcomes = future.result()
            store_outcomes(store, outcomes)
            on_done(len(outcomes))
