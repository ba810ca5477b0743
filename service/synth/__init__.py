"""A synthetic hospital population as a Bulk FHIR export (NDJSON, one file per type).

``python -m service synth --patients N --out DIR [--seed S] [--at DATE] [--gzip]
[--faults K]`` writes ``Patient.ndjson``, ``Condition.ndjson``, ``Observation.ndjson``
and ``Procedure.ndjson`` (``.ndjson.gz`` with ``--gzip``), as the Bulk Data Access IG
writes them, and ``site-codes.json`` for the local codes some patients carry.

Deterministic: the same seed, evaluation date and size write the same bytes, and
patient ``i`` is the same in every population that holds it (1,000 patients are the
first 1,000 of 10,000). ``faults`` adds that many of each kind of bad input (a broken
line, an Observation without subject, a resource of an unknown type) for tests.
Memory stays flat: patients are written as they are made.
"""

from __future__ import annotations

import gzip
import io
import json
import random
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from service.synth.people import Mix, person
from service.synth.templates import LOCAL_KI67

__all__ = ["FILE_TYPES", "Mix", "SynthSummary", "write_population"]

FILE_TYPES = ("Patient", "Condition", "Observation", "Procedure")


@dataclass(frozen=True)
class SynthSummary:
    """What was written: resources per type and the files."""

    patients: int
    resources: dict[str, int]
    files: tuple[Path, ...]


def _open(stack: ExitStack, path: Path, compress: bool) -> IO[str]:
    if not compress:
        return stack.enter_context(path.open("w", encoding="utf-8", newline="\n"))
    raw = stack.enter_context(path.open("wb"))
    # mtime 0 and no file name in the header: the same population gives the same bytes
    packed = gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=5, mtime=0)
    return stack.enter_context(io.TextIOWrapper(packed, encoding="utf-8", newline="\n"))


def _faults(index: int) -> dict[str, str]:
    """Lines of bad input, written into the Observation file."""
    orphan = {
        "resourceType": "Observation",
        "id": f"orphan-{index}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
        "valueQuantity": {"value": 180, "unit": "10*3/uL"},
    }
    unknown = {"resourceType": "Cryptid", "id": f"cryptid-{index}"}
    return {
        "broken": '{"resourceType": "Observation", "id": "broken-' + str(index),
        "orphan": json.dumps(orphan),
        "unknown": json.dumps(unknown),
    }


def site_codes() -> dict[str, object]:
    """Return the site mapping for the local codes the generator writes."""
    system, code = LOCAL_KI67
    return {"observations": {"ki67": [{"system": system, "code": code}]}}


def write_population(
    out: Path,
    patients: int,
    *,
    seed: int,
    anchor: date,
    compress: bool = False,
    faults: int = 0,
    mix: Mix | None = None,
) -> SynthSummary:
    """Write ``patients`` synthetic patients under ``out`` (created if needed)."""
    if patients < 0 or faults < 0:
        raise ValueError("patients and faults cannot be negative")
    mix = mix or Mix()
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".ndjson.gz" if compress else ".ndjson"
    paths = {name: out / f"{name}{suffix}" for name in FILE_TYPES}
    counts: Counter[str] = Counter()
    fault_every = max(1, patients // faults) if faults else 0
    with ExitStack() as stack:
        handles = {name: _open(stack, path, compress) for name, path in paths.items()}
        for index in range(patients):
            rng = random.Random(f"{seed}:{index}")
            for resource in person(rng, index, anchor, mix):
                kind = str(resource["resourceType"])
                handles[kind].write(json.dumps(resource, ensure_ascii=False) + "\n")
                counts[kind] += 1
            if fault_every and index % fault_every == 0 and counts["faults"] < faults * 3:
                for line in _faults(index).values():
                    handles["Observation"].write(line + "\n")
                    counts["faults"] += 1
    (out / "site-codes.json").write_text(json.dumps(site_codes(), indent=2) + "\n", "utf-8")
    return SynthSummary(patients, dict(counts), tuple(paths.values()))
