"""Read a FHIR search to its end, and know when it is not complete.

A search is read page by page, following ``next`` links only under the base URL, up to
``max_pages``. Partial results are never returned as if complete:

- more pages than allowed, or a ``next`` link leaving the base URL:
  :class:`~service.fhir.errors.FhirInvalidResponseError`;
- fewer matches than the ``Bundle.total`` the server announced (a server that cuts a
  result at its own page size without a ``next`` link):
  :class:`~service.fhir.errors.FhirIncompleteError`. The caller may then try
  :func:`narrowed` searches, one per value of a multi-valued token parameter (one code
  at a time), whose union is complete when each of them is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from service.fhir import answers
from service.fhir.allowlist import ServerUrl, parse_url, strip_query
from service.fhir.answers import Answer, expect
from service.fhir.errors import (
    FhirIncompleteError,
    FhirInvalidResponseError,
    FhirUrlNotAllowedError,
)
from service.fhir.queries import check_type

__all__ = ["Found", "Searcher", "narrowed", "union"]

Request = Callable[..., Answer]
"""``(method, url, label, params=..., headers=...) -> Answer``."""

_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
NARROWED_PARAMETERS = ("code",)


@dataclass
class Found:
    """A search's entries (matches and includes) and the notes the server attached."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _matches(entries: list[dict[str, Any]], resource_type: str) -> int:
    count = 0
    for entry in entries:
        search = entry.get("search")
        mode = search.get("mode") if isinstance(search, dict) else None
        if mode == "match" or (
            mode is None and entry["resource"].get("resourceType") == resource_type
        ):
            count += 1
    return count


def _total(bundle: dict[str, Any]) -> int | None:
    total = bundle.get("total")
    return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None


class Searcher:
    """Run searches on the server at ``base`` through ``request``."""

    def __init__(
        self, request: Request, base: ServerUrl, *, allow_http: bool, max_pages: int
    ) -> None:
        self._request = request
        self._base = base
        self._allow_http = allow_http
        self._max_pages = max_pages

    def entries(
        self, resource_type: str, params: list[tuple[str, str]], *, strict: bool = False
    ) -> Found:
        """Return every page's entries; raise when they are fewer than ``Bundle.total``."""
        url: str | None = f"{self._base}/{check_type(resource_type)}"
        label = f"GET {resource_type} search"
        headers = {"Prefer": "handling=strict"} if strict else {}
        query: list[tuple[str, str]] | None = params
        found = Found()
        total: int | None = None
        pages = 0
        while url is not None:
            if pages == self._max_pages:
                raise FhirInvalidResponseError(
                    f"{label}: more than {self._max_pages} pages; results would be partial",
                    url=strip_query(url),
                )
            answer = self._request("GET", url, label, params=query, headers=headers)
            bundle = expect(answer, "Bundle", label, strip_query(url))
            total = _total(bundle) if pages == 0 else total
            pages += 1
            page_entries, page_notes = answers.search_page(bundle)
            found.entries.extend(page_entries)
            found.notes.extend(page_notes)
            url, query = self.next_url(bundle, label), None
        matched = _matches(found.entries, resource_type)
        if total is not None and matched < total:
            raise FhirIncompleteError(
                f"{label} announced {total} results but delivered {matched}",
                announced=total,
                delivered=matched,
                url=f"{self._base}/{resource_type}",
            )
        return found

    def pages(
        self, resource_type: str, params: list[tuple[str, str]]
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield each page's matching resources (the caller stops when it has enough)."""
        url: str | None = f"{self._base}/{check_type(resource_type)}"
        label = f"GET {resource_type} search"
        query: list[tuple[str, str]] | None = params
        while url is not None:
            answer = self._request("GET", url, label, params=query)
            bundle = expect(answer, "Bundle", label, strip_query(url))
            entries, _ = answers.search_page(bundle)
            yield [entry["resource"] for entry in entries]
            url, query = self.next_url(bundle, label), None

    def next_url(self, bundle: dict[str, Any], label: str) -> str | None:
        """Return the ``next`` link, checked to lie under the base URL, or ``None``."""
        links = bundle.get("link")
        if not isinstance(links, list):
            return None
        for link in links:
            if isinstance(link, dict) and link.get("relation") == "next":
                target = link.get("url")
                if not isinstance(target, str) or not target:
                    raise FhirInvalidResponseError(f"{label}: a next link has no URL")
                absolute = urljoin(str(self._base) + "/", target)
                try:
                    inside = self._base.contains(
                        parse_url(absolute, base=False, allow_http=self._allow_http)
                    )
                except FhirUrlNotAllowedError:
                    inside = False
                if not inside:
                    raise FhirInvalidResponseError(
                        f"{label}: a next link leaves the base URL; not followed",
                        url=strip_query(absolute),
                    )
                return absolute
        return None


def narrowed(params: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Return one parameter list per value of the first multi-valued ``code`` parameter
    (``a,b,c`` → three searches), or ``[]`` when there is nothing to narrow."""
    for index, (name, value) in enumerate(params):
        values = _UNESCAPED_COMMA.split(value) if name in NARROWED_PARAMETERS else []
        if len(values) > 1:
            return [[*params[:index], (name, one), *params[index + 1 :]] for one in values]
    return []


def union(parts: list[Found]) -> Found:
    """Return the entries of several searches once each (by fullUrl, else type and id)."""
    merged = Found()
    seen: set[object] = set()
    for part in parts:
        for entry in part.entries:
            resource = entry["resource"]
            key = entry.get("fullUrl") or (resource.get("resourceType"), resource.get("id"))
            if resource.get("id") is None and not entry.get("fullUrl"):
                key = id(entry)
            if key in seen:
                continue
            seen.add(key)
            merged.entries.append(entry)
        merged.notes.extend(note for note in part.notes if note not in merged.notes)
    return merged
