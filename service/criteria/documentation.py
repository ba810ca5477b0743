"""What makes each criterion met, not met or unknown, in a clinician's words.

One entry per criterion id (criteria.md §4), beside the rules, so the published
documentation (``GET /criteria``, ``docs/criteria.md``) is generated from the criteria.
No number is written into the text: ``{name}`` stands for the criterion's threshold of
that name (``{limit}`` → ``55 years``), and ``{bilirubin_upper_limit}``, ``{max_ecog}``,
``{lab_freshness_days}`` for the configurable defaults in force. When this module is
first imported (by the web app at start, by ``criteria --markdown``; an evaluation reads
no text, so :mod:`service.criteria` does not import it), :func:`check_documented` checks
that every published criterion has an entry its thresholds fill, and no entry outlives it.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType

from service.criteria import DEFAULT_SETS
from service.criteria.config import EvaluationConfig
from service.criteria.model import CriteriaSet, Criterion, Threshold
from service.records import Struct

__all__ = [
    "CRITERION_RULES",
    "CriterionRules",
    "DocumentationError",
    "RuleText",
    "check_documented",
    "rule_text",
    "threshold_text",
]

UNIT_WORDS: Mapping[str, str] = MappingProxyType(
    {"a": "years", "d": "days", "%": "%", "10*9/L": "× 10⁹/L"}
)
"""UCUM units as clinicians write them; any other unit is shown as it is."""


class DocumentationError(ValueError):
    """A published criterion has no documentation, or its text does not fit it."""


class CriterionRules(Struct, frozen=True):
    """Templates for when a criterion is ``met``, ``not_met`` and ``unknown``."""

    met: str
    not_met: str
    unknown: str


class RuleText(Struct, frozen=True):
    """The three rules of one criterion with every placeholder filled in."""

    met: str
    not_met: str
    unknown: str


_FRESH_BILIRUBIN = CriterionRules(
    met=(
        "The latest total bilirubin, from the last {lab_freshness_days} days, is at or below "
        "the upper limit of normal: the result's own reference range when it gives one, "
        "otherwise {bilirubin_upper_limit}."
    ),
    not_met="The latest fresh total bilirubin is above that upper limit.",
    unknown=(
        "No bilirubin recorded; the latest is older than {lab_freshness_days} days (a stale "
        "result decides nothing, high or low), undated, in an unrecognised unit, or a range "
        "that straddles the limit."
    ),
)

_RULES: dict[str, CriterionRules] = {
    "age_under_55": CriterionRules(
        met="Age under {limit} on the evaluation date, from the date of birth.",
        not_met="Age {limit} or older on the evaluation date.",
        unknown=(
            "No date of birth, or a partial one (a year only) that puts the age on either "
            "side of {limit}."
        ),
    ),
    "low_grade": CriterionRules(
        met=(
            "No neuroendocrine carcinoma recorded, and the latest Ki-67 is at most "
            "{ki67_limit}; without a Ki-67 that decides, a histological grade G1 or G2."
        ),
        not_met=(
            "A neuroendocrine carcinoma (poorly differentiated) is recorded; or the latest "
            "Ki-67 is above {ki67_limit} (G3); or, without a Ki-67 that decides, grade G3."
        ),
        unknown=(
            "Neither Ki-67 nor grade recorded, or a Ki-67 that straddles {ki67_limit} or "
            "cannot be read, with no grade to decide. Ki-67 wins over a disagreeing grade."
        ),
    ),
    "ki67_at_most_10": CriterionRules(
        met=(
            "The latest Ki-67 is at most {ki67_limit} and no neuroendocrine carcinoma is recorded."
        ),
        not_met=(
            "The latest Ki-67 is above {ki67_limit}, or a neuroendocrine carcinoma is recorded."
        ),
        unknown=(
            "No Ki-67 recorded, or one that straddles {ki67_limit} or cannot be read. "
            "A histological grade alone does not decide this criterion."
        ),
    ),
    "portal_drained_primary": CriterionRules(
        met=(
            "The primary tumour lies where the portal system drains: stomach, duodenum, "
            "jejunum, ileum, small intestine, appendix, caecum, colon up to the sigmoid, or "
            "pancreas."
        ),
        not_met=(
            "The primary lies in the lung or bronchus, thymus, kidney or rectum, or the liver "
            "metastases are of unknown primary."
        ),
        unknown=(
            "No primary-site Condition; a site code that does not say where (unspecified, "
            "foregut, hindgut); or two recorded primaries that disagree, one portal-drained "
            "and one not (a second primary is not a correction): the MDT says which primary "
            "the liver metastases arise from."
        ),
    ),
    "primary_resected": CriterionRules(
        met=(
            "A completed resection of the primary tumour is recorded (dated or not; its "
            "procedure must fit the organ of the recorded primary and must not be done for a "
            "metastasis); without one, the latest MDT assessment says 'primary resected'."
        ),
        not_met="No resection recorded and the latest MDT assessment says 'primary not resected'.",
        unknown="Neither a resection of the primary nor an MDT assessment of it is recorded.",
    ),
    "primary_resected_6_months": CriterionRules(
        met=(
            "The most recent resection of the primary is dated at least {minimum_interval} "
            "(6 months) before the evaluation date; without a recorded procedure, an MDT "
            "assessment 'primary resected' at least {minimum_interval} old."
        ),
        not_met=(
            "The most recent resection is less than {minimum_interval} before the evaluation "
            "date, or the MDT assessment says 'primary not resected'."
        ),
        unknown=(
            "No resection recorded; a resection without a date, or with a partial date that "
            "may fall within {minimum_interval}; or only a 'primary resected' assessment "
            "younger than {minimum_interval}."
        ),
    ),
    "no_extrahepatic_disease": CriterionRules(
        met=(
            "A staging assessment says there is no disease outside the liver, and no present "
            "extrahepatic metastasis is recorded."
        ),
        not_met=(
            "A present (active, recurrent or relapsed) metastasis outside the liver is "
            "recorded: bone, lung, peritoneum, distant or regional lymph nodes and others, "
            "even when a newer staging says absent; or staging shows extrahepatic disease. "
            "Resolved metastases are history."
        ),
        unknown=(
            "No staging assessment (the absence of a metastasis Condition is never proof), or "
            "an extrahepatic metastasis Condition whose status cannot be read."
        ),
    ),
    "liver_involvement_under_50": CriterionRules(
        met="Hepatic tumour burden below {limit} of the liver parenchyma.",
        not_met="Hepatic tumour burden of {limit} or more.",
        unknown=(
            "No tumour burden recorded, one in an unrecognised unit, or a range that "
            "straddles {limit}."
        ),
    ),
    "stable_disease_6_months": CriterionRules(
        met=(
            "The latest disease status is stable or responding, and a stable or responding "
            "result dated at least {minimum_duration} before the evaluation date has no "
            "progression after it."
        ),
        not_met="Progression recorded within the {minimum_duration} before the evaluation date.",
        unknown=(
            "No disease status recorded, or a history that shows neither: for example a "
            "progression older than {minimum_duration} with no stable result since."
        ),
    ),
    "liver_involvement": CriterionRules(
        met=(
            "Hepatic tumour burden below {limit}; or below {limit_with_refractory_syndrome} "
            "with a hormonal syndrome refractory to medical therapy."
        ),
        not_met=(
            "Burden of {limit_with_refractory_syndrome} or more; or from {limit} to below "
            "{limit_with_refractory_syndrome} with the syndrome assessed as not refractory."
        ),
        unknown=(
            "No burden recorded; from {limit} to below {limit_with_refractory_syndrome} with "
            "no assessment of the hormonal syndrome; or a range spanning bands that give "
            "different answers."
        ),
    ),
    "low_bilirubin": _FRESH_BILIRUBIN,
    "adequate_liver_function": _FRESH_BILIRUBIN,
    "primary_and_extrahepatic_resected": CriterionRules(
        met=(
            "Both 'primary tumour removed with curative resection' and 'no extrahepatic "
            "disease' are met (the resection itself, not the 6-month interval)."
        ),
        not_met="Either of the two is not met.",
        unknown="Neither is not met and at least one is unknown.",
    ),
    "bilobar_unresectable": CriterionRules(
        met=(
            "Bilobar metastases (Frilling type II or III) and either the MDT assessment that "
            "not all hepatic disease is resectable, or a future liver remnant too small for "
            "resection (the resection criterion 'adequate future liver remnant' not met)."
        ),
        not_met=(
            "Unilobar disease (Frilling type I), or the MDT assessment that all hepatic "
            "disease is resectable."
        ),
        unknown=(
            "No metastatic pattern recorded, or bilobar disease without a resectability "
            "assessment or an inadequate remnant. Other reasons against resection (fitness, "
            "grade, heart disease) never make this met: they are no reason to transplant."
        ),
    ),
    "well_differentiated": CriterionRules(
        met=(
            "No neuroendocrine carcinoma recorded, and the latest Ki-67 is at most "
            "{ki67_limit} or, without a Ki-67 that decides, grade G1 or G2."
        ),
        not_met=(
            "A neuroendocrine carcinoma (poorly differentiated) is recorded: curative "
            "resection is not indicated."
        ),
        unknown=(
            "Ki-67 above {ki67_limit} or grade G3 without a carcinoma: a G3 NET is still well "
            "differentiated and selected resections are reported, so the MDT decides; or "
            "neither Ki-67 nor grade recorded."
        ),
    ),
    "primary_resected_or_resectable": CriterionRules(
        met=(
            "A completed resection of the primary, or the MDT assessment 'primary resected', "
            "or the MDT assessment 'primary resectable'."
        ),
        not_met="No resection recorded and the MDT assessment says 'primary not resectable'.",
        unknown=(
            "None of these recorded. 'Primary not resected' alone does not decide: whether "
            "it is resectable then does."
        ),
    ),
    "liver_limited_disease": CriterionRules(
        met=(
            "A staging assessment says there is no disease outside the liver, and no present "
            "extrahepatic metastasis is recorded other than regional lymph nodes (C77.x), "
            "which go with the primary."
        ),
        not_met="Never from the record alone.",
        unknown=(
            "Extrahepatic disease beyond the regional nodes is recorded: liver-dominant "
            "disease with limited, stable extrahepatic spread needs MDT judgement; or no "
            "staging assessment."
        ),
    ),
    "all_disease_resectable": CriterionRules(
        met=(
            "The MDT assessment says all hepatic disease is resectable or ablatable with "
            "curative intent; without that assessment, Frilling type I (single metastasis)."
        ),
        not_met=(
            "The MDT assessment says it is not; without that assessment, Frilling type III "
            "(disseminated)."
        ),
        unknown=(
            "Neither recorded, or Frilling type II without an assessment: combined resection "
            "and ablation or a two-stage approach may still be possible."
        ),
    ),
    "adequate_future_liver_remnant": CriterionRules(
        met=(
            "Future liver remnant of at least {normal_liver} of total liver volume for a "
            "normal liver, {significant_liver_disease} with significant underlying liver "
            "disease (steatosis, chemotherapy-associated injury), {cirrhosis} with "
            "cirrhosis; or no remnant recorded and the MDT assessment says no major "
            "hepatectomy is planned (volumetry is not needed for a minor resection)."
        ),
        not_met="The recorded remnant is below the threshold for that liver.",
        unknown=(
            "No remnant recorded while a major hepatectomy is planned or not stated; a "
            "remnant in an unrecognised unit or straddling the threshold; or a cirrhosis or "
            "steatosis Condition whose status cannot be read."
        ),
    ),
    "no_portal_hypertension": CriterionRules(
        met=(
            "The latest platelet count, from the last {lab_freshness_days} days, is at least "
            "{platelet_minimum}, and no sign of portal hypertension (portal hypertension, "
            "ascites, oesophageal varices, splenomegaly) is recorded."
        ),
        not_met=(
            "A fresh platelet count below {platelet_minimum}, or a sign of portal "
            "hypertension recorded."
        ),
        unknown=(
            "No platelet count, or the latest is older than {lab_freshness_days} days (a "
            "stale count decides nothing, low or high), undated, or straddling the threshold."
        ),
    ),
    "fit_for_surgery": CriterionRules(
        met=(
            "ECOG performance status of at most {max_ecog} and no active (untreated) "
            "carcinoid heart disease recorded."
        ),
        not_met=(
            "ECOG above {max_ecog}, or active carcinoid heart disease recorded (treated, "
            "inactive or resolved heart disease does not count against)."
        ),
        unknown="No ECOG recorded, or one that cannot be read, and nothing recorded against.",
    ),
}

CRITERION_RULES: Mapping[str, CriterionRules] = MappingProxyType(_RULES)
"""The rule templates by criterion id."""

CONFIG_PLACEHOLDERS = frozenset({"bilirubin_upper_limit", "max_ecog", "lab_freshness_days"})


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral_value() else str(value)


def threshold_text(threshold: Threshold) -> str:
    """Return a threshold as a clinician writes it: ``55 years``, ``20 %``, ``182 days``."""
    return f"{_number(threshold.value)} {UNIT_WORDS.get(threshold.unit, threshold.unit)}"


def _values(criterion: Criterion, config: EvaluationConfig) -> dict[str, str]:
    values = {name: threshold_text(t) for name, t in criterion.thresholds.items()}
    values["bilirubin_upper_limit"] = (
        f"{_number(config.bilirubin_upper_limit_mg_dl)} mg/dL (configurable default)"
    )
    values["max_ecog"] = str(config.max_ecog_for_surgery)
    values["lab_freshness_days"] = str(config.lab_freshness_days)
    return values


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def rule_text(criterion: Criterion, config: EvaluationConfig | None = None) -> RuleText:
    """Return the met / not met / unknown rules of ``criterion`` with its numbers filled in.

    Raise :class:`DocumentationError` when the criterion has no entry.
    """
    templates = CRITERION_RULES.get(criterion.id)
    if templates is None:
        raise DocumentationError(f"criterion '{criterion.id}' has no met/not met/unknown text")
    values = _values(criterion, config or EvaluationConfig())
    return RuleText(
        met=templates.met.format_map(values),
        not_met=templates.not_met.format_map(values),
        unknown=templates.unknown.format_map(values),
    )


def check_documented(
    sets: Iterable[CriteriaSet], rules: Mapping[str, CriterionRules] = CRITERION_RULES
) -> None:
    """Check that every criterion of ``sets`` is documented in ``rules`` and every entry
    is used.

    Raise :class:`DocumentationError` naming the set and criterion otherwise.
    """
    used: set[str] = set()
    for criteria_set in sets:
        for criterion in (*criteria_set.criteria, *criteria_set.helpers):
            where = f"criteria set '{criteria_set.id}', criterion '{criterion.id}'"
            templates = rules.get(criterion.id)
            if templates is None:
                raise DocumentationError(
                    f"{where}: no met/not met/unknown text in service/criteria/documentation.py"
                )
            allowed = set(criterion.thresholds) | CONFIG_PLACEHOLDERS
            for text in (templates.met, templates.not_met, templates.unknown):
                extra = _placeholders(text) - allowed
                if extra:
                    raise DocumentationError(
                        f"{where}: the text names {sorted(extra)}, which the criterion has not"
                    )
            used.add(criterion.id)
    stale = set(rules) - used
    if stale:
        raise DocumentationError(f"documentation for criteria no set has: {sorted(stale)}")


check_documented(DEFAULT_SETS)
