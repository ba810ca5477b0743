"""OPTN/UNOS MELD-exception criteria for liver transplantation."""

from __future__ import annotations

from service.criteria.model import CriteriaSet, Criterion
from service.criteria.sets.common import (
    AGE_UNDER_55,
    LOW_GRADE,
    NO_EXTRAHEPATIC_DISEASE,
    PORTAL_DRAINED_PRIMARY,
    PRIMARY_RESECTED,
    STABLE_DISEASE_6_MONTHS,
)
from service.criteria.sets.milan_net import LIVER_INVOLVEMENT_UNDER_50
from service.records import replace

PRIMARY_AND_EXTRAHEPATIC_RESECTED = Criterion(
    id="primary_and_extrahepatic_resected",
    label="Primary and all extrahepatic deposits resected",
    rule="all_of",
    inputs=(),
    parts=("primary_resected", "no_extrahepatic_disease"),
    source="001 Table 2 (UNOS)",
    rationale="Only liver disease may remain at transplantation.",
)

UNOS_LOW_GRADE = replace(
    LOW_GRADE,
    source=(
        "001 Fig. 2 (transplantation only for G1/G2 disease); 004 (poor tumour "
        "differentiation predicts poor outcome); 001 Table 2 lists no grade row for UNOS"
    ),
)

BILOBAR_UNRESECTABLE = Criterion(
    id="bilobar_unresectable",
    label="Bilobar metastases not amenable to resection",
    rule="bilobar_unresectable",
    inputs=("metastatic_pattern", "hepatic_disease_resectable"),
    depends_on_set="resection",
    source=(
        "001 Table 2 (UNOS); 000 (bilobar, unresectable liver metastasis); 003 (inadequate "
        "liver reserve); 001 Fig. 1 (Frilling types)"
    ),
    rationale=(
        "Transplantation is reserved for bilobar disease that resection cannot clear: "
        "assessed not resectable, or with an inadequate future liver remnant. Other "
        "reasons against resection (fitness, grade, heart disease) are no reason to "
        "transplant."
    ),
)

UNOS = CriteriaSet(
    id="unos",
    version="1.1.0",
    title="Liver transplantation, OPTN/UNOS MELD-exception criteria",
    pathway="transplant",
    source="001 (Table 2, UNOS; Fig. 2); 003 (ref. 61); 004",
    criteria=(
        AGE_UNDER_55,
        UNOS_LOW_GRADE,
        PORTAL_DRAINED_PRIMARY,
        LIVER_INVOLVEMENT_UNDER_50,
        PRIMARY_AND_EXTRAHEPATIC_RESECTED,
        STABLE_DISEASE_6_MONTHS,
        NO_EXTRAHEPATIC_DISEASE,
        BILOBAR_UNRESECTABLE,
    ),
    helpers=(PRIMARY_RESECTED,),
)
