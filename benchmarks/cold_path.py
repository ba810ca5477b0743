"""Benchmark the cold path: new records, and the CLI from process start (not a test).

    python -m benchmarks.cold_path [--records 60] [--cli-runs 10]

Everything is measured in one run, so the ratios hold on a busy shared machine:

- **cold**: each of ``--records`` distinct 200-resource records (ids and values differ)
  is evaluated once, from a parsed Bundle, just after it is parsed;
- **warm**: the last record evaluated again and again (what the old benchmark measured;
  nothing is cached, so it is cold again);
- **stages** of another set of distinct records: Bundle reading, mapping (with the time
  spent validating apart) and the criteria, the result JSON with the decisive-data
  analysis;
- **json.loads** of each record's text: the target is cold evaluation within 3x of it;
- **CLI**: wall time of ``python -m service evaluate --bundle FILE`` against
  ``python -c "import json"`` plus one cold in-process evaluation: the target is
  within 2x of that sum; ``import service.cli`` is timed apart, and the heavy packages
  the CLI imported are listed (there should be none).

The CLI is timed with this interpreter unless ``--python`` names another, e.g. a virtual
environment with a regular (not editable) install: an editable install's import hook
loads pathlib, re, enum and more in ``site``, which makes the ``import json`` baseline
slower and leaves less for the CLI to import, so the ratio is lower there than in a
regular install. The CLI runs are started in a temporary folder either way, so the
installed package is the one timed.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.evaluate_bundle import AT, build_bundle


def distinct_bundle(template: dict[str, Any], number: int) -> dict[str, Any]:
    """Return the template with ids and lab values changed by ``number``."""
    bundle = copy.deepcopy(template)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        resource["id"] = f"{resource['id']}-r{number}"
        if "subject" in resource:
            resource["subject"] = {"reference": f"Patient/bench-r{number}"}
        quantity = resource.get("valueQuantity")
        if quantity is not None:
            quantity["value"] = round(float(quantity["value"]) * (1 + number / 1000), 3)
    return bundle


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _timed(work: Any) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _stages(texts: list[str]) -> dict[str, list[float]]:
    """Time each stage of evaluating every record once: Bundle → record, mapping (with
    validation) and the criteria, the result JSON with the decisive-data analysis; and
    apart, the time spent validating (inside mapping)."""
    from service.engine import run_evaluation
    from service.mappers import record_from_bundle, validation
    from service.result_json import evaluation_to_json

    spent = [0.0]
    check = validation.check_structure

    def timed_check(*args: Any) -> None:
        started = time.perf_counter()
        try:
            check(*args)
        finally:
            spent[0] += time.perf_counter() - started

    times: dict[str, list[float]] = {
        "bundle": [], "map+criteria": [], "  of which validation": [], "json+decisive": []
    }  # fmt: skip
    validation.check_structure = timed_check  # type: ignore[assignment]
    try:
        for text in texts:
            bundle = json.loads(text, parse_float=Decimal)
            spent[0] = 0.0
            started = time.perf_counter()
            record = record_from_bundle(bundle)
            read = time.perf_counter()
            evaluation = run_evaluation(record, AT)
            evaluated = time.perf_counter()
            evaluation_to_json(evaluation)
            done = time.perf_counter()
            times["bundle"].append(read - started)
            times["map+criteria"].append(evaluated - read)
            times["  of which validation"].append(spent[0])
            times["json+decisive"].append(done - evaluated)
    finally:
        validation.check_structure = check
    return times


def _wall(command: list[str], runs: int, cwd: str) -> list[float]:
    return [
        _timed(lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=cwd))
        for _ in range(runs)
    ]


_HEAVY = ("pydantic", "fhir", "flask", "requests", "matplotlib", "prometheus_client")


def _imported_heavy(python: str, command: list[str], cwd: str) -> list[str]:
    """Run ``command`` under ``-X importtime`` and return the heavy packages it imported
    (none is needed to evaluate)."""
    run = subprocess.run(
        [python, "-X", "importtime", *command], capture_output=True, text=True, check=True, cwd=cwd
    )
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in run.stderr.splitlines()}
    return sorted(names & set(_HEAVY))


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=60)
    parser.add_argument("--cli-runs", type=int, default=10)
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter to time the CLI with (default: this)"
    )
    args = parser.parse_args()
    python = args.python
    check = subprocess.run([python, "-c", "import service.cli"], capture_output=True, check=False)
    if check.returncode != 0:
        parser.error(f"{python} cannot import the service (install it there first)")
    from service.engine import evaluate_bundle  # imported here: the CLI runs below import it anew

    template = build_bundle()
    texts = [json.dumps(distinct_bundle(template, n)) for n in range(args.records)]
    evaluate_bundle(json.loads(json.dumps(template), parse_float=Decimal), AT)  # first use
    # Record by record, json.loads and evaluation side by side, so a busy spell of the
    # machine slows both alike; each record is parsed just before it is evaluated and
    # dropped after, so only one record is alive, as in the CLI or a request (holding all
    # of them would make the garbage collector walk them all, again and again).
    loads: list[float] = []
    cold: list[float] = []
    for text in texts:
        loads.append(_timed(lambda t=text: json.loads(t)))
        bundle = json.loads(text, parse_float=Decimal)
        cold.append(_timed(lambda b=bundle: evaluate_bundle(b, AT)))
    last = json.loads(texts[-1], parse_float=Decimal)
    warm = [_timed(lambda: evaluate_bundle(last, AT)) for _ in range(args.records)]
    other = [json.dumps(distinct_bundle(template, args.records + n)) for n in range(args.records)]
    stages = _stages(other)
    size = len(texts[0]) // 1024
    print(f"record: 200 resources, {size} KiB; {args.records} distinct records")
    print(f"json.loads:              median {_median_ms(loads):7.2f} ms")
    print(f"evaluate, cold:          median {_median_ms(cold):7.2f} ms  (each record new)")
    print(f"evaluate, warm:          median {_median_ms(warm):7.2f} ms  (one record again)")
    print("stages, cold (other distinct records):")
    for stage, samples in stages.items():
        print(f"  {stage:22} {_median_ms(samples):7.2f} ms")
    ratio = statistics.median(c / x for c, x in zip(cold, loads, strict=True))
    print(f"cold / json.loads:       {ratio:7.2f}x  (median of per-record ratios; target <= 3)")
    ratio = statistics.median(warm) / statistics.median(loads)
    print(f"warm / json.loads:       {ratio:7.2f}x  (nothing is cached: warm is cold again)")

    # An installed package has its bytecode compiled (pip does it); a checkout under
    # PYTHONDONTWRITEBYTECODE would compile every module at every start instead.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "service"], check=True)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for n in range(args.cli_runs):
            path = Path(folder) / f"record-{n}.json"
            path.write_text(texts[n % len(texts)], encoding="utf-8")
            paths.append(path)
        service = _wall([python, "-c", "import service.cli"], args.cli_runs, folder)
        bare: list[float] = []
        cli: list[float] = []
        for path in paths:  # interleaved, as above
            bare.extend(_wall([python, "-c", "import json"], 1, folder))
            cli.extend(_wall([python, "-m", "service", "evaluate", "--bundle",
                              str(path), "--at", AT.isoformat()], 1, folder))  # fmt: skip
        heavy = _imported_heavy(
            python,
            ["-m", "service", "evaluate", "--bundle", str(paths[0]), "--at", AT.isoformat()],
            folder,
        )
    base = statistics.median(bare) + statistics.median(cold)
    print(f"CLI timed with: {python}")
    if python != sys.executable:
        print(f"  (the evaluations above, and so the ratio's cold part, with {sys.executable})")
    print(f'python -c "import json":  median {_median_ms(bare):7.1f} ms')
    print(f"import service.cli:       median {_median_ms(service):7.1f} ms  (and its clean-up)")
    print(f"  heavy packages the CLI imported: {heavy}")
    print(f"python -m service evaluate: median {_median_ms(cli):7.1f} ms")
    ratio = statistics.median(cli) / base
    print(f"CLI / (import json + cold evaluation): {ratio:5.2f}x  (target <= 2)")


if __name__ == "__main__":
    main()
