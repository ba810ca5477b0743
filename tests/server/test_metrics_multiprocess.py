"""/metrics under the production server (gunicorn, several workers): whichever worker
answers a scrape, it reports the requests of all of them; a worker that dies keeps its
counts; the operator's PROMETHEUS_MULTIPROC_DIR is emptied at start. Also: a start-up
warning is written once, not once per worker."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import requests

from service.serve import default_workers
from tests.metrics.scrape import sample
from tests.server.running import RunningServer, running_gunicorn

HEALTHZ = {"method": "GET", "route": "/healthz", "status": "200"}


def healthz_count(server: RunningServer) -> float:
    response = requests.get(f"{server.base_url}/metrics", timeout=5)
    assert response.status_code == 200
    return sample(response.text, "nelm_http_requests_total", **HEALTHZ)


def workers_of(server: RunningServer) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.process.pid:
            children.append(int(stat.parent.name))
    return children


def test_every_scrape_sums_the_requests_of_all_workers(tmp_path: Path) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    stale = folder / "counter_999999.db"
    stale.write_bytes(b"left by an earlier run")
    with running_gunicorn(
        tmp_path, PROMETHEUS_MULTIPROC_DIR=str(folder), NELM_CDS_API_AUTH="none"
    ) as server:
        assert not stale.exists()
        assert len(workers_of(server)) == default_workers()
        started = healthz_count(server)
        for _ in range(60):
            assert requests.get(f"{server.base_url}/healthz", timeout=5).ok
        counts = [healthz_count(server) - started for _ in range(2 * default_workers())]
        assert counts == [60] * len(counts)
        assert len(list(folder.glob("counter_*.db"))) > 1  # more than one worker counted

        victim = workers_of(server)[0]
        os.kill(victim, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while victim in workers_of(server) or len(workers_of(server)) < default_workers():
            assert time.monotonic() < deadline, "the worker was not replaced"
            time.sleep(0.2)
        assert [healthz_count(server) - started for _ in range(default_workers())] == [60] * (
            default_workers()
        )
        log = server.log()
    records = [json.loads(line) for line in log.splitlines() if line.strip()]
    warnings = [r for r in records if "NELM_CDS_API_AUTH=none" in r["message"]]
    assert len(warnings) == 1  # once per start, not per worker (nor per replaced worker)


def test_a_metrics_folder_the_server_made_is_removed_when_it_stops(tmp_path: Path) -> None:
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("nelm-cds-metrics-*"))
    with running_gunicorn(tmp_path) as server:
        made = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("nelm-cds-metrics-*")) - before
        assert len(made) == 1
        assert healthz_count(server) >= 1
    assert not made.pop().exists()
