"""Selection: candidates by Condition code only, subjects, bad input, compressed files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from service.mappers import DEFAULT_TERMINOLOGY
from service.mappers.site_codes import terminology_from_mapping
from service.screening.ndjson import find_export_files, type_from_name
from service.screening.selection import Tally, patient_key, select
from service.screening.store import Store
from tests.screening.helpers import write_ndjson


def _condition(pid: str, system: str, code: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": f"{pid}-{code}",
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": system, "code": code}]},
        **extra,
    }


ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("Patient/p1", ("p1", None)),
        ("Patient/p1/_history/3", ("p1", None)),
        ("https://ehr.example.org/fhir/Patient/p1", ("p1", None)),
        ("Group/g1", (None, "subject is not a Patient")),
        ("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", (None, "subject cannot be resolved")),
        ("Patient/../x", (None, "subject cannot be resolved")),
    ],
)
def test_the_patient_is_read_from_the_subject_reference(
    reference: str, expected: tuple[Any, Any]
) -> None:
    assert patient_key({"subject": {"reference": reference}}) == expected


def test_missing_or_unreadable_subjects_are_named() -> None:
    assert patient_key({}) == (None, "no subject")
    assert patient_key({"subject": {"identifier": {"value": "1"}}}) == (
        None,
        "subject cannot be resolved",
    )


def test_file_names_give_resource_types() -> None:
    assert type_from_name("Observation.ndjson") == "Observation"
    assert type_from_name("Observation.003.ndjson.gz") == "Observation"
    assert type_from_name("1.Condition.ndjson") == "Condition"
    assert type_from_name("output.ndjson") is None


def _select(folder: Path, terminology: Any = DEFAULT_TERMINOLOGY) -> tuple[Store, Tally]:
    store = Store(folder / "state.sqlite3")
    tally = Tally()
    select(find_export_files(folder), store, terminology, tally)
    return store, tally


def test_candidates_are_chosen_by_liver_metastasis_code_whatever_the_status(tmp_path: Path) -> None:
    patients = [{"resourceType": "Patient", "id": p} for p in ("a", "b", "c", "d", "e")]
    write_ndjson(tmp_path / "Patient.ndjson", patients)
    write_ndjson(
        tmp_path / "Condition.ndjson",
        [
            _condition("a", ICD, "C7B.02"),
            _condition("b", SCT, "94381002", verificationStatus={"coding": [{"code": "refuted"}]}),
            _condition("c", ICD, "C7A.012"),  # a NET primary, no liver metastasis
            _condition("d", "urn:local", "LIVER-MET"),
            _condition("e", ICD, "I10"),
        ],
    )
    write_ndjson(
        tmp_path / "Observation.ndjson",
        [
            {
                "resourceType": "Observation",
                "id": f"o-{p}",
                "subject": {"reference": f"Patient/{p}"},
            }
            for p in "abcde"
        ],
    )
    store, tally = _select(tmp_path)
    with store:
        assert store.candidate_ids() == {"a", "b"}
        assert store.count("patients") == 5
        assert store.net_count() == 2  # a (C7B.02) and c (NET primary)
        # every Condition (read before candidates are known), then only the candidates'
        # Patient and Observation rows
        assert store.count("resources") == 5 + 2 + 2
        groups = dict(store.pending_groups())
        assert [is_patient for is_patient, _ in groups["a"]] == [1, 0, 0]
    site = terminology_from_mapping(
        {"conditions": {"liver_metastasis": [{"system": "urn:local", "code": "LIVER-MET"}]}}
    )
    (tmp_path / "state.sqlite3").unlink()
    store, _ = _select(tmp_path, site)
    with store:
        assert store.candidate_ids() == {"a", "b", "d"}
    assert not tally.counts


def test_bad_lines_are_counted_and_the_rest_is_read(tmp_path: Path) -> None:
    lines = [
        json.dumps({"resourceType": "Patient", "id": "a"}),
        "{not json",
        "[1, 2]",
        json.dumps({"resourceType": "Patient", "id": "../x"}),
        json.dumps({"resourceType": "Encounter", "id": "e1"}),
        json.dumps({"resourceType": "Condition", "id": "c1", "code": {}}),
        "",
    ]
    (tmp_path / "mixed.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    packed = gzip.compress(b'{"resourceType": "Patient", "id": "b"}\n' * 50)
    (tmp_path / "Patient.ndjson.gz").write_bytes(packed[: len(packed) // 2])  # cut short
    store, tally = _select(tmp_path)
    with store:
        assert store.count("patients") >= 1
    assert tally.counts["broken line"] == 2
    assert tally.counts["Patient without a valid id"] == 1
    assert tally.counts["type not read: Encounter"] == 1
    assert tally.counts["Condition: no subject"] == 1
    assert tally.counts["file cut short or corrupt (EOFError)"] == 1
    assert tally.examples["broken line"] == ["mixed.ndjson:2", "mixed.ndjson:3"]
