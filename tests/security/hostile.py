"""Hostile documents for the security pass: each a body (bytes) and a content type,
built to break a JSON reader, a number reader or a worker's memory."""

from __future__ import annotations

import json

from tests.cli.hostile import bundle_text, observation_text, patient_text

MIB = 1024 * 1024
FHIR_JSON = "application/fhir+json"


def _bundle(*resources: str) -> str:
    entries = ",".join(f'{{"resource": {r}}}' for r in resources)
    return f'{{"resourceType": "Bundle", "type": "collection", "entry": [{entries}]}}'


def _with_value(literal: str) -> str:
    """A Bundle whose bilirubin value is ``literal`` (a JSON number, or not quite)."""
    text = observation_text("bilirubin")
    start = text.index('"value": ') + len('"value": ')
    end = text.index(", ", start)
    return _bundle(patient_text(), text[:start] + literal + text[end:])


def _nested(depth: int, opening: str, closing: str) -> str:
    return '{"resourceType": "Bundle", "type": "collection", "entry": ' + (
        opening * depth + closing * depth + "}"
    )


def _objects(depth: int) -> str:
    inner = '{"a": ' * depth + "1" + "}" * depth
    return _bundle(patient_text(), f'{{"resourceType": "Basic", "id": "b", "x": {inner}}}')


def _many_entries(count: int) -> str:
    basics = [f'{{"resourceType": "Basic", "id": "b{n}"}}' for n in range(count - 1)]
    return _bundle(patient_text(), *basics)


def _huge_string(size: int) -> str:
    return _bundle(
        f'{{"resourceType": "Patient", "id": "p1", "birthDate": "1975-06-01", '
        f'"name": [{{"family": "{"x" * size}"}}]}}'
    )


def _duplicate_keys() -> str:
    return (
        '{"resourceType": "Bundle", "resourceType": "Patient", "type": "collection", '
        '"entry": [{"resource": {"resourceType": "Patient", "id": "p1", "id": "p2", '
        '"birthDate": "1975-06-01", "birthDate": "not a date"}}]}'
    )


HOSTILE: dict[str, tuple[bytes, str]] = {
    "numbers 1e25 1e400 -Infinity NaN and 5,000 digits": (bundle_text().encode(), FHIR_JSON),
    "1e25": (_with_value("1e25").encode(), FHIR_JSON),
    "1e400": (_with_value("1e400").encode(), FHIR_JSON),
    "-1e400": (_with_value("-1e400").encode(), FHIR_JSON),
    "1e-400": (_with_value("1e-400").encode(), FHIR_JSON),
    "5,000-digit integer": (_with_value("9" * 5000).encode(), FHIR_JSON),
    "50,000-digit negative integer": (_with_value("-" + "7" * 50_000).encode(), FHIR_JSON),
    "5,000-digit fraction": (_with_value("0." + "1" * 5000).encode(), FHIR_JSON),
    "exponent of 5,000 digits": (_with_value("1e" + "9" * 5000).encode(), FHIR_JSON),
    "NaN": (_with_value("NaN").encode(), FHIR_JSON),
    "Infinity": (_with_value("Infinity").encode(), FHIR_JSON),
    "value as a string": (_with_value('"1e400"').encode(), FHIR_JSON),
    "value as an object": (_with_value('{"value": 1}').encode(), FHIR_JSON),
    "value true": (_with_value("true").encode(), FHIR_JSON),
    "arrays nested 20,000 deep": (_nested(20_000, "[", "]").encode(), FHIR_JSON),
    "objects nested 12,000 deep": (_objects(12_000).encode(), FHIR_JSON),
    "objects nested 500 deep": (_objects(500).encode(), FHIR_JSON),
    "an 8 MiB string": (_huge_string(8 * MIB).encode(), FHIR_JSON),
    "10,000 entries": (_many_entries(10_000).encode(), FHIR_JSON),
    "10,001 entries": (_many_entries(10_001).encode(), FHIR_JSON),
    "11 MiB": (_huge_string(11 * MIB).encode(), FHIR_JSON),
    "duplicate keys": (_duplicate_keys().encode(), FHIR_JSON),
    "invalid UTF-8": (bundle_text().encode().replace(b"p1", b"p\xff\xfe1", 1), FHIR_JSON),
    "a lone surrogate escape": (
        _bundle('{"resourceType": "Patient", "id": "p1", "gender": "\\ud800"}').encode(),
        FHIR_JSON,
    ),
    "a NUL byte": (_bundle(patient_text()).encode().replace(b"p1", b"p\x001", 1), FHIR_JSON),
    "UTF-8 BOM": (b"\xef\xbb\xbf" + bundle_text().encode(), FHIR_JSON),
    "UTF-16": (bundle_text().encode("utf-16"), FHIR_JSON),
    "text/plain": (bundle_text().encode(), "text/plain"),
    "application/xml": (b"<Bundle xmlns='http://hl7.org/fhir'/>", "application/xml"),
    "form-encoded": (b"a=1&b=2", "application/x-www-form-urlencoded"),
    "multipart without a boundary": (bundle_text().encode(), "multipart/form-data"),
    "json with a charset": (bundle_text().encode(), "application/json; charset=latin-1"),
    "no body": (b"", FHIR_JSON),
    "null": (b"null", FHIR_JSON),
    "a top-level number 1e400": (b"1e400", FHIR_JSON),
    "a top-level string": (json.dumps("x" * 1000).encode(), FHIR_JSON),
    "a list of Bundles": (("[" + bundle_text() + "]").encode(), FHIR_JSON),
    "truncated": (bundle_text().encode()[:-7], FHIR_JSON),
    "a Patient, not a Bundle": (patient_text().encode(), FHIR_JSON),
}
"""name -> (body, content type). None may give a 5xx anywhere."""
