"""Cold path: the CLI starts without the HTTP, web or validation libraries, and the
indexed Observation code lookup answers exactly as scanning every code set does."""

from __future__ import annotations

import random
import subprocess
import sys

from service.mappers import DEFAULT_TERMINOLOGY, Terminology
from service.mappers.codes import LOINC
from service.mappers.site_codes import terminology_from_mapping


def _scan(terminology: Terminology, concept: dict[str, object]) -> object:
    from service.mappers.codes import codings_of

    codes = list(codings_of(concept))
    for name, code_set in terminology.observations.items():
        hit = code_set.match(codes)
        if hit is not None:
            return name, hit
    return None


def test_the_indexed_lookup_equals_the_scan_of_every_code_set() -> None:
    site = terminology_from_mapping(
        {"observations": {"ki67": [{"system": "urn:oid:1.2.3", "code": "777-3"}],
                          "platelets": [{"system": "urn:oid:1.2.3", "code": "PLT"}]}}
    )  # fmt: skip
    pool = [(s, c) for cs in site.observations.values() for s, c in cs.exact]
    pool += [(LOINC, "2160-0"), ("urn:oid:9", "X"), (LOINC, "29593-1")]
    rng = random.Random(3)
    for terminology in (DEFAULT_TERMINOLOGY, site):
        for _ in range(2000):
            codings = [{"system": s, "code": c} for s, c in rng.sample(pool, rng.randint(0, 4))]
            concept = {"coding": codings}
            assert terminology.observation_input(concept) == _scan(terminology, concept), codings


def test_the_cli_imports_no_http_web_or_validation_library() -> None:
    code = (
        "import sys, service.cli;"
        "heavy = ('requests', 'flask', 'jwt', 'pydantic', 'fhir.resources', 'matplotlib');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
