"""Whole clinical stories: several findings at once, as a tumour board would see them."""

from __future__ import annotations

from tests.acceptance.kit import Case, M, N, U
from tests.fixtures.fhir_builders import (
    assessment,
    bilirubin_mg,
    condition,
    days_before,
    disease_status,
    ecog,
    icd,
    ki67,
    ki67_pct,
    patient,
    platelets,
    procedure,
    reference_range,
    sct,
    v_bool,
    v_quantity,
    v_string,
)

CASES: list[Case] = [
    Case(
        "story-pancreatic-g2-bone-metastases",
        "§4 all sets at once: 58-year-old, pancreatic NET resected by Whipple, Ki-67 12 %, "
        "active bone metastases, type I liver disease, FLR 45 %, bilirubin 0.8 under its lab "
        "limit 1.0; §5 French, Milan Ki-67 and ELTR notes",
        "R",
        (
            patient("1968-02-14", family="Story", given="Paul", gender="male"),
            condition(
                "primary",
                icd("C25.4", "Malignant neoplasm of endocrine pancreas"),
                clinical="resolved",
                onset=days_before(500),
            ),
            procedure(
                "resection", sct("116241004", "Pancreaticoduodenectomy"), performed=days_before(400)
            ),
            ki67_pct("ki67", days_before(405), 12),
            condition(
                "bone", icd("C7B.03", "Secondary carcinoid tumors of bone"), onset=days_before(90)
            ),
            assessment("staging", "extrahepatic-disease", days_before(60), v_bool(True)),
            assessment("burden", "hepatic-tumour-burden", days_before(60), v_quantity(20, "%")),
            assessment("flr", "future-liver-remnant", days_before(60), v_quantity(45, "%")),
            bilirubin_mg("bili", days_before(15), 0.8, reference_range=[reference_range(0.2, 1.0)]),
            platelets("plt", days_before(15), 180),
            ecog("ecog", days_before(15), 1),
            disease_status("ds-old", days_before(200), "stable"),
            disease_status("ds-new", days_before(20), "stable"),
        ),
        expect={
            "age_under_55": N,
            "no_extrahepatic_disease": N,
            "liver_limited_disease": U,
            "ki67_at_most_10": N,
        },
        notes=(("French", "exenteration"), ("< 10", "<10", "below 10", "under 10"), ("45",)),
    ),
    Case(
        "story-cirrhotic-resection-candidate",
        "§4.4 a single ileal metastasis in alcoholic cirrhosis (K70.30): FLR 38 % < 40 %, "
        "platelets 95 x10^3/uL, bilirubin 1.4 above the lab's 1.2: resection ineligible on three "
        "counts; Milan-NET, which has no liver-function criterion, stays eligible",
        "R",
        (
            condition(
                "cirrhosis",
                icd("K70.30", "Alcoholic cirrhosis of liver without ascites"),
                onset=days_before(700),
            ),
            assessment("flr", "future-liver-remnant", days_before(30), v_quantity(38, "%")),
            platelets("plt", days_before(10), 95),
            bilirubin_mg("bili", days_before(10), 1.4, reference_range=[reference_range(0.3, 1.2)]),
        ),
        expect={
            "adequate_future_liver_remnant": N,
            "no_portal_hypertension": N,
            "low_bilirubin": N,
        },
    ),
    Case(
        "story-sparse-referral",
        '§1 "never claim eligible from missing data": a referral with a birth year (1980), a '
        'Ki-67 of "3%" as text, a hindgut primary (C7A.096), "primary resectable" and nothing '
        "else: every set indeterminate",
        "T",
        (
            patient("1980", family="Story", given="Rosa", gender="female"),
            condition("primary", icd("C7A.096", "Malignant carcinoid tumor of the hindgut, NOS")),
            ki67("ki67", days_before(40), v_string("3%")),
            assessment("resectable", "primary-resectable", days_before(20), v_bool(True)),
        ),
        drop=(
            "resection",
            "bili",
            "plt",
            "staging",
            "burden",
            "pattern",
            "hdr",
            "ds-old",
            "ds-new",
            "ecog",
        ),
        expect={
            "portal_drained_primary": U,
            "primary_resected": U,
            "no_extrahepatic_disease": U,
            "liver_involvement_under_50": U,
            "stable_disease_6_months": U,
            "liver_involvement": U,
            "primary_resected_6_months": U,
            "low_bilirubin": U,
            "bilobar_unresectable": U,
            "liver_limited_disease": U,
            "all_disease_resectable": U,
            "no_portal_hypertension": U,
            "fit_for_surgery": U,
            "primary_resected_or_resectable": M,
        },
    ),
]
