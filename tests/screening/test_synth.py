"""The synthetic population: deterministic, stable per patient, varied, Bulk-shaped."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from service.synth import write_population
from tests.screening.helpers import AT


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    write_population(tmp_path / "a", 60, seed=7, anchor=AT)
    write_population(tmp_path / "b", 60, seed=7, anchor=AT)
    write_population(tmp_path / "c", 60, seed=8, anchor=AT)
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    assert _bytes(tmp_path / "a") != _bytes(tmp_path / "c")


def test_a_smaller_population_is_the_start_of_a_larger_one(tmp_path: Path) -> None:
    write_population(tmp_path / "small", 20, seed=3, anchor=AT)
    write_population(tmp_path / "large", 50, seed=3, anchor=AT)
    for name in ("Patient.ndjson", "Observation.ndjson", "Condition.ndjson"):
        small = (tmp_path / "small" / name).read_text()
        assert (tmp_path / "large" / name).read_text().startswith(small)


def test_gzip_files_hold_ndjson_with_one_resource_type_each(tmp_path: Path) -> None:
    summary = write_population(tmp_path, 40, seed=1, anchor=AT, compress=True)
    for path in summary.files:
        assert path.name.endswith(".ndjson.gz")
        kind = path.name.split(".")[0]
        lines = gzip.decompress(path.read_bytes()).decode().splitlines()
        assert {json.loads(line)["resourceType"] for line in lines} <= {kind}


def test_the_population_has_the_variety_of_a_hospital(tmp_path: Path) -> None:
    write_population(tmp_path, 400, seed=2, anchor=AT)
    conditions = [json.loads(x) for x in (tmp_path / "Condition.ndjson").read_text().splitlines()]
    codes = Counter(c["code"]["coding"][0]["code"] for c in conditions)
    assert codes["C7B.02"] + codes["C78.7"] > 0  # liver metastases
    assert codes["I10"] > 0
    assert codes["C18.7"] + codes["C20"] + codes["C50.911"] + codes["C25.0"] > 0
    observations = (tmp_path / "Observation.ndjson").read_text()
    for spelling in ('"status": "preliminary"', "K/uL", "umol/L", "fhir.cerner.com", "KI67-IHC"):
        assert spelling in observations, spelling
    patients = (tmp_path / "Patient.ndjson").read_text().splitlines()
    assert len(patients) == 400
    site_codes = json.loads((tmp_path / "site-codes.json").read_text())
    assert site_codes["observations"]["ki67"][0]["code"] == "KI67-IHC"


def test_faults_add_each_kind_of_bad_input(tmp_path: Path) -> None:
    summary = write_population(tmp_path, 30, seed=1, anchor=AT, faults=2)
    assert summary.resources["faults"] == 6
    text = (tmp_path / "Observation.ndjson").read_text()
    assert text.count('"resourceType": "Cryptid"') == 2


def test_negative_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="negative"):
        write_population(tmp_path, -1, seed=1, anchor=AT)
