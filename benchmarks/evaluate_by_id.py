"""Benchmark: evaluate a patient by id against a local FHIR server (sekmet-fhir).

    .venv/bin/python -m benchmarks.evaluate_by_id [--runs 60] [--delay-ms 20]

Starts sekmet-fhir on loopback, seeds the demo patients, then in one run measures,
for each round: each of the four FHIR queries the service makes, alone and one after
the other (the slowest of them is the floor a concurrent fetch can reach); and the
whole ``GET /api/patients/{id}/evaluation`` in-process (fetch + map + evaluate +
JSON). Prints medians and the service's added time over the slowest single query as
a ratio, first directly on loopback, then through a proxy that adds a fixed network
delay to every request. Target (issue 3): under 25 %.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.latency_proxy import latency_proxy
from service.app import create_app
from service.fhir import Allowlist, FhirClient
from service.fhir.queries import observation_code_param
from service.mappers import DEFAULT_TERMINOLOGY
from service.seed import seed_demo_patients
from tests.conftest import FHIR_SERVICE_SETTINGS
from tests.integration.sekmet import running_sekmet

PAGE = "200"


def timed(work: Callable[[], object]) -> float:
    """Return the seconds one call takes."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def measure(base_url: str, patient: str, runs: int) -> dict[str, float]:
    """Return median seconds of each query alone, the slowest, and the whole evaluation."""
    client = FhirClient(base_url, allowlist=Allowlist([base_url]))
    app = create_app({**FHIR_SERVICE_SETTINGS, "FHIR_BASE_URL": base_url}).test_client()
    codes = observation_code_param(DEFAULT_TERMINOLOGY) or ""
    queries: dict[str, Callable[[], object]] = {
        "Patient read": lambda: client.read("Patient", patient),
        "Observation search": lambda: client.search(
            "Observation", {"patient": patient, "code": codes, "_count": PAGE}
        ),
        "Condition search": lambda: client.search(
            "Condition", {"patient": patient, "_count": PAGE}
        ),
        "Procedure search": lambda: client.search(
            "Procedure", {"patient": patient, "_count": PAGE}
        ),
    }
    url = f"/api/patients/{patient}/evaluation?at=2026-11-22"

    def evaluate() -> None:
        response = app.get(url)
        if response.status_code != 200:
            raise SystemExit(f"evaluation failed: {response.status_code}")

    for _ in range(5):  # warm-up: connections, caches, imports
        evaluate()
        for query in queries.values():
            query()
    samples: dict[str, list[float]] = {name: [] for name in queries}
    samples.update({"slowest query": [], "4 queries in a row": [], "whole evaluation": []})
    for _ in range(runs):
        round_times = {name: timed(query) for name, query in queries.items()}
        for name, seconds in round_times.items():
            samples[name].append(seconds)
        samples["slowest query"].append(max(round_times.values()))
        samples["4 queries in a row"].append(sum(round_times.values()))
        samples["whole evaluation"].append(timed(evaluate))
    client.close()
    return {name: statistics.median(values) for name, values in samples.items()}


def report(title: str, medians: dict[str, float]) -> None:
    """Print one measurement and its ratio."""
    print(title)
    for name, seconds in medians.items():
        print(f"  {name:<20} median {seconds * 1000:7.2f} ms")
    added = medians["whole evaluation"] - medians["slowest query"]
    ratio = added / medians["slowest query"]
    print(f"  added over the slowest query: {added * 1000:.2f} ms = {ratio:.1%} (target < 25 %)")


def main() -> None:
    """Print the benchmark figures: direct on loopback, then behind a network delay."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--patient", default="demo-transplant")
    parser.add_argument(
        "--delay-ms",
        default="20,50",
        help="comma-separated per-request network delays to measure behind the proxy",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir, running_sekmet(Path(workdir)) as server:
        seed_demo_patients(server.base_url)
        direct = measure(server.base_url, args.patient, args.runs)
        origin = server.base_url.removesuffix("/fhir")
        delayed = {}
        for delay in (float(d) for d in args.delay_ms.split(",")):
            with latency_proxy(origin, delay / 1000) as proxied:
                delayed[delay] = measure(f"{proxied}/fhir", args.patient, args.runs)
    print(f"patient {args.patient}, {args.runs} rounds, one run, sekmet-fhir on 127.0.0.1")
    report("direct on loopback (no network latency; server and client CPU-bound):", direct)
    for delay, medians in delayed.items():
        report(f"through a loopback proxy adding {delay:g} ms per request:", medians)


if __name__ == "__main__":
    main()
