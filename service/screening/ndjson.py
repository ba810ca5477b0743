"""Read a Bulk FHIR export folder: NDJSON files, gzip-compressed or not.

The Bulk Data Access IG writes one resource per line, one resource type per file.
Files are found by name (``*.ndjson``, ``*.ndjson.gz``; ``Observation.ndjson``,
``Observation.2.ndjson``, ``1.Observation.ndjson`` and the like name their type); a
gzip file is recognised by its magic bytes, whatever its name.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ExportFile", "find_export_files", "read_lines", "type_from_name"]

_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
_GZIP_MAGIC = b"\x1f\x8b"
MAX_LINE_BYTES = 16 * 1024 * 1024
"""A longer line is reported as broken instead of being held in memory."""


@dataclass(frozen=True)
class ExportFile:
    """One NDJSON file of an export and the resource type its name gives, if any."""

    path: Path
    resource_type: str | None

    @property
    def name(self) -> str:
        """Return the file name (what warnings cite: never a line's content)."""
        return self.path.name


def type_from_name(name: str) -> str | None:
    """Return the resource type a Bulk file name gives (``Observation.2.ndjson``,
    ``1.Observation.ndjson.gz``), or ``None``."""
    stem = name
    for suffix in _SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    names = [part for part in stem.split(".") if _TYPE.match(part)]
    return names[0] if len(names) == 1 else None


def find_export_files(folder: Path) -> list[ExportFile]:
    """Return the export's NDJSON files, sorted by name; ``NotADirectoryError`` or
    ``FileNotFoundError`` for a bad folder."""
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder")
    found = [
        ExportFile(path, type_from_name(path.name))
        for path in folder.iterdir()
        if path.is_file() and path.name.endswith(_SUFFIXES)
    ]
    return sorted(found, key=lambda f: f.name)


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def read_lines(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(line number, bytes)`` for every non-blank line (numbered from 1).

    A line longer than :data:`MAX_LINE_BYTES` is yielded as ``None`` (broken), and the
    rest of it skipped; a truncated gzip stream ends the file with an ``EOFError``
    (``OSError`` for a corrupt one) that the caller reports.
    """
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as handle:
        number = 0
        while True:
            line = handle.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                while line and not line.endswith(b"\n"):
                    line = handle.readline(MAX_LINE_BYTES)
                yield number, None
                continue
            if line.strip():
                yield number, line
