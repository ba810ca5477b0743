"""Build a hook request's prefetch from the service's discovery templates.

Templates are filled as CDS Hooks 2.0 says (``{{context.patientId}}``,
``{{context.userId}}``, ``{{userPractitionerId}}``, ``{{userPractitionerRoleId}}``,
``{{userPatientId}}``, ``{{userRelatedPersonId}}``), then answered by one of two sources:

- :class:`FhirServerSource`: a real FHIR server, through :class:`service.fhir.FhirClient`
  (allowlisted to that one server, timeouts, paging). A read that finds nothing gives
  ``null``; searches give a ``searchset`` Bundle;
- :class:`DemoBundleSource`: the embedded demo patients, searched in memory. It
  understands what the service's own templates use: a read by id, and searches by
  ``patient`` (or ``subject``) and ``code`` tokens (``system|code``, comma = or); any
  other search parameter raises :class:`PrefetchError` rather than answer wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl

from service.demo_store import DemoStore
from service.fhir import Allowlist, BearerToken, FhirClient, FhirError, FhirNotFoundError

__all__ = [
    "DemoBundleSource",
    "FhirServerSource",
    "PrefetchError",
    "PrefetchSource",
    "build_prefetch",
    "fill_template",
]

_TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")
_IGNORED_PARAMS = frozenset({"_count", "_sort"})


class PrefetchError(Exception):
    """A template cannot be filled or answered; the message says which and why."""


class PrefetchSource(Protocol):
    """Answers filled prefetch templates."""

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        """Return the resource, or ``None`` when there is none."""
        ...

    def search(self, resource_type: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        """Return a ``searchset`` Bundle of the matches."""
        ...


def fill_template(template: str, context: Mapping[str, str]) -> str:
    """Replace ``{{context.x}}`` and the ``{{userXxxId}}`` tokens; raise on unknown ones."""
    user = context.get("userId", "")
    user_type, _, user_id = user.partition("/")
    values = {f"context.{name}": value for name, value in context.items()}
    for kind in ("Practitioner", "PractitionerRole", "Patient", "RelatedPerson"):
        if user_type == kind and user_id:
            values[f"user{kind}Id"] = user_id

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise PrefetchError(f"template {template!r}: no value for {{{{{name}}}}}")
        return values[name]

    return _TOKEN.sub(replace, template)


def _answer(source: PrefetchSource, filled: str) -> dict[str, Any] | None:
    path, _, query = filled.partition("?")
    parts = path.strip("/").split("/")
    if not query and len(parts) == 2:
        return source.read(parts[0], parts[1])
    if len(parts) != 1 or not parts[0]:
        raise PrefetchError(f"template {filled!r} is neither a read nor a type-level search")
    return source.search(parts[0], parse_qsl(query, keep_blank_values=True))


def build_prefetch(
    templates: Mapping[str, str], context: Mapping[str, str], source: PrefetchSource
) -> dict[str, dict[str, Any] | None]:
    """Return the prefetch object: every template key answered by ``source``."""
    return {key: _answer(source, fill_template(t, context)) for key, t in templates.items()}


class FhirServerSource:
    """Answer templates from a FHIR server (the one URL given, and nothing else)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        allow_http: bool = False,
        timeout: tuple[float, float] = (3.05, 20.0),
    ) -> None:
        self._client = FhirClient(
            base_url,
            allowlist=Allowlist([base_url], allow_http=allow_http),
            auth=BearerToken(token) if token else None,
            timeout=timeout,
        )
        self.base_url = self._client.base_url

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        """Read one resource; ``None`` when the server has none."""
        try:
            return self._client.read(resource_type, resource_id)
        except FhirNotFoundError:
            return None
        except (FhirError, ValueError) as exc:
            raise PrefetchError(
                f"{resource_type}/{resource_id} from {self.base_url}: {exc}"
            ) from exc

    def search(self, resource_type: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        """Search, reading every page; a searchset Bundle."""
        try:
            found = self._client.search(resource_type, params)
        except (FhirError, ValueError) as exc:
            raise PrefetchError(f"{resource_type} search on {self.base_url}: {exc}") from exc
        return _searchset(found, f"{self.base_url}/")


def _searchset(resources: list[dict[str, Any]], base: str | None) -> dict[str, Any]:
    def entry(resource: dict[str, Any]) -> dict[str, Any]:
        if base is None:
            return {"resource": resource}
        return {
            "fullUrl": f"{base}{resource.get('resourceType')}/{resource.get('id')}",
            "resource": resource,
        }

    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [entry(r) for r in resources],
    }


def _split_unescaped(text: str, separator: str) -> list[str]:
    """Split FHIR search value text on ``separator`` not preceded by a backslash."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _token_matches(concept: Any, tokens: list[str]) -> bool:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    pairs = {
        (c.get("system"), c.get("code"))
        for c in (codings if isinstance(codings, list) else [])
        if isinstance(c, dict)
    }
    for token in tokens:
        parts = _split_unescaped(token, "|")
        wanted_system, wanted_code = (parts[0], parts[1]) if len(parts) == 2 else (None, token)
        if any(
            c == wanted_code and (wanted_system is None or s == wanted_system) for s, c in pairs
        ):
            return True
    return False


class DemoBundleSource:
    """Answer templates from the embedded demo patients (no server, no network)."""

    def __init__(self, store: DemoStore | None = None) -> None:
        self._store = store or DemoStore.load()

    def _resources(self) -> list[tuple[dict[str, Any], str | None]]:
        found = []
        for bundle in self._store.bundles.values():
            for entry in bundle.get("entry", []):
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(resource, dict):
                    found.append((resource, entry.get("fullUrl")))
        return found

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        """Return the demo resource of that type and id, or ``None``."""
        for resource, _ in self._resources():
            if resource.get("resourceType") == resource_type and resource.get("id") == resource_id:
                return resource
        return None

    def search(self, resource_type: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        """Search the demo resources by ``patient``/``subject`` and ``code``."""
        patient: str | None = None
        tokens: list[str] | None = None
        for name, value in params:
            if name in ("patient", "subject"):
                patient = value.removeprefix("Patient/")
            elif name == "code":
                tokens = _split_unescaped(value, ",") if tokens is None else tokens
            elif name not in _IGNORED_PARAMS:
                raise PrefetchError(
                    f"the demo data cannot answer the search parameter {name!r}: "
                    "give --fhir-server to prefetch from a FHIR server"
                )
        matches = []
        for resource, _ in self._resources():
            if resource.get("resourceType") != resource_type:
                continue
            subject = resource.get("subject")
            reference = subject.get("reference") if isinstance(subject, dict) else None
            if patient is not None and reference != f"Patient/{patient}":
                continue
            if tokens is not None and not _token_matches(resource.get("code"), tokens):
                continue
            matches.append(resource)
        return _searchset(matches, None)
