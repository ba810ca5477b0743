"""The rule vocabulary: every rule a criterion may name, with what it reads.

A criterion names its rule by ``name``; loading a set checks that the criterion
declares exactly the inputs the rule reads and the thresholds (with units) it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from service.criteria.model import Rule
from service.criteria.rules import combine, course, extent, liver, patient, primary, tumour

__all__ = ["RULES"]

_PERCENT = "%"
_DAYS = "d"

_RULE_LIST = (
    Rule("age_below", patient.age_below, frozenset({"birth_date"}), {"limit": "a"}),
    Rule(
        "low_grade",
        tumour.low_grade,
        frozenset({"neuroendocrine_carcinoma", "ki67", "grade"}),
        {"ki67_limit": _PERCENT},
    ),
    Rule(
        "well_differentiated",
        tumour.well_differentiated,
        frozenset({"neuroendocrine_carcinoma", "ki67", "grade"}),
        {"ki67_limit": _PERCENT},
    ),
    Rule(
        "ki67_at_most",
        tumour.ki67_at_most,
        frozenset({"neuroendocrine_carcinoma", "ki67"}),
        {"ki67_limit": _PERCENT},
    ),
    Rule("portal_drained_primary", tumour.portal_drained_primary, frozenset({"primary_sites"})),
    Rule(
        "primary_resected",
        primary.primary_resected,
        frozenset({"primary_resections", "primary_resected"}),
    ),
    Rule(
        "primary_resected_since",
        primary.primary_resected_since,
        frozenset({"primary_resections", "primary_resected"}),
        {"minimum_interval": _DAYS},
    ),
    Rule(
        "primary_resected_or_resectable",
        primary.primary_resected_or_resectable,
        frozenset({"primary_resections", "primary_resected", "primary_resectable"}),
    ),
    Rule(
        "no_extrahepatic_disease",
        extent.no_extrahepatic_disease,
        frozenset({"extrahepatic_metastases", "regional_node_metastases", "extrahepatic_staging"}),
    ),
    Rule(
        "liver_limited_disease",
        extent.liver_limited_disease,
        frozenset({"extrahepatic_metastases", "extrahepatic_staging"}),
    ),
    Rule(
        "burden_below",
        extent.burden_below,
        frozenset({"hepatic_tumour_burden"}),
        {"limit": _PERCENT},
    ),
    Rule(
        "burden_with_refractory_syndrome",
        extent.burden_with_refractory_syndrome,
        frozenset({"hepatic_tumour_burden", "refractory_hormonal_syndrome"}),
        {"limit": _PERCENT, "limit_with_refractory_syndrome": _PERCENT},
    ),
    Rule(
        "all_disease_resectable",
        extent.all_disease_resectable,
        frozenset({"hepatic_disease_resectable", "metastatic_pattern"}),
    ),
    Rule(
        "bilobar_unresectable",
        extent.bilobar_unresectable,
        frozenset({"metastatic_pattern", "hepatic_disease_resectable"}),
        needs_set=True,
    ),
    Rule(
        "stable_disease",
        course.stable_disease,
        frozenset({"disease_course"}),
        {"minimum_duration": _DAYS},
    ),
    Rule("bilirubin_within_normal", liver.bilirubin_within_normal, frozenset({"bilirubin"})),
    Rule(
        "no_portal_hypertension",
        liver.no_portal_hypertension,
        frozenset({"platelets", "portal_hypertension_signs"}),
        {"platelet_minimum": "10*9/L"},
    ),
    Rule(
        "future_liver_remnant",
        liver.future_liver_remnant,
        frozenset(
            {
                "future_liver_remnant",
                "major_hepatectomy_planned",
                "cirrhosis",
                "significant_liver_disease",
            }
        ),
        {"normal_liver": _PERCENT, "significant_liver_disease": _PERCENT, "cirrhosis": _PERCENT},
    ),
    Rule(
        "fit_for_surgery",
        course.fit_for_surgery,
        frozenset({"ecog", "carcinoid_heart_disease"}),
    ),
    Rule("all_of", combine.all_of, frozenset(), combines=True),
)

RULES: Mapping[str, Rule] = MappingProxyType({rule.name: rule for rule in _RULE_LIST})
