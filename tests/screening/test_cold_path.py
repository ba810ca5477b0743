"""Cold path: the CLI evaluates without the HTTP, web, metrics or validation libraries,
and the indexed Observation and Condition code lookups answer exactly as scanning every
code set does."""

from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys
from pathlib import Path

from service.mappers import DEFAULT_TERMINOLOGY, Terminology
from service.mappers.codes import ICD10CM, LOINC, CodeSet
from service.mappers.site_codes import terminology_from_mapping
from service.records import replace

ROOT = Path(__file__).resolve().parents[2]


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


HEAVY = {"requests", "flask", "jwt", "pydantic", "fhir", "matplotlib", "prometheus_client"}


def test_an_evaluation_from_the_cli_imports_no_http_web_metrics_or_validation_library() -> None:
    scenario = ROOT / "tests" / "fixtures" / "scenarios" / "age_exactly_55.json"
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "service", "evaluate", "--bundle",
         str(scenario), "--at", "2026-11-22"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in run.stderr.splitlines()}
    assert "service" in imported  # the listing is read as meant
    assert imported & HEAVY == set()
    assert '"assessments"' in run.stdout


def _imported_by(*command: str, site: bool = True) -> set[str]:
    """Return the modules a fresh interpreter imports running ``command``; without
    ``site``, the project and msgspec are put on the path by hand, so that what an
    editable install's import hook loads (pathlib among others) is not counted."""
    env = dict(os.environ)
    options = ["-X", "importtime"]
    if not site:
        spec = importlib.util.find_spec("msgspec")
        assert spec is not None
        assert spec.origin is not None
        env["PYTHONPATH"] = os.pathsep.join((str(ROOT), str(Path(spec.origin).parents[1])))
        options.insert(0, "-S")
    run = subprocess.run(
        [sys.executable, *options, *command], capture_output=True, text=True, check=True,
        cwd=ROOT, env=env,
    )  # fmt: skip
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()}
    assert "service" in imported  # the listing is read as meant
    return imported


def test_an_evaluation_from_the_cli_needs_neither_pathlib_nor_the_criteria_wording() -> None:
    scenario = ROOT / "tests" / "fixtures" / "scenarios" / "age_exactly_55.json"
    imported = _imported_by(
        "-m", "service", "evaluate", "--bundle", str(scenario), "--at", "2026-11-22", site=False
    )
    assert "service.criteria.evaluator" in imported
    unneeded = {"pathlib", "urllib.parse", "string", "service.criteria.documentation"}
    assert imported & unneeded == set()


def test_the_web_app_checks_the_criteria_wording_when_it_starts() -> None:
    imported = _imported_by("-c", "import service.app")
    assert "service.criteria.documentation" in imported


def _scan_conditions(terminology: Terminology, concept: dict[str, object]) -> dict[str, object]:
    from service.mappers.codes import codings_of

    codes = list(codings_of(concept))
    found: dict[str, object] = {
        name: hit for name, cs in terminology.conditions.items() if (hit := cs.match(codes))
    }
    site = terminology.primary_site(codes)
    if site is not None:
        found["primary_site"] = site[0]
    return found


def test_the_indexed_condition_lookup_equals_the_scan_of_every_code_set() -> None:
    pool = [(s, c) for cs in DEFAULT_TERMINOLOGY.conditions.values() for s, c in cs.exact]
    pool += [(s, p + "9") for cs in DEFAULT_TERMINOLOGY.conditions.values() for s, p in cs.prefixes]
    pool += [(s, c.lower().replace(".", "")) for s, c in pool if "icd" in s]
    pool += [("urn:oid:2.16.840.1.113883.6.90", "C7B.02"), (LOINC, "C78.7"), ("x", "K74.60")]
    pool += list(DEFAULT_TERMINOLOGY.primary_sites)[:20]
    short = replace(  # a family shorter than the index's three characters
        DEFAULT_TERMINOLOGY,
        conditions={
            **DEFAULT_TERMINOLOGY.conditions,
            "other": CodeSet(prefixes=((ICD10CM, "C7"),)),
        },
    )
    rng = random.Random(5)
    for terminology in (DEFAULT_TERMINOLOGY, short):
        for _ in range(3000):
            codings = [{"system": s, "code": c} for s, c in rng.sample(pool, rng.randint(0, 4))]
            concept = {"coding": codings}
            found = terminology.condition_categories(concept)
            expected = _scan_conditions(terminology, concept)
            assert list(found.items()) == list(expected.items()), codings
