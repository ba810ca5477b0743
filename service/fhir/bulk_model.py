"""The data of a Bulk Data export (:mod:`service.fhir.bulk`): what to ask for, and the
manifest the server answers, read strictly (a malformed entry fails the export)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode, urljoin

from service.fhir.allowlist import strip_query
from service.fhir.errors import FhirInvalidResponseError
from service.fhir.queries import check_id

__all__ = [
    "NDJSON",
    "ExportRequest",
    "Level",
    "Manifest",
    "ManifestFile",
    "Progress",
    "manifest_files",
    "type_filter",
]

Level = Literal["system", "patient", "group"]
NDJSON = "application/fhir+ndjson"
_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")


@dataclass(frozen=True)
class ExportRequest:
    """What to export: the level (``group`` needs ``group_id``), ``_type`` and
    ``_typeFilter`` values (each ``Type?query``)."""

    level: Level = "system"
    group_id: str | None = None
    types: tuple[str, ...] = ()
    type_filters: tuple[str, ...] = ()

    def path(self) -> str:
        """Return the kick-off path under the base URL."""
        if self.level == "system":
            return "$export"
        if self.level == "patient":
            return "Patient/$export"
        if self.group_id is None:
            raise ValueError("a Group export needs the Group id")
        return f"Group/{check_id(self.group_id)}/$export"

    def params(self) -> list[tuple[str, str]]:
        """Return the kick-off query parameters."""
        out = [("_outputFormat", NDJSON)]
        if self.types:
            out.append(("_type", ",".join(self.types)))
        out.extend(("_typeFilter", f) for f in self.type_filters)
        return out


@dataclass(frozen=True)
class ManifestFile:
    """One file of the manifest: its resource type, URL and count (if given)."""

    type: str
    url: str
    count: int | None = None


@dataclass(frozen=True)
class Manifest:
    """A complete export's manifest."""

    transaction_time: str
    requires_access_token: bool
    output: tuple[ManifestFile, ...]
    errors: tuple[ManifestFile, ...]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class Progress:
    """One status poll: what the server said (``X-Progress``) and the wait chosen."""

    polls: int
    progress: str | None
    wait: float


def manifest_files(items: Any, status_url: str) -> list[ManifestFile]:
    """Return the manifest's file entries, URLs resolved against the status URL."""
    out: list[ManifestFile] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            raise FhirInvalidResponseError(
                "export manifest: an entry is not an object", url=strip_query(status_url)
            )
        kind, url, count = item.get("type"), item.get("url"), item.get("count")
        if not isinstance(kind, str) or not _TYPE.fullmatch(kind) or not isinstance(url, str):
            raise FhirInvalidResponseError(
                "export manifest: an entry has no type or URL", url=strip_query(status_url)
            )
        out.append(
            ManifestFile(kind, urljoin(status_url, url), count if isinstance(count, int) else None)
        )
    return out


def type_filter(resource_type: str, params: Sequence[tuple[str, str]]) -> str:
    """Return one ``_typeFilter`` value: ``Type?name=value&...`` (values URL-encoded)."""
    return f"{resource_type}?{urlencode(list(params))}"
