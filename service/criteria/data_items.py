"""The data items a clinician can record, with stable keys: one name per thing to record.

A criterion that is ``unknown`` says in free text what would decide it (its ``needs``,
criteria.md §1). Every such text maps here to a :class:`DataItem`: a stable ``key`` (the
service's assessment code where one exists, terminology.md), a clinical ``label``, and the
:class:`~service.criteria.inputs.CriteriaInputs` fields a recording of it fills. The page,
the card, the RiskAssessment note and the population worklist all name items by key, so
they rank the same things.

Two kinds: *data* that the record can hold (a lab, an MDT assessment, a staging result),
and *judgements* the MDT makes that no field of the record holds (whether to resect G3
disease). Only data can change a verdict the service computes; judgements are shown apart.

:func:`item_for_need` maps a ``needs`` text to its item; a text no item claims gets
``None`` (the tests check that every text the rules produce is claimed).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from service.criteria.inputs import EXCLUSION_INPUTS
from service.criteria.rules.course import NEEDS_COURSE, NEEDS_ECOG
from service.criteria.rules.extent import (
    NEEDS_BURDEN,
    NEEDS_PATTERN,
    NEEDS_RESECTABILITY,
    NEEDS_STAGING,
    NEEDS_SYNDROME,
)
from service.criteria.rules.liver import NEEDS_FLR
from service.criteria.rules.patient import NEEDS_BIRTH_DATE
from service.criteria.rules.primary import NEEDS_RESECTABLE, NEEDS_RESECTION, NEEDS_RESECTION_DATE
from service.criteria.rules.tumour import NEEDS_GRADE, NEEDS_KI67, NEEDS_SITE
from service.criteria.unreadable import NEEDS_READABLE_STATUS
from service.records import Struct

__all__ = ["DATA_ITEMS", "DataItem", "item", "item_for_need"]


class DataItem(Struct, frozen=True):
    """One thing to record (or, with ``judgement``, to decide at the MDT).

    ``fields`` are the criteria-input fields a recording fills (empty for judgements).
    ``phrase`` is how a sentence names the item after "record" (the card summary, the
    verdict sentence): a noun phrase, not a question; the label when empty.
    """

    key: str
    label: str
    fields: tuple[str, ...] = ()
    judgement: bool = False
    phrase: str = ""

    @property
    def in_sentence(self) -> str:
        """Return the item as a sentence names it (``"Ki-67 index"``)."""
        return self.phrase or self.label


DATA_ITEMS: tuple[DataItem, ...] = (
    DataItem("birth-date", "Date of birth (full date)", ("birth_date",), phrase="date of birth"),
    DataItem("ki67", "Ki-67 proliferation index (%)", ("ki67",), phrase="Ki-67 index"),
    DataItem("grade", "Histological grade (G1/G2/G3)", ("grade",), phrase="histological grade"),
    DataItem(
        "primary-site",
        "Site of the primary tumour",
        ("primary_sites",),
        phrase="site of the primary tumour",
    ),
    DataItem(
        "primary-resected",
        "Resection of the primary tumour (procedure, or MDT assessment)",
        ("primary_resections", "primary_resected"),
        phrase="resection of the primary tumour",
    ),
    DataItem(
        "primary-resection-date",
        "Date of the primary tumour resection",
        ("primary_resections",),
        phrase="date of the primary resection",
    ),
    DataItem(
        "primary-resectable",
        "Is the primary tumour resectable? (MDT)",
        ("primary_resectable",),
        phrase="MDT assessment of the primary's resectability",
    ),
    DataItem(
        "extrahepatic-disease",
        "Staging for extrahepatic disease (cross-sectional and functional imaging)",
        ("extrahepatic_staging",),
        phrase="staging for extrahepatic disease",
    ),
    DataItem(
        "hepatic-tumour-burden",
        "Hepatic tumour burden (% of liver)",
        ("hepatic_tumour_burden",),
        phrase="hepatic tumour burden",
    ),
    DataItem(
        "refractory-hormonal-syndrome",
        "Is the hormonal syndrome refractory to medical therapy?",
        ("refractory_hormonal_syndrome",),
        phrase="whether the hormonal syndrome is refractory",
    ),
    DataItem(
        "metastatic-pattern",
        "Metastatic pattern (Frilling type I/II/III)",
        ("metastatic_pattern",),
        phrase="metastatic pattern (Frilling type)",
    ),
    DataItem(
        "hepatic-disease-resectable",
        "Is all liver disease resectable or ablatable? (MDT)",
        ("hepatic_disease_resectable",),
        phrase="MDT assessment of liver-disease resectability",
    ),
    DataItem(
        "future-liver-remnant",
        "Future liver remnant (% of liver volume, volumetry)",
        ("future_liver_remnant",),
        phrase="future liver remnant (volumetry)",
    ),
    DataItem(
        "major-hepatectomy-planned",
        "Is a major hepatectomy (3 or more segments) planned?",
        ("major_hepatectomy_planned",),
        phrase="whether a major hepatectomy is planned",
    ),
    DataItem(
        "disease-status",
        "Disease status over the last 6 months (stable, responding, progressing)",
        ("disease_course",),
        phrase="disease status over the last 6 months",
    ),
    DataItem(
        "bilirubin", "Total bilirubin (recent)", ("bilirubin",), phrase="a recent total bilirubin"
    ),
    DataItem(
        "platelets", "Platelet count (recent)", ("platelets",), phrase="a recent platelet count"
    ),
    DataItem("ecog", "ECOG performance status", ("ecog",)),
    DataItem(
        "condition-status",
        "A readable clinical and verification status on the unreadable Condition",
        ("unreadable_conditions", *EXCLUSION_INPUTS),
        phrase="a readable status on the unreadable Condition",
    ),
    DataItem(
        "mdt-liver-dominant-disease",
        "MDT judgement on liver-dominant disease with limited extrahepatic spread",
        judgement=True,
    ),
    DataItem("mdt-g3-resection", "MDT decision on resecting G3 disease", judgement=True),
    DataItem(
        "mdt-which-primary",
        "MDT decision on which primary tumour the liver metastases arise from",
        ("primary_sites",),
    ),
)
"""Every item, in the order the page lists items of equal rank (patient, tumour,
primary, extent, liver, course, fitness)."""

_BY_KEY: Mapping[str, DataItem] = MappingProxyType({i.key: i for i in DATA_ITEMS})

_EXACT: Mapping[str, str] = MappingProxyType(
    {
        NEEDS_BIRTH_DATE: "birth-date",
        NEEDS_KI67: "ki67",
        NEEDS_GRADE: "grade",
        NEEDS_SITE: "primary-site",
        NEEDS_RESECTION: "primary-resected",
        NEEDS_RESECTION_DATE: "primary-resection-date",
        NEEDS_RESECTABLE: "primary-resectable",
        NEEDS_STAGING: "extrahepatic-disease",
        NEEDS_BURDEN: "hepatic-tumour-burden",
        NEEDS_SYNDROME: "refractory-hormonal-syndrome",
        NEEDS_PATTERN: "metastatic-pattern",
        NEEDS_RESECTABILITY: "hepatic-disease-resectable",
        NEEDS_FLR: "future-liver-remnant",
        NEEDS_COURSE: "disease-status",
        NEEDS_ECOG: "ecog",
        "bilirubin reference range in a recognised unit": "bilirubin",
        "MDT judgement on liver-dominant disease with limited stable extrahepatic spread": (
            "mdt-liver-dominant-disease"
        ),
    }
)
_PREFIXES: tuple[tuple[str, str], ...] = (
    # the freshness window is a setting, so these texts end with its number of days
    ("total bilirubin from the last ", "bilirubin"),
    ("platelet count from the last ", "platelets"),
    ("MDT decision on resecting G3", "mdt-g3-resection"),
    ("MDT decision on which primary", "mdt-which-primary"),
    (NEEDS_READABLE_STATUS, "condition-status"),
)


def item(key: str) -> DataItem:
    """Return the item with this key; ``KeyError`` if there is none."""
    return _BY_KEY[key]


def item_for_need(text: str) -> DataItem | None:
    """Return the item a criterion's ``needs`` text asks for, or ``None`` if none claims it."""
    key = _EXACT.get(text)
    if key is None:
        key = next((k for prefix, k in _PREFIXES if text.startswith(prefix)), None)
    return None if key is None else _BY_KEY[key]
