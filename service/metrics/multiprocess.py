"""prometheus-client's multi-process mode for the gunicorn server.

Each gunicorn worker is a process with its own counters; in multi-process mode every
process writes its values to files in one folder (``PROMETHEUS_MULTIPROC_DIR``) and a
scrape, whichever worker answers it, sums them. The gunicorn master calls
:func:`prepare` before it builds the app (so before any metric is made), and
:func:`worker_exited` when a worker ends.

The folder is the operator's ``PROMETHEUS_MULTIPROC_DIR`` when set (emptied of metric
files at start), else a new private temporary folder for this server (removed when the
master exits): never a folder another running server writes to.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["ENV", "active_folder", "finished", "prepare", "worker_exited"]

ENV = "PROMETHEUS_MULTIPROC_DIR"
_OWNED = "NELM_CDS_METRICS_OWNED_DIR"
"""Set (to the folder) when the service made the folder itself and must remove it."""


def active_folder() -> Path | None:
    """Return the multi-process folder of this process, or ``None`` (one process)."""
    value = os.environ.get(ENV) or os.environ.get(ENV.lower())
    return Path(value) if value else None


_prepared: list[Path] = []


def prepare() -> Path:
    """Set up the folder for this server and put it in the environment the workers
    inherit; return it. Call before any metric is made; later calls return the same."""
    if _prepared:
        return _prepared[0]
    folder = active_folder()
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="nelm-cds-metrics-"))
        os.environ[_OWNED] = str(folder)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):  # a previous run's values are not this one's
            stale.unlink(missing_ok=True)
    os.environ[ENV] = str(folder)
    _switch_to_multiprocess()
    _prepared.append(folder)
    return folder


def _switch_to_multiprocess() -> None:
    # prometheus-client chooses the value class when it is first imported; the master may
    # have imported it before the folder existed. Metrics made from now on use the files.
    from prometheus_client import values

    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


def worker_exited(pid: int) -> None:
    """Do prometheus-client's bookkeeping for a worker that ended (gunicorn's
    ``child_exit``)."""
    folder = active_folder()
    if folder is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]


def finished() -> None:
    """Remove the folder if the service made it (gunicorn's ``on_exit``)."""
    owned = os.environ.pop(_OWNED, None)
    if owned:
        shutil.rmtree(owned, ignore_errors=True)
