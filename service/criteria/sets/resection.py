"""Curative-intent hepatic resection (± ablation): consensus criteria."""

from __future__ import annotations

from decimal import Decimal

from service.criteria.model import CriteriaSet, Criterion, Threshold
from service.criteria.sets.common import percent

WELL_DIFFERENTIATED = Criterion(
    id="well_differentiated",
    label="Well-differentiated disease: G1/G2, or G3 NET only by MDT decision",
    rule="well_differentiated",
    inputs=("neuroendocrine_carcinoma", "ki67", "grade"),
    thresholds={"ki67_limit": percent("20")},
    source=(
        "002 (recommendation 1); 001 (well-differentiated NELM; curative resection not "
        "indicated for poorly differentiated tumours); 003 (selected resections of G3 NET)"
    ),
    rationale=(
        "Resection is indicated for well-differentiated disease and not for neuroendocrine "
        "carcinoma; a G3 NET is still well differentiated, so resecting it is an MDT decision."
    ),
)

PRIMARY_RESECTED_OR_RESECTABLE = Criterion(
    id="primary_resected_or_resectable",
    label="Primary tumour resected or resectable",
    rule="primary_resected_or_resectable",
    inputs=("primary_resections", "primary_resected", "primary_resectable"),
    source="002 (recommendation 2); 003 (primary tumour resection)",
    rationale="Curative intent requires that the primary is or can be removed.",
)

LIVER_LIMITED_DISEASE = Criterion(
    id="liver_limited_disease",
    label="Liver-limited disease",
    rule="liver_limited_disease",
    inputs=("extrahepatic_metastases", "extrahepatic_staging"),
    source="002 (recommendation 2); 004 (liver-dominant disease)",
    rationale="Curative resection presumes no disease outside the liver.",
)

ALL_DISEASE_RESECTABLE = Criterion(
    id="all_disease_resectable",
    label="All hepatic disease resectable or ablatable with curative intent",
    rule="all_disease_resectable",
    inputs=("hepatic_disease_resectable", "metastatic_pattern"),
    source="002 (recommendations 1-3); 001 Fig. 2 (Frilling types); 003 (Frilling types)",
    rationale="Curative intent needs all hepatic disease removed or ablated.",
)

ADEQUATE_FUTURE_LIVER_REMNANT = Criterion(
    id="adequate_future_liver_remnant",
    label="Adequate future liver remnant when a major hepatectomy is planned",
    rule="future_liver_remnant",
    inputs=(
        "future_liver_remnant",
        "major_hepatectomy_planned",
        "cirrhosis",
        "significant_liver_disease",
    ),
    thresholds={
        "normal_liver": percent("20"),
        "significant_liver_disease": percent("30"),
        "cirrhosis": percent("40"),
    },
    source=(
        "000 (assessment of the FLR: volumetry when extensive liver resection is planned); "
        "001 (FLR)"
    ),
    rationale=(
        "Post-hepatectomy liver failure follows a remnant too small for the liver; "
        "volumetry is needed only when a major hepatectomy is planned."
    ),
)

NO_PORTAL_HYPERTENSION = Criterion(
    id="no_portal_hypertension",
    label="No portal hypertension",
    rule="no_portal_hypertension",
    inputs=("platelets", "portal_hypertension_signs"),
    thresholds={"platelet_minimum": Threshold(Decimal(100), "10*9/L")},
    source="000 (portal hypertension, platelet count)",
    rationale="Portal hypertension makes major hepatectomy unsafe.",
)

ADEQUATE_LIVER_FUNCTION = Criterion(
    id="adequate_liver_function",
    label="Normal liver function",
    rule="bilirubin_within_normal",
    inputs=("bilirubin",),
    source="000 (liver function); upper limit: reference range, else configurable default",
    rationale="Impaired liver function raises the risk of liver failure after resection.",
)

FIT_FOR_SURGERY = Criterion(
    id="fit_for_surgery",
    label="Fit for major surgery, no untreated carcinoid heart disease",
    rule="fit_for_surgery",
    inputs=("ecog", "carcinoid_heart_disease"),
    source="002 (recommendation 4); ECOG limit: configurable default",
    rationale=(
        "Major hepatectomy needs a fit patient; carcinoid heart disease must be treated first."
    ),
)

RESECTION = CriteriaSet(
    id="resection",
    version="1.1.0",
    title="Curative-intent hepatic resection (± ablation)",
    pathway="resection",
    source="002 (consensus recommendations 1-4); 000; 001; 003",
    criteria=(
        WELL_DIFFERENTIATED,
        PRIMARY_RESECTED_OR_RESECTABLE,
        LIVER_LIMITED_DISEASE,
        ALL_DISEASE_RESECTABLE,
        ADEQUATE_FUTURE_LIVER_REMNANT,
        NO_PORTAL_HYPERTENSION,
        ADEQUATE_LIVER_FUNCTION,
        FIT_FOR_SURGERY,
    ),
)
