"""Start sekmet-fhir 0.1.1 on loopback: for the integration tests and the benchmarks.

sekmet is a FastAPI/uvicorn FHIR server persisted in SQLite. It is configured by a
YAML file (``sekmet serve --config FILE``, or ``SEKMET_CONFIG``); the fixture writes
one into a temporary directory with: host 127.0.0.1 and a free port, ``base_url``
``http://127.0.0.1:PORT/fhir``, ``data_dir`` (and so the SQLite file) in the temporary
directory, the workflow simulator off, inbound auth ``none``, inbound validation
``warn`` (structurally odd scenario resources are stored, as an EHR would hold them)
and the traffic log off. It starts in about a second; the fixture waits for
``GET /fhir/metadata`` (at most 30 s) and stops the server at the end of the session
(terminate, then kill).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import requests

SEKMET_VERSION = "0.1.1"
STARTUP_TIMEOUT = 30.0
CONFIG = """\
base_url: {base_url}
host: 127.0.0.1
port: {port}
data_dir: {data_dir}
simulator:
  enabled: false
server_auth:
  types: [none]
validation:
  inbound: warn
log_inbound: false
"""


class SekmetError(RuntimeError):
    """sekmet is missing, or did not start."""


@dataclass(frozen=True)
class FhirServer:
    """A running sekmet server: its FHIR base URL and where its output goes."""

    base_url: str
    log_path: Path
    startup_seconds: float


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sekmet_command() -> list[str]:
    try:
        version = metadata.version("sekmet-fhir")
    except metadata.PackageNotFoundError as exc:
        raise SekmetError(
            f"sekmet-fhir is not installed: pip install 'sekmet-fhir=={SEKMET_VERSION}'"
        ) from exc
    if version != SEKMET_VERSION:
        raise SekmetError(f"the integration tests need sekmet-fhir {SEKMET_VERSION}, not {version}")
    script = Path(sys.executable).with_name("sekmet")
    found = str(script) if script.exists() else shutil.which("sekmet")
    if found is None:
        raise SekmetError("sekmet-fhir is installed but its 'sekmet' command is not on PATH")
    return [found, "serve"]


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SekmetError(f"sekmet exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if requests.get(f"{base_url}/metadata", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SekmetError(
        f"sekmet did not answer /metadata in {STARTUP_TIMEOUT} s:\n{log_path.read_text()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def running_sekmet(workdir: Path) -> Iterator[FhirServer]:
    """Run sekmet-fhir on 127.0.0.1 (free port, data in ``workdir``) until the block ends."""
    command = _sekmet_command()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}/fhir"
    config = workdir / "settings.yaml"
    config.write_text(CONFIG.format(base_url=base_url, port=port, data_dir=workdir / "data"))
    log_path = workdir / "sekmet.log"
    env = {**os.environ, "SEKMET_CONFIG": str(config)}
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--config", str(config)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_until_up(process, base_url, log_path)
        yield FhirServer(base_url, log_path, time.monotonic() - started)
    finally:
        _stop(process)
