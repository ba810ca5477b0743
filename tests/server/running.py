"""Run the service as production does: gunicorn with ``gunicorn.conf.py`` (the default
number of workers, gthread) on a free loopback port, configured by environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from service.serve import APP_FACTORY, default_workers
from tests.live_app import free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
STARTUP_SECONDS = 60.0


@dataclass(frozen=True)
class RunningServer:
    """A gunicorn server: its base URL, process and where its output goes."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def gunicorn_command() -> list[str]:
    return [GUNICORN, "-c", "gunicorn.conf.py", APP_FACTORY]


def server_env(folder: Path, port: int, settings: dict[str, str]) -> dict[str, str]:
    """The environment of a server whose files all live in ``folder``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("NELM_CDS_") and key != "XDG_RUNTIME_DIR"
    }
    env.update(
        {
            "HOME": str(folder),
            "NELM_CDS_HOST": "127.0.0.1",
            "NELM_CDS_PORT": str(port),
            "NELM_CDS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "NELM_CDS_INSTANCE_PATH": str(folder / "instance"),
            **settings,
        }
    )
    return env


@contextmanager
def running_gunicorn(
    folder: Path, *, port: int | None = None, **settings: str
) -> Iterator[RunningServer]:
    """Start the production server with ``settings`` (``NELM_CDS_...`` names) on ``port``
    (default: a free one) and wait for ``/healthz`` and every worker; stop it (TERM, then
    KILL) when the block ends."""
    port = port or free_port()
    log_path = folder / f"gunicorn-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            gunicorn_command(),
            cwd=ROOT,
            env=server_env(folder, port, settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{server.log()}")
            try:
                if requests.get(f"{server.base_url}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer /healthz:\n{server.log()}")
            time.sleep(0.1)
        _wait_for_every_worker(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for_every_worker(server: RunningServer) -> None:
    """Wait until every worker has built its app (each logs its CDS token settings once;
    the master's configuration check logs them too)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while server.log().count("CDS Hooks tokens:") < default_workers() + 1:
        if time.monotonic() > deadline:
            raise RuntimeError(f"not every worker started:\n{server.log()}")
        time.sleep(0.1)
