"""Group an export's resources by patient and select the candidates, before any mapping.

Candidates are the patients with a liver-metastasis Condition, recognised by the same
code sets as the mappers (:class:`~service.mappers.codes.Terminology`, a site's local
codes included) on ``Condition.code`` alone: no status, date or validation is looked at
here, so selection costs one JSON parse per line. Everyone is still counted.

Files that can hold Conditions (named ``Condition…``, or named for no type) are read
first, keeping every row; the other files are then read keeping only the candidates'
rows, so the out-of-core store holds the candidates' resources, not the hospital's.

Bad input is counted, never fatal (:class:`Tally`): a line that is not a JSON object
with a ``resourceType`` (broken), a clinical resource without a usable ``subject``, a
resource type the criteria do not read, a Patient without an id.
"""

from __future__ import annotations

import re
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from service.cdshooks.cards import NET_LIVER_METASTASIS_CODES
from service.mappers.codes import Terminology
from service.mappers.json_text import JsonTextError, parse_json
from service.mappers.reading import is_fhir_id
from service.screening.ndjson import ExportFile, read_lines
from service.screening.store import Store

__all__ = [
    "CLINICAL_TYPES",
    "Classified",
    "SelectionStats",
    "Tally",
    "classify_line",
    "patient_key",
    "select",
]

CLINICAL_TYPES = frozenset({"Observation", "Condition", "Procedure"})
NET_CATEGORIES = frozenset({"primary_site", "neuroendocrine_carcinoma"})
_PATIENT_REF = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})$")
_BATCH = 5_000
MAX_EXAMPLES = 10


@dataclass
class Tally:
    """Bad input by kind: counts and the first few places (file and line, never content)."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, where: str) -> None:
        """Count one ``kind`` at ``where`` (``Observation.ndjson:12``)."""
        self.counts[kind] += 1
        places = self.examples.setdefault(kind, [])
        if len(places) < MAX_EXAMPLES:
            places.append(where)

    def to_json(self) -> dict[str, Any]:
        """Return counts and examples as JSON."""
        return {"counts": dict(self.counts), "examples": self.examples}

    @classmethod
    def from_json(cls, data: Any) -> Tally:
        """Return a tally saved with :meth:`to_json`."""
        tally = cls()
        if isinstance(data, dict):
            tally.counts.update(data.get("counts", {}))
            tally.examples.update(data.get("examples", {}))
        return tally


@dataclass
class SelectionStats:
    """What selection read: lines, resources per type, seconds spent."""

    lines: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    kept: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Return the figures as JSON."""
        return {
            "lines": self.lines,
            "byType": dict(self.by_type),
            "kept": self.kept,
            "seconds": round(self.seconds, 3),
        }


def patient_key(resource: dict[str, Any]) -> tuple[str | None, str | None]:
    """Return ``(patient id, None)`` for a clinical resource's subject, or ``(None,
    problem)``: ``no subject``, ``subject is not a Patient`` or ``subject cannot be
    resolved`` (a ``urn:uuid:`` or identifier-only reference: an export has no fullUrls)."""
    subject = resource.get("subject")
    if subject is None:
        return None, "no subject"
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if not isinstance(reference, str):
        return None, "subject cannot be resolved"
    bare = reference.split("/_history/", 1)[0]
    match = _PATIENT_REF.search(bare)
    if match is not None and is_fhir_id(match.group(1)):
        return match.group(1), None
    if "Patient/" in bare or bare.startswith("urn:"):
        return None, "subject cannot be resolved"
    return None, "subject is not a Patient"


def _reads_conditions(export_file: ExportFile) -> bool:
    return export_file.resource_type in (None, "Condition")


def select(
    files: Iterable[ExportFile],
    store: Store,
    terminology: Terminology,
    tally: Tally,
    *,
    on_file: Callable[[str], None] | None = None,
) -> SelectionStats:
    """Read every file into ``store``: all patients counted, candidates marked, the
    candidates' resources kept (grouped by patient). Returns the figures."""
    ordered = sorted(files, key=lambda f: (not _reads_conditions(f), f.name))
    rank = {f.name: index for index, f in enumerate(sorted(ordered, key=lambda f: f.name))}
    stats = SelectionStats()
    started = time.perf_counter()
    candidates: set[str] = set()
    store.begin()
    for export_file in ordered:
        if on_file is not None:
            on_file(export_file.name)
        keep_all = _reads_conditions(export_file)
        if not keep_all:
            candidates = store.candidate_ids()
        _read_file(
            export_file,
            rank[export_file.name],
            store,
            terminology,
            tally,
            stats,
            None if keep_all else candidates,
        )
    store.commit()
    store.index()
    stats.seconds = time.perf_counter() - started
    return stats


def _read_file(
    export_file: ExportFile,
    file_rank: int,
    store: Store,
    terminology: Terminology,
    tally: Tally,
    stats: SelectionStats,
    keep_only: set[str] | None,
) -> None:
    rows: list[tuple[str, int, int, str]] = []
    patients: list[str] = []
    found: list[str] = []
    net: list[str] = []
    name = export_file.name

    def flush() -> None:
        store.add_resources(rows)
        store.add_patients(patients)
        store.add_candidates(found)
        store.add_candidates(net, "net")
        stats.kept += len(rows)
        for pending in (rows, patients, found, net):
            pending.clear()

    try:
        for number, raw in read_lines(export_file.path):
            stats.lines += 1
            line = classify_line(raw, terminology)
            if line.kind is not None:
                stats.by_type[line.kind] += 1
            if line.problem is not None or line.key is None or raw is None:
                tally.add(line.problem or "broken line", f"{name}:{number}")
                continue
            if line.kind == "Patient":
                patients.append(line.key)
            if line.liver:
                found.append(line.key)
            if line.net:
                net.append(line.key)
            if keep_only is None or line.key in keep_only:
                seq = (file_rank << 32) | number
                rows.append((line.key, seq, int(line.kind == "Patient"), raw.decode("utf-8")))
            if len(rows) >= _BATCH or len(patients) >= _BATCH:
                flush()
    except (OSError, EOFError, zlib.error) as exc:
        tally.add(f"file cut short or corrupt ({type(exc).__name__})", name)
    flush()


@dataclass(frozen=True)
class Classified:
    """What selection needs to know of one line: its type, whose it is, or what is
    wrong with it; and whether it makes its patient a candidate (``liver``) or a NET
    patient (``net``)."""

    kind: str | None
    key: str | None
    problem: str | None
    liver: bool = False
    net: bool = False


def classify_line(raw: bytes | None, terminology: Terminology) -> Classified:
    """Classify one NDJSON line (``None`` is a line too long to read). Pure: both
    engines select with it."""
    resource = None if raw is None else _parse(raw)
    if resource is None:
        return Classified(None, None, "broken line")
    kind = resource["resourceType"]
    if kind == "Patient":
        pid = resource.get("id")
        if not is_fhir_id(pid):
            return Classified(kind, None, "Patient without a valid id")
        return Classified(kind, str(pid), None)
    if kind == "OperationOutcome":
        return Classified(kind, None, "the export server reported an error (OperationOutcome)")
    if kind not in CLINICAL_TYPES:
        return Classified(kind, None, f"type not read: {kind}")
    subject, problem = patient_key(resource)
    if subject is None:
        return Classified(kind, None, f"{kind}: {problem}")
    if kind != "Condition":
        return Classified(kind, subject, None)
    categories = terminology.condition_categories(resource.get("code"))
    liver = categories.get("liver_metastasis")
    net = bool(categories.keys() & NET_CATEGORIES) or (
        liver is not None and liver[1] in NET_LIVER_METASTASIS_CODES
    )
    return Classified(kind, subject, None, liver is not None, net)


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        resource = parse_json(raw.decode("utf-8"))  # stored rows are UTF-8 text
    except (JsonTextError, UnicodeDecodeError):
        return None
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return None
    return resource
