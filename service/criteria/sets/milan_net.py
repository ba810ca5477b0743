"""Milan-NET criteria for liver transplantation (Mazzaferro)."""

from __future__ import annotations

from service.criteria.model import CriteriaSet, Criterion
from service.criteria.sets.common import (
    AGE_UNDER_55,
    LOW_GRADE,
    NO_EXTRAHEPATIC_DISEASE,
    PORTAL_DRAINED_PRIMARY,
    PRIMARY_RESECTED,
    STABLE_DISEASE_6_MONTHS,
    percent,
)

LIVER_INVOLVEMENT_UNDER_50 = Criterion(
    id="liver_involvement_under_50",
    label="Less than 50 % of hepatic parenchyma involved",
    rule="burden_below",
    inputs=("hepatic_tumour_burden",),
    thresholds={"limit": percent("50")},
    source="001 Table 2 (Milan); 004 (Mazzaferro criteria)",
    rationale="Hepatic tumour load above 50 % predicts poor outcome after transplantation.",
)

MILAN_NET = CriteriaSet(
    id="milan-net",
    version="1.1.0",
    title="Liver transplantation, Milan-NET criteria",
    pathway="transplant",
    source="001 (Table 2, Milan); 004 (Mazzaferro criteria); 003 (LT section)",
    criteria=(
        AGE_UNDER_55,
        LOW_GRADE,
        PORTAL_DRAINED_PRIMARY,
        PRIMARY_RESECTED,
        NO_EXTRAHEPATIC_DISEASE,
        LIVER_INVOLVEMENT_UNDER_50,
        STABLE_DISEASE_6_MONTHS,
    ),
)
