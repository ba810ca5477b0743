"""Benchmark: CDS Hooks calls with full prefetch, over HTTP, through gunicorn, JWT on.

    .venv/bin/python -m benchmarks.hook_latency [--requests 1000] [--concurrency 4]

Starts the service under gunicorn (the production settings of ``service.serve``) on
127.0.0.1, trusting a freshly generated ES384 key, then sends ``patient-view`` calls
for a demo patient with every prefetch key filled (no FHIR server is called). Each
call carries its own signed JWT (a fresh ``jti``: replays are refused), so every call
pays the full signature, claims and replay check. Prints p50/p95/p99 latency and
requests per second. Target (issue 4): p95 under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from service.demo_store import DemoStore
from tests.cdshooks.jwt_factory import jwks, new_ec_key, sign

ISSUER = "https://ehr.example.org"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hook_body(patient_id: str) -> dict[str, Any]:
    """Return a patient-view request with all four prefetch keys from the demo Bundle."""
    bundle = DemoStore.load().bundles[patient_id]
    resources = [entry["resource"] for entry in bundle["entry"]]

    def searchset(resource_type: str) -> dict[str, Any]:
        found = [r for r in resources if r["resourceType"] == resource_type]
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [{"resource": r} for r in found],
        }

    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/1", "patientId": patient_id},
        "prefetch": {
            "patient": next(r for r in resources if r["resourceType"] == "Patient"),
            "observations": searchset("Observation"),
            "conditions": searchset("Condition"),
            "procedures": searchset("Procedure"),
        },
    }


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    """Wait for /healthz (at most 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited early")
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not answer /healthz in 30 s")


def main() -> None:
    """Print the benchmark figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--patient", default="demo-transplant")
    parser.add_argument("--workers", type=int, default=0, help="default: production rule")
    args = parser.parse_args()
    key = new_ec_key("bench-1")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    audience = f"{base}/cds-services/nelm-eligibility"
    env = {
        **os.environ,
        "NELM_CDS_HOST": "127.0.0.1",
        "NELM_CDS_PORT": str(port),
        "NELM_CDS_PUBLIC_BASE_URL": base,
        "NELM_CDS_CDS_ISSUERS": json.dumps({ISSUER: {"jwks": jwks(key)}}),
        "NELM_CDS_LOG_LEVEL": "WARNING",
    }
    if args.workers:
        env["NELM_CDS_WORKERS"] = str(args.workers)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "-c", "gunicorn.conf.py", "service.app:create_app()"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(base, process)
        body = json.dumps(hook_body(args.patient), default=float)  # demo values are Decimals
        tokens = [sign(key, iss=ISSUER, aud=audience) for _ in range(args.requests + 50)]
        local = threading.local()  # one keep-alive session per client thread

        def call(token: str) -> float:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            session: requests.Session = local.session
            started = time.perf_counter()
            response = session.post(
                audience,
                data=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=10,
            )
            elapsed = time.perf_counter() - started
            if response.status_code != 200 or len(response.json()["cards"]) != 1:
                raise SystemExit(f"unexpected answer {response.status_code}: {response.text[:200]}")
            return elapsed

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(call, tokens[:50]))  # warm-up
            started = time.perf_counter()
            latencies = sorted(pool.map(call, tokens[50:]))
            wall = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=15)

    def percentile(fraction: float) -> float:
        return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000

    print(
        f"{args.requests} patient-view calls, full prefetch ({args.patient}), ES384 JWT each, "
        f"concurrency {args.concurrency}, gunicorn on 127.0.0.1 ({os.cpu_count()} CPUs)"
    )
    print(
        f"p50 {percentile(0.50):.1f} ms, p95 {percentile(0.95):.1f} ms, "
        f"p99 {percentile(0.99):.1f} ms, mean {statistics.mean(latencies) * 1000:.1f} ms"
    )
    print(f"throughput {args.requests / wall:.0f} requests/s; target p95 < 50 ms")


if __name__ == "__main__":
    main()
