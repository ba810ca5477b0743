"""ENETS 2016 guidance for liver transplantation."""

from __future__ import annotations

from decimal import Decimal

from service.criteria.model import CriteriaSet, Criterion, Threshold
from service.criteria.sets.common import (
    AGE_UNDER_55,
    NO_EXTRAHEPATIC_DISEASE,
    STABLE_DISEASE_6_MONTHS,
    percent,
)

KI67_AT_MOST_10 = Criterion(
    id="ki67_at_most_10",
    label="Well-differentiated G1/G2 NET with Ki-67 at most 10 %",
    rule="ki67_at_most",
    inputs=("neuroendocrine_carcinoma", "ki67"),
    thresholds={"ki67_limit": percent("10")},
    source="001 Table 2 (ENETS); 003 (LT section: Ki-67 <10 %)",
    rationale="ENETS restricts transplantation to tumours with a low proliferation index.",
)

LIVER_INVOLVEMENT = Criterion(
    id="liver_involvement",
    label="Less than 50 % involvement, or less than 75 % with refractory hormonal symptoms",
    rule="burden_with_refractory_syndrome",
    inputs=("hepatic_tumour_burden", "refractory_hormonal_syndrome"),
    thresholds={"limit": percent("50"), "limit_with_refractory_syndrome": percent("75")},
    source="001 Table 2 (ENETS)",
    rationale="A higher tumour load is accepted when hormonal symptoms are refractory.",
)

PRIMARY_RESECTED_6_MONTHS = Criterion(
    id="primary_resected_6_months",
    label="Primary tumour removed at least 6 months before",
    rule="primary_resected_since",
    inputs=("primary_resections", "primary_resected"),
    thresholds={"minimum_interval": Threshold(Decimal(182), "d")},
    source="001 Table 2 (ENETS)",
    rationale="An interval after primary resection exposes occult extrahepatic disease.",
)

LOW_BILIRUBIN = Criterion(
    id="low_bilirubin",
    label="Low serum total bilirubin",
    rule="bilirubin_within_normal",
    inputs=("bilirubin",),
    source="001 Table 2 (ENETS); upper limit: reference range, else configurable default",
    rationale="Normal liver function is required; bilirubin is the marker named by ENETS.",
)

ENETS = CriteriaSet(
    id="enets",
    version="1.1.0",
    title="Liver transplantation, ENETS 2016 guidance",
    pathway="transplant",
    source="001 (Table 2, ENETS); 003 (LT section)",
    criteria=(
        AGE_UNDER_55,
        KI67_AT_MOST_10,
        LIVER_INVOLVEMENT,
        PRIMARY_RESECTED_6_MONTHS,
        STABLE_DISEASE_6_MONTHS,
        NO_EXTRAHEPATIC_DISEASE,
        LOW_BILIRUBIN,
    ),
)
