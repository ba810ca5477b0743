"""Which codes are recognised (terminology.md).

A resource matches when any of its codings matches, system and code compared
exactly, never on display text. Some codes look alike but must not be confused;
the breast-specimen Ki-67 is a fall-back only; a few ICD-10-CM families match by
prefix, every other code exactly.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.mappers.codes import ICD10CM, LOINC, SNOMED

from .conftest import (
    BILI,
    KI67,
    KI67_BREAST,
    OLDER,
    condition,
    map_resources,
    observation,
    point,
    procedure,
    quantity,
)

PROPRIETARY = "https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/72"


@pytest.mark.parametrize(
    ("code", "value_quantity", "field"),
    [
        *[
            pytest.param(c, quantity(1, "mg/dL"), "bilirubin", id=f"bilirubin {c}")
            for c in ("1975-2", "42719-5", "14631-6", "54363-7")
        ],
        *[
            pytest.param(c, quantity(150, "10*9/L"), "platelets", id=f"platelets {c}")
            for c in ("777-3", "26515-7", "778-1", "49497-1", "74464-9")
        ],
        pytest.param(KI67, quantity(5, "%"), "ki67", id="Ki-67 29593-1"),
    ],
)
def test_every_lab_code_of_the_terminology_is_recognised(
    code: str, value_quantity: dict[str, Any], field: str
) -> None:
    inputs = map_resources(observation(code, valueQuantity=value_quantity))
    assert getattr(inputs, field) is not None


def test_a_loinc_coding_after_a_proprietary_one_without_display_is_matched() -> None:
    code = {
        "coding": [
            {"system": PROPRIETARY, "code": "2798323"},
            {"system": LOINC, "code": KI67},
        ]
    }
    inputs = map_resources(observation(code, valueQuantity=quantity(7, "%")))
    assert inputs.ki67 is not None
    assert inputs.ki67.value == point("7")


@pytest.mark.parametrize(
    "code",
    [
        pytest.param({"text": "Ki-67"}, id="text only"),
        pytest.param(
            {"coding": [{"system": PROPRIETARY, "code": "1", "display": "Ki-67 index"}]},
            id="display only",
        ),
        pytest.param({"coding": [{"code": KI67}]}, id="code without system"),
        pytest.param({"coding": [{"system": "http://loinc.org/", "code": KI67}]}, id="slash"),
        pytest.param({"coding": [{"system": "LOINC", "code": KI67}]}, id="system by name"),
        pytest.param({"coding": [{"system": LOINC, "code": " 29593-1"}]}, id="blank in code"),
        pytest.param({"coding": [{"system": SNOMED, "code": KI67}]}, id="other system"),
    ],
)
def test_display_text_or_an_inexact_coding_is_never_matched(code: dict[str, Any]) -> None:
    inputs = map_resources(observation(code, valueQuantity=quantity(7, "%")))
    assert inputs.ki67 is None


@pytest.mark.parametrize(
    ("code", "value_quantity", "field"),
    [
        pytest.param("85319-2", quantity(5, "%"), "ki67", id="85319-2 is HER2"),
        pytest.param("13056-7", quantity(150, "10*9/L"), "platelets", id="13056-7 in plasma"),
        pytest.param("26516-5", quantity(150, "10*9/L"), "platelets", id="26516-5 in plasma"),
    ],
)
def test_codes_not_to_confuse_are_not_matched(
    code: str, value_quantity: dict[str, Any], field: str
) -> None:
    inputs = map_resources(observation(code, valueQuantity=value_quantity))
    assert getattr(inputs, field) is None


def breast_ki67(**elements: Any) -> dict[str, Any]:
    """Return a breast-specimen Ki-67 of 40 % dated today."""
    return observation(
        KI67_BREAST, id="breast", date="2026-11-22", valueQuantity=quantity(40, "%"), **elements
    )


def test_the_breast_specimen_ki67_is_used_when_no_other_exists() -> None:
    inputs = map_resources(breast_ki67())
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/breast"


def test_the_breast_specimen_ki67_gives_way_to_an_older_tissue_ki67() -> None:
    inputs = map_resources(
        breast_ki67(), observation(KI67, id="tissue", date=OLDER, valueQuantity=quantity(3, "%"))
    )
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/tissue"


@pytest.mark.parametrize(
    "tissue",
    [
        pytest.param(observation(KI67, id="t", status="preliminary"), id="preliminary"),
        pytest.param(observation(KI67, id="t", valueQuantity=quantity("abc", "%")), id="bad"),
        pytest.param(observation(KI67, id="t", date="2027-01-01"), id="future"),
        pytest.param(observation(KI67, id="t"), id="no value"),
    ],
)
def test_the_breast_specimen_ki67_is_used_when_no_usable_tissue_ki67_exists(
    tissue: dict[str, Any],
) -> None:
    inputs = map_resources(breast_ki67(), tissue)
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/breast"


def name(code: str | tuple[str, str]) -> str:
    """Return a code for a test id (a SNOMED pair as its code)."""
    return code if isinstance(code, str) else code[1]


CONDITION_FAMILIES = [
    *[
        pytest.param(code, "extrahepatic_metastases", id=f"{code} extrahepatic")
        for code in (
            "C7B.00",
            "C7B.01",
            "C7B.03",
            "C7B.04",
            "C7B.09",
            "C78.00",
            "C78.01",
            "C78.1",
            "C78.2",
            "C78.39",
            "C78.4",
            "C78.5",
            "C78.6",
            "C78.80",
            "C78.89",
            "C79.51",
            "C79.9",
        )
    ],
    *[
        pytest.param(code, "regional_node_metastases", id=f"{name(code)} regional nodes")
        for code in ("C77.0", "C77.2", "C77.9")
    ],
    *[
        pytest.param(code, "liver_metastases", id=f"{name(code)} liver")
        for code in ("C7B.02", "C78.7", (SNOMED, "94381002"), (SNOMED, "285613005"))
    ],
    *[
        pytest.param(code, "cirrhosis", id=f"{name(code)} cirrhosis")
        for code in ("K74.60", "K74.69", "K70.30", "K70.31", (SNOMED, "19943007"))
    ],
    *[
        pytest.param(code, "significant_liver_disease", id=f"{name(code)} liver disease")
        for code in ("K76.0", "K71.0", "K71.6", "K71.9", (SNOMED, "197321007"))
    ],
    *[
        pytest.param(code, "carcinoid_heart_disease", id=f"{name(code)} heart")
        for code in ("E34.01", (SNOMED, "36222008"))
    ],
]


@pytest.mark.parametrize(("code", "field"), CONDITION_FAMILIES)
def test_condition_codes_fall_in_their_category(code: Any, field: str) -> None:
    inputs = map_resources(condition(code))
    assert [fact.reference for fact in getattr(inputs, field)] == ["Condition/c1"]


@pytest.mark.parametrize("code", ["C78.7", "C7B.02", "C78.70", "C7B.1", "C78", "C7A.1", "C76.0"])
def test_codes_outside_the_extrahepatic_families_are_not_extrahepatic(code: str) -> None:
    inputs = map_resources(condition(code))
    assert inputs.extrahepatic_metastases == ()


@pytest.mark.parametrize("code", ["K74.6", "K70.3", "K76.00", "K72.0"])
def test_exact_liver_disease_codes_are_not_matched_by_prefix(code: str) -> None:
    inputs = map_resources(condition(code))
    assert inputs.cirrhosis == ()
    assert inputs.significant_liver_disease == ()


@pytest.mark.parametrize(
    ("code", "sign"),
    [
        ("K76.6", "portal hypertension"),
        ((SNOMED, "34742003"), "portal hypertension"),
        ("R18.0", "ascites"),
        ("R18.8", "ascites"),
        ((SNOMED, "389026000"), "ascites"),
        ("I85.00", "oesophageal varices"),
        ("I85.11", "oesophageal varices"),
        ((SNOMED, "28670008"), "oesophageal varices"),
        ((SNOMED, "897004000"), "oesophageal varices"),
        ("R16.1", "splenomegaly"),
    ],
)
def test_portal_hypertension_signs_are_recognised_and_named(code: Any, sign: str) -> None:
    inputs = map_resources(condition(code))
    assert [fact.display for fact in inputs.portal_hypertension_signs] == [sign]


@pytest.mark.parametrize(
    ("code", "drainage"),
    [
        *[
            (code, "portal")
            for code in (
                "C25.4",
                (SNOMED, "93843007"),
                "C7A.010",
                "C7A.011",
                "C7A.012",
                "C7A.019",
                "C7A.020",
                "C7A.021",
                "C7A.022",
                "C7A.023",
                "C7A.024",
                "C7A.025",
                "C7A.092",
                "C7A.095",
            )
        ],
        *[
            (code, "not_portal")
            for code in ("C7A.090", "C7A.091", "C7A.093", "C7A.026", (SNOMED, "285613005"))
        ],
        *[
            (code, "undetermined")
            for code in (
                "C7A.00",
                "C7A.029",
                "C7A.094",
                "C7A.096",
                "C7A.098",
                "C7A.8",
                (SNOMED, "445238008"),
                (SNOMED, "443492008"),
            )
        ],
    ],
)
def test_primary_site_codes_say_whether_the_portal_system_drains_them(
    code: Any, drainage: str
) -> None:
    inputs = map_resources(condition(code))
    assert [site.drainage for site in inputs.primary_sites] == [drainage]
    assert inputs.primary_sites[0].code == name(code)


def test_a_condition_is_matched_on_any_of_its_codings() -> None:
    code = {
        "coding": [
            {"system": "urn:oid:2.16.840.1.113883.6.96.local", "code": "NET-ILEUM"},
            {"system": ICD10CM, "code": "C7A.012"},
        ]
    }
    inputs = map_resources(condition(code, id="primary"))
    assert [site.site for site in inputs.primary_sites] == ["ileum"]


def test_a_condition_named_only_in_its_display_is_not_matched() -> None:
    code = {"coding": [{"system": ICD10CM, "code": "X", "display": "C7A.012"}], "text": "C25.4"}
    inputs = map_resources(condition(code))
    assert inputs.primary_sites == ()


def test_an_unrecognised_lab_is_not_read_as_any_input() -> None:
    inputs = map_resources(observation(BILI + "x", valueQuantity=quantity(1, "mg/dL")))
    assert inputs.bilirubin is None


LOINC_OID = "urn:oid:2.16.840.1.113883.6.1"
SNOMED_OID = "urn:oid:2.16.840.1.113883.6.96"
ICD10CM_OID = "urn:oid:2.16.840.1.113883.6.90"


def test_loinc_sent_as_its_oid_is_loinc() -> None:
    inputs = map_resources(observation((LOINC_OID, KI67), valueQuantity=quantity(7, "%")))
    assert inputs.ki67 is not None
    assert inputs.ki67.value == point("7")


@pytest.mark.parametrize(
    ("code", "field"),
    [
        pytest.param((ICD10CM_OID, "C7B.03"), "extrahepatic_metastases", id="ICD-10-CM OID"),
        pytest.param((SNOMED_OID, "19943007"), "cirrhosis", id="SNOMED CT OID"),
        pytest.param("C7B03", "extrahepatic_metastases", id="dotless"),
        pytest.param("c7b.03", "extrahepatic_metastases", id="lower case"),
        pytest.param("c7b03", "extrahepatic_metastases", id="dotless lower case"),
        pytest.param((ICD10CM_OID, "c7b03"), "extrahepatic_metastases", id="OID, dotless, lower"),
        pytest.param("C7901", "extrahepatic_metastases", id="dotless prefix family C79.01"),
        pytest.param("C772", "regional_node_metastases", id="dotless C77.2"),
        pytest.param("K7460", "cirrhosis", id="dotless K74.60"),
        pytest.param("k7160", "significant_liver_disease", id="dotless K71.x family"),
    ],
)
def test_oid_systems_and_icd10cm_spellings_are_recognised(code: Any, field: str) -> None:
    inputs = map_resources(condition(code))
    assert [fact.reference for fact in getattr(inputs, field)] == ["Condition/c1"]


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("C7A012", id="dotless"),
        pytest.param("c7a.012", id="lower case"),
        pytest.param((ICD10CM_OID, "C7A.012"), id="OID"),
    ],
)
def test_a_primary_site_in_any_icd10cm_spelling_says_where(code: Any) -> None:
    inputs = map_resources(condition(code))
    assert [(s.site, s.code) for s in inputs.primary_sites] == [("ileum", "C7A.012")]


@pytest.mark.parametrize(
    "code",
    [
        pytest.param((LOINC, "29593-1 "), id="LOINC with a blank"),
        pytest.param((LOINC_OID.upper(), KI67), id="OID in another case"),
        pytest.param(("urn:oid:2.16.840.1.113883.6.1.1", KI67), id="another OID"),
    ],
)
def test_loinc_codes_and_oids_still_match_exactly(code: Any) -> None:
    inputs = map_resources(observation(code, valueQuantity=quantity(7, "%")))
    assert inputs.ki67 is None


def test_snomed_codes_match_exactly_and_are_not_case_folded() -> None:
    inputs = map_resources(condition((SNOMED, "19943007 ")))
    assert inputs.cirrhosis == ()


def test_a_procedure_code_sent_with_the_snomed_oid_is_recognised() -> None:
    inputs = map_resources(procedure((SNOMED_OID, "18027006"), id="lt"))
    assert [p.reference for p in inputs.liver_transplants] == ["Procedure/lt"]
