"""Code systems and how a coding is put in canonical form before it is matched.

terminology.md (v1.1): interfaces also send the OID forms of LOINC, SNOMED CT and
ICD-10-CM, which mean the same systems; ICD-10-CM codes match with or without the dot
and in either case (``C7B.02`` = ``C7B02`` = ``c7b.02``); LOINC and SNOMED codes match
exactly. :func:`canonical` turns a (system, code) pair into the form the code sets use,
so every comparison stays an exact one.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = [
    "ASSESSMENT_SYSTEM",
    "ICD10CM",
    "LOINC",
    "NCIT",
    "OID_SYSTEMS",
    "SNOMED",
    "UCUM",
    "Code",
    "canonical",
    "code_problem",
    "codings_of",
]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
ASSESSMENT_SYSTEM = "https://nelm-cds.github.io/fhir/CodeSystem/nelm-assessment"

Code = tuple[str, str]

OID_SYSTEMS: Mapping[str, str] = MappingProxyType(
    {
        "urn:oid:2.16.840.1.113883.6.1": LOINC,
        "urn:oid:2.16.840.1.113883.6.96": SNOMED,
        "urn:oid:2.16.840.1.113883.6.90": ICD10CM,
    }
)
"""The OID form of each system → its canonical URI (terminology.md, v1.1)."""


_RECODED = frozenset({*OID_SYSTEMS, ICD10CM})
"""Systems whose codings :func:`canonical` changes; every other pair is canonical as sent."""


def canonical(system: str, code: str) -> Code:
    """Return the canonical (system, code): OID systems by their URI, ICD-10-CM codes in
    upper case with the dot after the category (``c7b02`` → ``C7B.02``)."""
    if system not in _RECODED:
        return system, code
    system = OID_SYSTEMS.get(system, system)
    if system == ICD10CM:
        code = code.upper()
        if "." not in code and len(code) > 3:
            code = f"{code[:3]}.{code[3:]}"
    return system, code


def codings_of(concept: Any) -> list[Code]:
    """Return the canonical (system, code) of every well-formed coding of a
    CodeableConcept dict; malformed codings are skipped (the caller may report them)."""
    if type(concept) is not dict:
        return []
    codings = concept.get("coding")
    if type(codings) is not list:
        return []
    found: list[Code] = []
    for coding in codings:
        if type(coding) is dict:
            system, code = coding.get("system"), coding.get("code")
            if type(system) is str and type(code) is str:
                found.append(canonical(system, code))
    return found


def code_problem(concept: Any) -> str | None:
    """Say what is malformed in a CodeableConcept (wrong types), or ``None`` when it is
    well formed or absent; :func:`codings_of` skips such parts silently, so a caller that
    finds nothing it reads can report why."""
    if concept is None:
        return None
    if not isinstance(concept, dict):
        return "code is not a CodeableConcept object"
    codings = concept.get("coding")
    if codings is None:
        return None
    if not isinstance(codings, list):
        return "code.coding is not a list"
    for index, coding in enumerate(codings):
        if not isinstance(coding, dict):
            return f"code.coding[{index}] is not an object"
        for key in ("system", "code"):  # absent is fine, a present null or number is not
            if not isinstance(coding.get(key, ""), str):
                return f"code.coding[{index}].{key} is not a string"
    return None
