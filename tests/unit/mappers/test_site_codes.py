"""A site's mapping file adds local codes without code changes (terminology.md).

Codes are added, never removed. A malformed mapping fails with
:class:`SiteCodesError` naming the entry; so does a missing or non-JSON file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.mappers import DEFAULT_TERMINOLOGY
from service.mappers.site_codes import SiteCodesError, load_terminology, terminology_from_mapping

from .conftest import KI67, condition, map_resources, observation, point, procedure, quantity

LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282"
MAPPING: dict[str, Any] = {
    "observations": {"ki67": [{"system": LOCAL, "code": "KI67PCT"}]},
    "conditions": {"extrahepatic_metastasis": [{"system": LOCAL, "code": "METS-BONE"}]},
    "primary_sites": [
        {"system": LOCAL, "code": "NET-ILEUM", "site": "ileum", "drainage": "portal"},
        {"system": LOCAL, "code": "NET-LUNG", "site": " lung ", "drainage": "not_portal"},
    ],
    "procedures": {"primary_resection": [{"system": LOCAL, "code": "RIGHT-HEMI"}]},
}


def test_a_mapped_local_ki67_code_is_recognised() -> None:
    terminology = terminology_from_mapping(MAPPING)
    resource = observation((LOCAL, "KI67PCT"), valueQuantity=quantity(12, "%"))
    assert map_resources(resource).ki67 is None
    inputs = map_resources(resource, terminology=terminology)
    assert inputs.ki67 is not None
    assert inputs.ki67.value == point("12")


def test_a_mapped_local_primary_site_carries_its_site_and_drainage() -> None:
    terminology = terminology_from_mapping(MAPPING)
    inputs = map_resources(
        condition((LOCAL, "NET-ILEUM"), id="ileum"),
        condition((LOCAL, "NET-LUNG"), id="lung", onset="2025-02-01"),
        terminology=terminology,
    )
    assert [(s.reference, s.site, s.drainage) for s in inputs.primary_sites] == [
        ("Condition/ileum", "ileum", "portal"),
        ("Condition/lung", "lung", "not_portal"),
    ]


def test_mapped_local_condition_and_procedure_codes_are_recognised() -> None:
    terminology = terminology_from_mapping(MAPPING)
    inputs = map_resources(
        condition((LOCAL, "METS-BONE")),
        procedure((LOCAL, "RIGHT-HEMI")),
        terminology=terminology,
    )
    assert [f.code for f in inputs.extrahepatic_metastases] == ["METS-BONE"]
    assert [p.code for p in inputs.primary_resections] == ["RIGHT-HEMI"]


def test_a_mapping_adds_codes_and_keeps_the_shipped_ones() -> None:
    terminology = terminology_from_mapping(MAPPING)
    inputs = map_resources(
        observation(KI67, valueQuantity=quantity(3, "%")),
        condition("C7A.012", id="primary"),
        terminology=terminology,
    )
    assert inputs.ki67 is not None
    assert [s.site for s in inputs.primary_sites] == ["ileum"]


def test_an_empty_mapping_is_the_shipped_terminology() -> None:
    assert terminology_from_mapping({}) == DEFAULT_TERMINOLOGY


@pytest.mark.parametrize(
    ("mapping", "names"),
    [
        pytest.param([], "JSON object", id="not an object"),
        pytest.param({"labs": {}}, "labs", id="unknown section"),
        pytest.param({"observations": []}, "observations", id="section not an object"),
        pytest.param(
            {"observations": {"ki-67": [{"system": LOCAL, "code": "K"}]}},
            "observations.ki-67",
            id="unknown key",
        ),
        pytest.param(
            {"conditions": {"cirrhosis": {"system": LOCAL, "code": "K"}}},
            "conditions.cirrhosis",
            id="codes not a list",
        ),
        pytest.param(
            {"observations": {"ki67": [{"system": LOCAL}]}},
            r"observations\.ki67\[0\]",
            id="missing code",
        ),
        pytest.param(
            {"procedures": {"primary_resection": [{"system": LOCAL, "code": "A"}, "B"]}},
            r"procedures\.primary_resection\[1\]",
            id="code not an object",
        ),
        pytest.param(
            {"observations": {"ki67": [{"system": "", "code": "K"}]}},
            r"observations\.ki67\[0\]",
            id="empty system",
        ),
        pytest.param({"primary_sites": {}}, "primary_sites", id="sites not a list"),
        pytest.param(
            {"primary_sites": [{"system": LOCAL, "code": "X", "site": "ileum"}]},
            r"primary_sites\[0\].*drainage",
            id="missing drainage",
        ),
        pytest.param(
            {
                "primary_sites": [
                    {"system": LOCAL, "code": "X", "site": "ileum", "drainage": "portal"},
                    {"system": LOCAL, "code": "Y", "site": "ileum", "drainage": "hepatic"},
                ]
            },
            r"primary_sites\[1\].*drainage",
            id="bad drainage",
        ),
        pytest.param(
            {"primary_sites": [{"system": LOCAL, "code": "X", "drainage": "portal"}]},
            r"primary_sites\[0\].*site",
            id="missing site",
        ),
        pytest.param(
            {"primary_sites": [{"system": LOCAL, "site": "ileum", "drainage": "portal"}]},
            r"primary_sites\[0\]",
            id="site without code",
        ),
    ],
)
def test_a_malformed_mapping_fails_naming_the_entry(mapping: Any, names: str) -> None:
    with pytest.raises(SiteCodesError, match=names):
        terminology_from_mapping(mapping)


def test_load_terminology_without_a_path_is_the_shipped_terminology() -> None:
    assert load_terminology(None) is DEFAULT_TERMINOLOGY


def test_load_terminology_reads_a_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "site-codes.json"
    path.write_text(json.dumps(MAPPING), encoding="utf-8")
    terminology = load_terminology(path)
    assert terminology.observation_input({"coding": [{"system": LOCAL, "code": "KI67PCT"}]}) == (
        "ki67",
        (LOCAL, "KI67PCT"),
    )


def test_load_terminology_on_a_missing_file_fails_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(SiteCodesError, match="absent.json"):
        load_terminology(path)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{not json", id="not JSON"),
        pytest.param(b"\xff\xfe{}", id="not UTF-8"),
    ],
)
def test_load_terminology_on_bad_json_fails_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "site-codes.json"
    path.write_bytes(content)
    with pytest.raises(SiteCodesError, match="site-codes.json.*not valid JSON"):
        load_terminology(path)


def test_load_terminology_names_the_file_and_the_entry_of_a_malformed_mapping(
    tmp_path: Path,
) -> None:
    path = tmp_path / "site-codes.json"
    path.write_text(json.dumps({"observations": {"nope": []}}), encoding="utf-8")
    with pytest.raises(SiteCodesError, match=r"site-codes\.json.*observations\.nope"):
        load_terminology(path)
