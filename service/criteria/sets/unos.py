"""OPTN/UNOS MELD-exception criteria for liver transplantation."""

from __future__ import annotations

from service.criteria.model import CriteriaSet, Criterion
from service.criteria.sets.common import (
    AGE_UNDER_55,
    NO_EXTRAHEPATIC_DISEASE,
    PORTAL_DRAINED_PRIMARY,
    PRIMARY_RESECTED,
    STABLE_DISEASE_6_MONTHS,
)
from service.criteria.sets.milan_net import LIVER_INVOLVEMENT_UNDER_50

PRIMARY_AND_EXTRAHEPATIC_RESECTED = Criterion(
    id="primary_and_extrahepatic_resected",
    label="Primary and all extrahepatic deposits resected",
    rule="all_of",
    inputs=(),
    parts=("primary_resected", "no_extrahepatic_disease"),
    source="001 Table 2 (UNOS)",
    rationale="Only liver disease may remain at transplantation.",
)

BILOBAR_UNRESECTABLE = Criterion(
    id="bilobar_unresectable",
    label="Bilobar metastases not amenable to resection",
    rule="bilobar_unresectable",
    inputs=("metastatic_pattern", "hepatic_disease_resectable"),
    depends_on_set="resection",
    source="001 Table 2 (UNOS); 001 Fig. 1 (Frilling types)",
    rationale="Transplantation is reserved for disease that resection cannot clear.",
)

UNOS = CriteriaSet(
    id="unos",
    version="1.0.0",
    title="Liver transplantation, OPTN/UNOS MELD-exception criteria",
    pathway="transplant",
    source="001 (Table 2, UNOS); 003 (ref. 61); 004",
    criteria=(
        AGE_UNDER_55,
        PORTAL_DRAINED_PRIMARY,
        LIVER_INVOLVEMENT_UNDER_50,
        PRIMARY_AND_EXTRAHEPATIC_RESECTED,
        STABLE_DISEASE_6_MONTHS,
        NO_EXTRAHEPATIC_DISEASE,
        BILOBAR_UNRESECTABLE,
    ),
    helpers=(PRIMARY_RESECTED,),
)
