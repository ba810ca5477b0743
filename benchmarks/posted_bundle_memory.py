"""Benchmark: one worker's peak memory under four concurrent maximum-size posted Bundles.

    .venv/bin/python -m benchmarks.posted_bundle_memory [--bytes N] [--entries N]

Starts the production server (gunicorn, ``gunicorn.conf.py``) with ONE worker, so all
four requests land on it, and posts four Bundles at once to ``/api/evaluate``, each
just under ``NELM_CDS_MAX_BUNDLE_BYTES`` (10 MiB) and ``NELM_CDS_MAX_BUNDLE_ENTRIES``
(10,000). Every Bundle is distinct (cold data: ids and values differ), in three shapes:

- **realistic**: 10,000 Observations (labs with narrative text);
- **hostile**: as many tiny JSON objects as the limits allow (``[{},{},...]`` inside the
  resources: the shape that costs the most memory per byte once parsed);
- **costly**: bilirubin Observations that fail validation, each just under the
  1,000-element cap with extensions (the shape that costs the most validation work);
- **too large**: 11 MiB, refused with 413 before it is read.

For each shape a fresh server is started; the worker's peak resident memory (``VmHWM``
in ``/proc``) is printed with its idle size, the statuses and the answer times.
Target (issue 9): peak under 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from benchmarks.hook_latency import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
LOINC = "http://loinc.org"


def _patient(tag: str) -> dict[str, Any]:
    return {"resource": {"resourceType": "Patient", "id": f"p-{tag}", "birthDate": "1970-01-01"}}


def realistic(tag: str, max_bytes: int, max_entries: int) -> bytes:
    """Observations with narrative text, as many as fit (distinct per ``tag``)."""
    entries = [_patient(tag)]
    size = 200
    number = 0
    while len(entries) < max_entries:
        resource = {
            "resourceType": "Observation",
            "id": f"o-{tag}-{number}",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "1975-2"}]},
            "subject": {"reference": f"Patient/p-{tag}"},
            "effectiveDateTime": f"20{10 + number % 15}-0{1 + number % 9}-1{number % 9}",
            "valueQuantity": {
                "value": 0.3 + (number % 97) / 10,
                "unit": "mg/dL",
                "system": "http://unitsofmeasure.org",
                "code": "mg/dL",
            },
            "text": {"status": "generated", "div": f"<div>{tag} {number} " + "x" * 700 + "</div>"},
        }
        encoded = len(json.dumps({"resource": resource})) + 2
        if size + encoded > max_bytes:
            break
        entries.append({"resource": resource})
        size += encoded
        number += 1
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def hostile(tag: str, max_bytes: int, max_entries: int) -> bytes:
    """Resources stuffed with empty objects up to the byte limit (distinct per ``tag``)."""
    per_entry = max(1, (max_bytes - 500) // max_entries)
    stuffing = max(1, (per_entry - 80) // 3)
    chunks = [json.dumps(_patient(tag))]
    budget = max_bytes - 200 - len(chunks[0])
    number = 0
    while len(chunks) < max_entries:
        head = f'{{"resource":{{"resourceType":"Basic","id":"b-{tag}-{number}","x":['
        body = ",".join(["{}"] * stuffing)
        chunk = head + body + "]}}"
        if len(chunk) + 1 > budget:
            break
        chunks.append(chunk)
        budget -= len(chunk) + 1
        number += 1
    text = '{"resourceType":"Bundle","type":"collection","entry":[' + ",".join(chunks) + "]}"
    return text.encode()


def costly(tag: str, max_bytes: int, max_entries: int) -> bytes:
    """Invalid bilirubin Observations of ~990 elements each (distinct per ``tag``)."""
    stuffing = ",".join(['{"url":"u"}'] * 480)
    chunks = [json.dumps(_patient(tag))]
    budget = max_bytes - 200 - len(chunks[0])
    number = 0
    while len(chunks) < max_entries:
        resource = (
            f'{{"resource":{{"resourceType":"Observation","id":"c-{tag}-{number}",'
            '"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1975-2"}]},'
            f'"subject":{{"reference":"Patient/p-{tag}"}},"effectiveDateTime":"2026-01-01",'
            f'"valueQuantity":{{"value":{1 + number % 7},"unit":"mg/dL"}},"bogus":1,'
            f'"extension":[{stuffing}]}}}}'
        )
        if len(resource) + 1 > budget:
            break
        chunks.append(resource)
        budget -= len(resource) + 1
        number += 1
    text = '{"resourceType":"Bundle","type":"collection","entry":[' + ",".join(chunks) + "]}"
    return text.encode()


def too_large(tag: str, max_bytes: int, max_entries: int) -> bytes:
    """A Bundle one MiB over the limit."""
    return realistic(tag, max_bytes + MIB, max_entries * 10)


def _worker_pid(master: int) -> int:
    for _ in range(300):
        for task in Path(f"/proc/{master}/task").iterdir():
            children = (task / "children").read_text().split()
            if children:
                return int(children[0])
        time.sleep(0.1)
    raise SystemExit("no worker process found")


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"{field} not found for {pid}")


def run_shape(
    name: str, make: Callable[[str, int, int], bytes], max_bytes: int, max_entries: int
) -> None:
    """Start a one-worker server, post four distinct Bundles at once, print the figures."""
    bodies = [make(f"{name}{n}", max_bytes, max_entries) for n in range(4)]
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("NELM_CDS_")},
            "NELM_CDS_HOST": "127.0.0.1",
            "NELM_CDS_PORT": str(port),
            "NELM_CDS_WORKERS": "1",
            "NELM_CDS_INSTANCE_PATH": folder,
            "NELM_CDS_LOG_LEVEL": "WARNING",
            "NELM_CDS_MAX_BUNDLE_BYTES": str(max_bytes),
            "NELM_CDS_MAX_BUNDLE_ENTRIES": str(max_entries),
        }
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        command = [gunicorn, "-c", "gunicorn.conf.py", "service.app:create_app()"]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url, process)
            worker = _worker_pid(process.pid)
            warm = {"resourceType": "Bundle", "type": "collection", "entry": [_patient("w")]}
            requests.post(f"{url}/api/evaluate", json=warm, timeout=30)
            idle = _status_kb(worker, "VmRSS")

            def post(body: bytes) -> tuple[int, float]:
                started = time.monotonic()
                answer = requests.post(
                    f"{url}/api/evaluate?at=2026-11-22",
                    data=body,
                    headers={"Content-Type": "application/fhir+json"},
                    timeout=120,
                )
                return answer.status_code, time.monotonic() - started

            with ThreadPoolExecutor(4) as pool:
                results = list(pool.map(post, bodies))
            peak = _status_kb(worker, "VmHWM")
        finally:
            process.terminate()
            process.wait(timeout=30)
    sizes = ", ".join(f"{len(b) / MIB:.1f}" for b in bodies)
    statuses = ", ".join(str(status) for status, _ in results)
    times = ", ".join(f"{seconds:.1f}" for _, seconds in results)
    print(f"{name:10} bodies MiB [{sizes}] statuses [{statuses}] seconds [{times}]")
    print(f"{'':10} worker RSS idle {idle / 1024:.0f} MB, peak {peak / 1024:.0f} MB")


def main() -> None:
    """Print the benchmark figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=10 * MIB)
    parser.add_argument("--entries", type=int, default=10_000)
    args = parser.parse_args()
    print(f"limits: {args.bytes / MIB:.1f} MiB, {args.entries} entries; one gunicorn worker")
    shapes: list[tuple[str, Callable[[str, int, int], bytes]]] = [
        ("realistic", realistic),
        ("hostile", hostile),
        ("costly", costly),
        ("too-large", too_large),
    ]
    for name, make in shapes:
        run_shape(name, make, args.bytes, args.entries)
    print("target: peak under 500 MB")


if __name__ == "__main__":
    main()
