"""Guess, from display text, which input an unmapped local code may stand for.

Only a guess for a person to review: the probe writes it into the draft site-codes file
as ``"review": "pending"``, and the service refuses that file until each entry is
accepted or deleted. The rules look at the words of the coding's ``display`` and the
concept's ``text`` (lower-cased), never at the code itself. Each rule names words that
must appear and words that rule it out (a direct bilirubin is not a total bilirubin, a
mean platelet volume is not a platelet count, a liver resection is not the resection of
the primary). The first matching rule of the resource's type wins, so more specific
rules come first (a liver metastasis before a NET primary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.mappers.codes import Terminology

__all__ = ["PRIMARY_SITE_WORDS", "Suggestion", "suggest"]


@dataclass(frozen=True)
class Suggestion:
    """Where a local code may belong: a section of the site-codes file and a name in it.

    ``section`` is ``observations``, ``conditions``, ``procedures`` or ``primary_sites``;
    for ``primary_sites`` the ``site`` and ``drainage`` are guessed too.
    """

    section: str
    name: str
    why: str
    site: str | None = None
    drainage: str | None = None


@dataclass(frozen=True)
class _Rule:
    name: str
    needs: tuple[re.Pattern[str], ...]
    excludes: re.Pattern[str] | None = None


def _rule(name: str, *needs: str, exclude: str | None = None) -> _Rule:
    return _Rule(
        name, tuple(re.compile(n) for n in needs), re.compile(exclude) if exclude else None
    )


_OBSERVATION_RULES = (
    _rule("ki67", r"\bki[- ]?67\b|\bmib[- ]?1\b"),
    _rule(
        "bilirubin",
        r"bilirubin",
        exclude=r"direct|indirect|conjugated|delta|neonat|urine|csf|fluid|transcutan",
    ),
    _rule(
        "platelets",
        r"platelet|thrombocyte|\bplt\b",
        exclude=r"mean platelet|platelet volume|\bmpv\b|distribution width|\bpdw\b|function|"
        r"aggregat|antibod|clump|large platelet|platelet ?crit|\bpct\b|plasma|transfus|"
        r"immature|poor",
    ),
    _rule("ecog", r"\becog\b|performance status|zubrod"),
    _rule("future_liver_remnant", r"future liver remnant|\bflr\b|liver remnant|remnant liver"),
    _rule(
        "hepatic_tumour_burden",
        r"tumou?r burden|tumou?r load|(hepatic|liver) (involvement|replacement)|"
        r"(liver|parenchyma) (involved|replaced)",
    ),
    _rule("metastatic_pattern", r"frilling|metastatic pattern|pattern of (liver )?metasta"),
    _rule("extrahepatic_staging", r"extra-?hepatic"),
    _rule("primary_resectable", r"primary", r"resectab"),
    _rule("primary_resected", r"primary", r"resect|removed|excised", exclude=r"resectab"),
    _rule("hepatic_disease_resectable", r"liver|hepatic|metasta", r"resectab|ablatab"),
    _rule("refractory_hormonal_syndrome", r"refractory", r"syndrome|hormon|carcinoid|secret"),
    _rule("major_hepatectomy_planned", r"major (hepatectomy|liver resection|resection)"),
    _rule(
        "disease_course",
        r"disease (status|progression|course|response)|progression|recist|tumou?r response",
    ),
    _rule(
        "grade",
        r"\bgrade\b|differentiation|\bwho (g|grade)",
        exclude=r"fever|toxicity|ctcae|pain|edema|oedema|reflux|murmur|sprain",
    ),
)

_METASTASIS = r"metasta|secondary|\bmets?\b|spread"
_CONDITION_RULES = (
    _rule("liver_metastasis", r"liver|hepatic", _METASTASIS, exclude=r"extra-?hepatic"),
    _rule(
        "extrahepatic_metastasis",
        _METASTASIS,
        r"bone|osseous|lung|pulmonary|pleura|peritone|lymph|node|nodal|brain|ovar|adrenal|"
        r"extra-?hepatic|skin|breast|spine|vertebra",
    ),
    _rule(
        "neuroendocrine_carcinoma",
        r"neuroendocrine carcinoma|small cell carcinoma|large cell neuroendocrine|\bnec\b|"
        r"poorly differentiated neuroendocrine",
    ),
    _rule("carcinoid_heart_disease", r"carcinoid heart|hedinger|carcinoid (valve|valvular)"),
    _rule("carcinoid_syndrome", r"carcinoid syndrome"),
    _rule("cirrhosis", r"cirrho"),
    _rule(
        "significant_liver_disease",
        r"steato|fatty liver|\bnash\b|\bnafld\b|\bmasld\b|\bmash\b|toxic liver|"
        r"drug[- ]induced liver|chemotherapy[- ]associated liver|sinusoidal obstruction",
    ),
    _rule("portal_hypertension_signs", r"portal hypertension|ascites|varices|splenomegaly"),
)
_PRIMARY_SITE = _rule(
    "primary_site",
    r"neuroendocrine tumou?r|\bnet\b|carcinoid|neuroendocrine neoplasm|endocrine pancrea|"
    r"islet cell|\b(pnet|gep-?net|si-?net)\b",
    exclude=r"carcinoma|syndrome|heart|metasta|secondary",
)

PRIMARY_SITE_WORDS: tuple[tuple[str, str, str], ...] = (
    (r"pancrea", "pancreas", "portal"),
    (r"duoden", "duodenum", "portal"),
    (r"jejun", "jejunum", "portal"),
    (r"\bile(um|al)\b", "ileum", "portal"),
    (r"small (bowel|intestin)", "small intestine", "portal"),
    (r"appendi", "appendix", "portal"),
    (r"c(a)?ec(um|al)", "caecum", "portal"),
    (r"\brect(um|al)\b", "rectum", "not_portal"),
    (r"sigmoid", "sigmoid colon", "portal"),
    (r"colon|colic", "colon", "portal"),
    (r"stomach|gastric", "stomach", "portal"),
    (r"lung|bronch|pulmonary", "lung/bronchus", "not_portal"),
    (r"thym", "thymus", "not_portal"),
    (r"kidney|renal", "kidney", "not_portal"),
    (r"midgut", "midgut", "portal"),
)
"""Words that name a primary site, the site and its portal drainage (terminology.md)."""

_PROCEDURE_RULES = (
    _rule(
        "liver_transplant",
        r"(liver|hepatic) transplant|transplantation of (the )?liver|orthotopic liver",
    ),
    _rule(
        "primary_resection",
        r"resect|excision|ectomy|whipple",
        r"ile|jejun|duoden|small (bowel|intestin)|pancrea|whipple|append|colon|colectomy|"
        r"c(a)?ec|gastr|stomach|lobectomy|bowel|intestin",
        exclude=r"liver|hepat|biopsy|transplant|metasta|lymph node",
    ),
)


def _matches(rule: _Rule, text: str) -> bool:
    if rule.excludes is not None and rule.excludes.search(text):
        return False
    return all(need.search(text) for need in rule.needs)


def _site(text: str) -> tuple[str, str]:
    for pattern, site, drainage in PRIMARY_SITE_WORDS:
        if re.search(pattern, text):
            return site, drainage
    return "unspecified site", "undetermined"


def suggest(resource_type: str, text: str, terminology: Terminology) -> Suggestion | None:
    """Return where a code of ``resource_type`` described by ``text`` may belong, or ``None``.

    Only names the terminology in force knows are suggested.
    """
    words = " ".join(text.lower().split())
    if not words:
        return None
    if resource_type == "Observation":
        for rule in _OBSERVATION_RULES:
            if rule.name in terminology.observations and _matches(rule, words):
                return Suggestion("observations", rule.name, _why(rule, words))
    elif resource_type == "Condition":
        for rule in _CONDITION_RULES:
            if rule.name in terminology.conditions and _matches(rule, words):
                return Suggestion("conditions", rule.name, _why(rule, words))
        if _matches(_PRIMARY_SITE, words):
            site, drainage = _site(words)
            return Suggestion(
                "primary_sites", "primary_site", _why(_PRIMARY_SITE, words), site, drainage
            )
    elif resource_type == "Procedure":
        for rule in _PROCEDURE_RULES:
            if rule.name in terminology.procedures and _matches(rule, words):
                return Suggestion("procedures", rule.name, _why(rule, words))
    return None


def _why(rule: _Rule, text: str) -> str:
    found = [m.group(0) for need in rule.needs if (m := need.search(text))]
    return "the text says " + " + ".join(f"'{word}'" for word in found)
