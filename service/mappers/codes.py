"""The codes the service recognises (terminology.md), as named code sets.

A resource matches a code set when **any** of its codings matches (system and code
compared exactly, never display text). Families that terminology.md says to match
by prefix (C77.x, C78.0-C78.6, C78.8x, C79.x, K71.x) are prefix entries; every other
code is exact. :func:`service.mappers.site_codes.load_site_codes` extends these
defaults with a site's local codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import Any

from service.mappers.sites import PRIMARY_SITES, PROCEDURE_ORGANS, SiteOfPrimary
from service.mappers.systems import (
    ASSESSMENT_SYSTEM,
    ICD10CM,
    LOINC,
    NCIT,
    SNOMED,
    UCUM,
    Code,
    canonical,
    codings_of,
)
from service.records import Struct, field, replace

__all__ = [
    "ASSESSMENT_SYSTEM",
    "ICD10CM",
    "LOINC",
    "NCIT",
    "SNOMED",
    "UCUM",
    "CodeSet",
    "SiteOfPrimary",
    "Terminology",
    "canonical",
    "codings_of",
]


class CodeSet(Struct, frozen=True):
    """Exact (system, code) pairs plus (system, prefix) families."""

    exact: frozenset[Code] = frozenset()
    prefixes: tuple[Code, ...] = ()

    def match(self, codes: Iterable[Code]) -> Code | None:
        """Return the first coding that matches, or ``None``."""
        for system, code in codes:
            if (system, code) in self.exact:
                return system, code
            for prefix_system, prefix in self.prefixes:
                if system == prefix_system and code.startswith(prefix):
                    return system, code
        return None

    def extended(self, extra: Iterable[Code]) -> CodeSet:
        """Return this set with more exact codes."""
        return replace(self, exact=self.exact | frozenset(extra))


def _codes(system: str, *codes: str) -> frozenset[Code]:
    return frozenset((system, code) for code in codes)


OBSERVATION_CODES: Mapping[str, CodeSet] = MappingProxyType(
    {
        "ki67": CodeSet(_codes(LOINC, "29593-1")),
        "ki67_breast": CodeSet(_codes(LOINC, "85330-9")),
        # Panels whose components carry a Ki-67 (none shipped; a site maps its own): the
        # panel is searched for, only its Ki-67 component is read (criteria.md §7, v1.1).
        "ki67_panel": CodeSet(),
        "bilirubin": CodeSet(_codes(LOINC, "1975-2", "42719-5", "14631-6", "54363-7")),
        "platelets": CodeSet(_codes(LOINC, "777-3", "26515-7", "778-1", "49497-1", "74464-9")),
        "disease_course": CodeSet(_codes(LOINC, "97509-4")),
        "ecog": CodeSet(_codes(LOINC, "89247-1")),
        "grade": CodeSet(_codes(LOINC, "33732-9") | _codes(NCIT, "C18000")),
        "hepatic_tumour_burden": CodeSet(_codes(ASSESSMENT_SYSTEM, "hepatic-tumour-burden")),
        "future_liver_remnant": CodeSet(_codes(ASSESSMENT_SYSTEM, "future-liver-remnant")),
        "extrahepatic_staging": CodeSet(_codes(ASSESSMENT_SYSTEM, "extrahepatic-disease")),
        "metastatic_pattern": CodeSet(_codes(ASSESSMENT_SYSTEM, "metastatic-pattern")),
        "hepatic_disease_resectable": CodeSet(
            _codes(ASSESSMENT_SYSTEM, "hepatic-disease-resectable")
        ),
        "primary_resectable": CodeSet(_codes(ASSESSMENT_SYSTEM, "primary-resectable")),
        "primary_resected": CodeSet(_codes(ASSESSMENT_SYSTEM, "primary-resected")),
        "refractory_hormonal_syndrome": CodeSet(
            _codes(ASSESSMENT_SYSTEM, "refractory-hormonal-syndrome")
        ),
        "major_hepatectomy_planned": CodeSet(
            _codes(ASSESSMENT_SYSTEM, "major-hepatectomy-planned")
        ),
    }
)
"""Observation.code per input (terminology.md "Laboratory results", assessment codes)."""

_EXTRAHEPATIC_PREFIXES = tuple(
    (ICD10CM, prefix)
    for prefix in ("C79", "C78.0", "C78.1", "C78.2", "C78.3", "C78.4", "C78.5", "C78.6", "C78.8")
)
"""Extrahepatic metastasis families; regional lymph nodes (C77.x) are their own category."""

CONDITION_CODES: Mapping[str, CodeSet] = MappingProxyType(
    {
        "neuroendocrine_carcinoma": CodeSet(_codes(ICD10CM, "C7A.1")),
        "liver_metastasis": CodeSet(
            _codes(ICD10CM, "C7B.02", "C78.7") | _codes(SNOMED, "94381002", "285613005")
        ),
        "extrahepatic_metastasis": CodeSet(
            _codes(ICD10CM, "C7B.00", "C7B.01", "C7B.03", "C7B.04", "C7B.09"),
            _EXTRAHEPATIC_PREFIXES,
        ),
        "regional_node_metastasis": CodeSet(prefixes=((ICD10CM, "C77"),)),
        "cirrhosis": CodeSet(
            _codes(ICD10CM, "K74.60", "K74.69", "K70.30", "K70.31") | _codes(SNOMED, "19943007")
        ),
        "significant_liver_disease": CodeSet(
            _codes(ICD10CM, "K76.0") | _codes(SNOMED, "197321007"), ((ICD10CM, "K71"),)
        ),
        "portal_hypertension_signs": CodeSet(
            _codes(ICD10CM, "K76.6", "R18.0", "R18.8", "I85.00", "I85.01", "I85.10", "I85.11")
            | _codes(ICD10CM, "R16.1")
            | _codes(SNOMED, "34742003", "389026000", "28670008", "897004000")
        ),
        "carcinoid_syndrome": CodeSet(
            _codes(ICD10CM, "E34.0", "E34.00", "E34.09") | _codes(SNOMED, "35868009")
        ),
        "carcinoid_heart_disease": CodeSet(_codes(ICD10CM, "E34.01") | _codes(SNOMED, "36222008")),
    }
)
"""Condition.code per category (terminology.md "Conditions")."""

PROCEDURE_CODES: Mapping[str, CodeSet] = MappingProxyType(
    {
        "primary_resection": CodeSet(
            _codes(SNOMED, "107938000", "116241004", "80146002", "173171007")
        ),
        "liver_transplant": CodeSet(_codes(SNOMED, "18027006")),
    }
)
"""Procedure.code per category (terminology.md "Procedures")."""

CONDITION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "neuroendocrine_carcinoma": "neuroendocrine carcinoma",
        "liver_metastasis": "liver metastasis",
        "extrahepatic_metastasis": "extrahepatic metastasis",
        "regional_node_metastasis": "regional lymph-node metastasis",
        "cirrhosis": "cirrhosis",
        "significant_liver_disease": "steatosis or toxic liver injury",
        "portal_hypertension_signs": "portal-hypertension sign",
        "carcinoid_syndrome": "carcinoid syndrome",
        "carcinoid_heart_disease": "carcinoid heart disease",
        "primary_site": "NET primary",
    }
)

_PORTAL_SIGN_NAMES: Mapping[Code, str] = MappingProxyType(
    {
        **{(ICD10CM, c): "portal hypertension" for c in ("K76.6",)},
        (SNOMED, "34742003"): "portal hypertension",
        **{(ICD10CM, c): "ascites" for c in ("R18.0", "R18.8")},
        (SNOMED, "389026000"): "ascites",
        **{(ICD10CM, c): "oesophageal varices" for c in ("I85.00", "I85.01", "I85.10", "I85.11")},
        (SNOMED, "28670008"): "oesophageal varices",
        (SNOMED, "897004000"): "oesophageal varices",
        (ICD10CM, "R16.1"): "splenomegaly",
    }
)


class Terminology(Struct, frozen=True, dict=True):
    """All code sets in force: the shipped defaults plus any site mapping."""

    observations: Mapping[str, CodeSet] = field(default_factory=lambda: OBSERVATION_CODES)
    conditions: Mapping[str, CodeSet] = field(default_factory=lambda: CONDITION_CODES)
    procedures: Mapping[str, CodeSet] = field(default_factory=lambda: PROCEDURE_CODES)
    primary_sites: Mapping[Code, SiteOfPrimary] = field(default_factory=lambda: PRIMARY_SITES)
    procedure_organs: Mapping[Code, frozenset[str]] = field(
        default_factory=lambda: PROCEDURE_ORGANS
    )
    """The organs each primary-resection code removes; a code without an entry (a site
    code mapped without an organ) is a resection of the primary whatever its organ."""

    @cached_property
    def _observation_index(self) -> dict[Code, int] | None:
        """Exact Observation codes → the rank of their input (the first input listing a
        code wins); ``None`` when a set has prefix families (then sets are scanned)."""
        index: dict[Code, int] = {}
        for rank, code_set in enumerate(self.observations.values()):
            if code_set.prefixes:
                return None
            for exact in code_set.exact:
                index.setdefault(exact, rank)
        return index

    @cached_property
    def _observation_names(self) -> tuple[str, ...]:
        return tuple(self.observations)

    def observation_input(self, code: Any) -> tuple[str, Code] | None:
        """Return (input name, matching coding) for an Observation.code, if any: the first
        input (in the order of ``observations``) that any coding matches."""
        index = self._observation_index
        if index is not None:  # one dict lookup per coding instead of a scan of every set
            best: tuple[int, Code] | None = None
            for key in codings_of(code):
                rank = index.get(key)
                if rank is not None and (best is None or rank < best[0]):
                    best = (rank, key)
            return None if best is None else (self._observation_names[best[0]], best[1])
        codes = codings_of(code)
        for name, code_set in self.observations.items():
            hit = code_set.match(codes)
            if hit is not None:
                return name, hit
        return None

    @cached_property
    def _condition_index(
        self,
    ) -> tuple[dict[Code, tuple[str, ...]], dict[Code, tuple[tuple[str, str], ...]]]:
        """Exact Condition codes → their categories; and the (category, prefix) families
        by (system, the prefix's first three characters), so a code meets only the
        families that could hold it."""
        exact: dict[Code, tuple[str, ...]] = {}
        families: dict[Code, tuple[tuple[str, str], ...]] = {}
        for name, code_set in self.conditions.items():
            for code in code_set.exact:
                exact[code] = (*exact.get(code, ()), name)
            for system, prefix in code_set.prefixes:
                key = (system, prefix[:3]) if len(prefix) >= 3 else (system, "")
                families[key] = (*families.get(key, ()), (name, prefix))
        return exact, families

    def condition_categories(self, code: Any) -> dict[str, Code]:
        """Return every category an Condition.code falls in, with the coding matched (for
        each category the first coding that matches it; categories in the order of
        ``conditions``)."""
        codes = codings_of(code)
        exact, families = self._condition_index
        hits: dict[str, Code] = {}
        for coding in codes:
            for name in exact.get(coding, ()):
                hits.setdefault(name, coding)
            shorter = families.get((coding[0], ""), ())  # a family under 3 characters
            for name, prefix in (*families.get((coding[0], coding[1][:3]), ()), *shorter):
                if coding[1].startswith(prefix):
                    hits.setdefault(name, coding)
        found = {name: hits[name] for name in self.conditions if name in hits} if hits else {}
        site = self.primary_site(codes)
        if site is not None:
            found["primary_site"] = site[0]
        return found

    def primary_site(self, codes: Iterable[Code]) -> tuple[Code, SiteOfPrimary] | None:
        """Return the first coding that names a NET primary site, with what it says."""
        for code in codes:
            site = self.primary_sites.get(code)
            if site is not None:
                return code, site
        return None

    def procedure_categories(self, code: Any) -> dict[str, Code]:
        """Return every category a Procedure.code falls in, with the coding matched."""
        codes = codings_of(code)
        return {name: hit for name, cs in self.procedures.items() if (hit := cs.match(codes))}

    @staticmethod
    def portal_sign_name(code: Code) -> str:
        """Return which portal-hypertension sign a code stands for."""
        return _PORTAL_SIGN_NAMES.get(code, "portal-hypertension sign")


DEFAULT_TERMINOLOGY = Terminology()
