"""Build FHIR REST paths and search parameters; pure functions, no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl

from service.mappers.codes import Terminology
from service.mappers.reading import is_fhir_id
from service.mappers.systems import OID_SYSTEMS

__all__ = [
    "SearchParams",
    "check_id",
    "check_type",
    "escape_search_value",
    "observation_code_param",
    "search_pairs",
]

SearchParams = Mapping[str, str] | Sequence[tuple[str, str]]
"""Search parameters: a mapping, or pairs when a name repeats (``date=ge..&date=le..``)."""

_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")  # used with fullmatch


def check_type(resource_type: str) -> str:
    """Return ``resource_type`` if it looks like a FHIR type name, else raise ValueError."""
    if not isinstance(resource_type, str) or not _TYPE.fullmatch(resource_type):
        raise ValueError(f"not a FHIR resource type: {resource_type!r}")
    return resource_type


def check_id(resource_id: str) -> str:
    """Return ``resource_id`` if it is a valid FHIR id, else raise ValueError.

    Checked before it goes into a URL path, so an id cannot add path segments.
    """
    if not is_fhir_id(resource_id):
        raise ValueError("not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)")
    return resource_id


def escape_search_value(value: str) -> str:
    """Escape ``\\``, ``,``, ``|`` and ``$`` as FHIR search requires."""
    for char in ("\\", ",", "|", "$"):
        value = value.replace(char, "\\" + char)
    return value


def search_pairs(params: SearchParams | str | None) -> list[tuple[str, str]]:
    """Return search parameters as a list of pairs (a string is parsed as a query)."""
    if params is None:
        return []
    if isinstance(params, str):
        return parse_qsl(params, keep_blank_values=True)
    if isinstance(params, Mapping):
        return [(str(key), str(value)) for key, value in params.items()]
    return [(str(key), str(value)) for key, value in params]


def observation_code_param(terminology: Terminology) -> str | None:
    """Return ``system|code,system|code,...`` for every Observation code the mappers read.

    LOINC codes are listed under their OID system too (``urn:oid:2.16.840.1.113883.6.1``,
    terminology.md v1.1), because a token search matches the system as stored: a server
    holding OID-coded Observations answers only the OID form. Returns ``None`` when a code
    set has prefix families (a token search cannot express a prefix): then search without
    a code filter and let the mappers choose. Codes are sorted so the same terminology
    always gives the same URL.
    """
    codes: set[tuple[str, str]] = set()
    for code_set in terminology.observations.values():
        if code_set.prefixes:
            return None
        codes |= code_set.exact
    if not codes:
        return None
    oids = {uri: oid for oid, uri in OID_SYSTEMS.items()}
    codes |= {(oids[system], code) for system, code in codes if system in oids}
    return ",".join(
        f"{escape_search_value(system)}|{escape_search_value(code)}"
        for system, code in sorted(codes)
    )
