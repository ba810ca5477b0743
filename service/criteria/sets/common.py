"""Criterion definitions shared by several sets (same id, same meaning everywhere)."""

from __future__ import annotations

from decimal import Decimal

from service.criteria.model import Criterion, Threshold

__all__ = [
    "AGE_UNDER_55",
    "LOW_GRADE",
    "NO_EXTRAHEPATIC_DISEASE",
    "PORTAL_DRAINED_PRIMARY",
    "PRIMARY_RESECTED",
    "STABLE_DISEASE_6_MONTHS",
    "percent",
]


def percent(value: str) -> Threshold:
    """Return a threshold in %."""
    return Threshold(Decimal(value), "%")


SIX_MONTHS = Threshold(Decimal(182), "d")

AGE_UNDER_55 = Criterion(
    id="age_under_55",
    label="Age under 55 years",
    rule="age_below",
    inputs=("birth_date",),
    thresholds={"limit": Threshold(Decimal(55), "a")},
    source="001 Table 2 (Milan, ENETS, UNOS); 004 (Mazzaferro criteria)",
    rationale="Younger recipients have better outcomes after transplantation for NELM.",
)

PORTAL_DRAINED_PRIMARY = Criterion(
    id="portal_drained_primary",
    label="Primary tumour drained by the portal system",
    rule="portal_drained_primary",
    inputs=("primary_sites",),
    source="001 Table 2 (Milan); 004 (Mazzaferro criteria); terminology.md (portal drainage)",
    rationale=(
        "Pancreas and intermediate gut (distal stomach to sigmoid colon) drain to the "
        "portal system, so the liver is the first filter of metastatic spread."
    ),
)

PRIMARY_RESECTED = Criterion(
    id="primary_resected",
    label="Primary tumour removed with curative resection",
    rule="primary_resected",
    inputs=("primary_resections", "primary_resected"),
    source="001 Table 2 (Milan); 004 (Mazzaferro criteria)",
    rationale="The primary must be removed before transplantation for liver metastases.",
)

NO_EXTRAHEPATIC_DISEASE = Criterion(
    id="no_extrahepatic_disease",
    label="No extrahepatic disease",
    rule="no_extrahepatic_disease",
    inputs=("extrahepatic_metastases", "regional_node_metastases", "extrahepatic_staging"),
    source="001 Table 2 (Milan, ENETS, UNOS); 003 (LT section)",
    rationale=(
        "Transplantation cures only liver-confined disease; staging must exclude spread, "
        "and regional lymph-node metastases count: all extrahepatic tumour deposits must "
        "have been removed."
    ),
)

STABLE_DISEASE_6_MONTHS = Criterion(
    id="stable_disease_6_months",
    label="Good response or stable disease for at least 6 months",
    rule="stable_disease",
    inputs=("disease_course",),
    thresholds={"minimum_duration": SIX_MONTHS},
    source="001 Table 2 (Milan, ENETS, UNOS); 003 (LT section, ref. 58, 61)",
    rationale="A period of stable disease selects tumours with favourable biology.",
)

LOW_GRADE = Criterion(
    id="low_grade",
    label="Confirmed low-grade (G1/G2) NET",
    rule="low_grade",
    inputs=("neuroendocrine_carcinoma", "ki67", "grade"),
    thresholds={"ki67_limit": percent("20")},
    source="001 Table 2 (Milan); 001 (WHO grading: G1 Ki-67 ≤2 %, G2 3-20 %)",
    rationale="Only well-differentiated low-grade tumours are transplanted.",
)
