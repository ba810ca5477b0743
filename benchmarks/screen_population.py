"""Benchmark ``python -m service screen`` on generated populations (not a test).

    python -m benchmarks.screen_population [--sizes 1000 10000] [--engines embedded spark]
                                           [--workers N] [--work DIR]

For every size, a population is generated once (``synth``, seed 1, 8 % NET liver
metastases, gzip) and screened from scratch (``--fresh``) by each engine in a separate
process, while this script samples the resident memory of that process and all its
children (the worker processes, Spark's JVM and Python workers) every 50 ms. Printed
per run: wall time; patients per second over the whole export (everyone counted);
selection resources per second and evaluation patients per second (from the run's
``summary.json``: they are timed separately); peak RSS of the whole process tree and of
its largest single process. Every record is new to the process that evaluates it (cold
data: no verdict cache can help).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            found.append(int(entry))
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


class TreeSampler(threading.Thread):
    """Sample the RSS of a process and its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_total = 0
        self.peak_single = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            tree, queue = [], [self.pid]
            while queue:
                pid = queue.pop()
                tree.append(pid)
                queue.extend(_children(pid))
            sizes = [_rss(pid) for pid in tree]
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_single = max(self.peak_single, max(sizes, default=0))
            time.sleep(0.05)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _population(work: Path, size: int) -> Path:
    folder = work / f"population-{size}"
    if not (folder / "site-codes.json").exists():
        command = [
            sys.executable,
            "-m",
            "service",
            "synth",
            "--patients",
            str(size),
            "--out",
            str(folder),
            "--seed",
            "1",
            "--at",
            "2026-11-22",
            "--gzip",
        ]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return folder


def _screen(folder: Path, out: Path, engine: str, workers: int) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "service",
        "screen",
        "--input",
        str(folder),
        "--out",
        str(out),
        "--at",
        "2026-11-22",
        "--site-codes",
        str(folder / "site-codes.json"),
        "--fresh",
        "--engine",
        engine,
    ]
    if workers:
        command += ["--workers", str(workers)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    sampler = TreeSampler(process.pid)
    sampler.start()
    _, errors = process.communicate()
    wall = time.perf_counter() - started
    sampler.stop()
    if process.returncode != 0:
        raise SystemExit(f"screen failed ({process.returncode}): {errors.strip()[-500:]}")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {
        "wall": wall,
        "summary": summary,
        "peak_total": sampler.peak_total,
        "peak_single": sampler.peak_single,
    }


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--engines", nargs="+", default=["embedded"], choices=["embedded", "spark"])
    parser.add_argument("--workers", type=int, default=0, help="default: every core")
    parser.add_argument("--work", type=Path, default=Path("/tmp/nelm-screen-benchmark"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    print(
        f"{'engine':9} {'patients':>9} {'cand.':>6} {'wall s':>7} {'all pt/s':>9} "
        f"{'sel. res/s':>11} {'eval pt/s':>10} {'peak RSS tree':>14} {'largest proc':>13}"
    )
    for size in args.sizes:
        folder = _population(args.work, size)
        for engine in args.engines:
            run = _screen(folder, args.work / f"out-{engine}-{size}", engine, args.workers)
            _print(engine, run)


def _print(engine: str, run: dict[str, Any]) -> None:
    selection, evaluation = run["summary"]["selection"], run["summary"]["evaluation"]
    wall = run["wall"]
    seconds = selection["seconds"] or float("nan")
    cells = (
        f"{engine:9} {selection['patients']:>9,} {selection['candidates']:>6,} {wall:>7.1f}",
        f"{selection['patients'] / wall:>9,.0f} {selection['lines'] / seconds:>11,.0f}",
        f"{evaluation['patientsPerSecond'] or 0:>10,.0f}",
        f"{run['peak_total'] / 2**20:>11,.0f} MB {run['peak_single'] / 2**20:>10,.0f} MB",
    )
    print(" ".join(cells))


if __name__ == "__main__":
    main()
