"""The production server's log: every line JSON (gunicorn's own included), and a start-up
warning written once per start, not once per worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.live_app import free_port


def test_serve_writes_json_lines_and_each_startup_warning_once(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "NELM_CDS_INSTANCE_PATH": str(tmp_path),
        "NELM_CDS_API_AUTH": "none",  # warns at every start: the line to count
    }
    env.pop("NELM_CDS_STARTUP_LOGGED", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port), "--workers", "3"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                        break
                except requests.RequestException:
                    time.sleep(0.2)
            time.sleep(1.5)  # let every worker boot
        finally:
            server.terminate()
            server.wait(timeout=20)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON
    loggers = {r["logger"] for r in records}
    assert "gunicorn.error" in loggers
    booted = [r for r in records if r["message"].startswith("Booting worker")]
    assert len(booted) == 3
    warnings = [r for r in records if "NELM_CDS_API_AUTH=none" in r["message"]]
    assert len(warnings) == 1
