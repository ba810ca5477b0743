"""The criteria documentation as data: every set, criterion, rule, citation and attribute.

Built from the criteria sets themselves (:mod:`service.criteria`) with the settings in
force, so the page and the Markdown file show exactly what the service evaluates. Pure
functions, no Flask; both renderers (:mod:`service.pages.criteria`,
:mod:`service.reference.markdown`) only lay out what is built here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from service.criteria import DEFAULT_SETS, CriteriaSet, Criterion, EvaluationConfig
from service.criteria.documentation import rule_text, threshold_text
from service.criteria.sources import SOURCES, Source, cite, full_citation, seeds_in
from service.criteria.transparency import SourceAttributes, source_attributes

__all__ = [
    "ABSENCE_RULE",
    "HTI1_REFERENCE",
    "PATHWAY_TEXT",
    "SET_STATUS_RULES",
    "STATUS_MEANINGS",
    "AttributeRow",
    "CriteriaReference",
    "CriterionEntry",
    "SetEntry",
    "SettingEntry",
    "SourceEntry",
    "criteria_reference",
]

PATHWAY_TEXT: Mapping[str, str] = MappingProxyType(
    {"transplant": "Liver transplantation", "resection": "Curative-intent hepatic resection"}
)

STATUS_MEANINGS: tuple[tuple[str, str, str], ...] = (
    ("met", "Met", "positive evidence in the record satisfies the criterion"),
    ("not_met", "Not met", "positive evidence in the record violates the criterion"),
    (
        "unknown",
        "Unknown",
        "the record holds no usable evidence, the evidence straddles the threshold, or "
        "the decision is the MDT's (resecting a G3 NET, liver-dominant disease with limited "
        "extrahepatic spread, which of two primaries); the result names the data or the "
        "MDT decision that would decide it",
    ),
)
"""Each criterion status: its code, its name and what it means (criteria.md §1)."""

SET_STATUS_RULES: tuple[tuple[str, str, str], ...] = (
    ("ineligible", "Not eligible", "at least one criterion is not met"),
    ("eligible", "Eligible", "every criterion is met"),
    (
        "indeterminate",
        "Undecided",
        "no criterion is not met and at least one is unknown (indeterminate in the JSON "
        "result; the clinician page, the card and the screening report say undecided)",
    ),
)
"""How a set's status follows from its criteria (criteria.md §1)."""

ABSENCE_RULE = (
    "The absence of a record is never evidence: a criterion is met only on at least one "
    "positive piece of evidence (a laboratory value, a staging result, a procedure, a "
    "score), so the service never claims eligibility from missing data."
)


@dataclass(frozen=True)
class CriterionEntry:
    """One criterion as documented: what it checks, its numbers, its rules, its reason."""

    id: str
    label: str
    thresholds: tuple[tuple[str, str], ...]
    """``(name, value with unit)`` pairs, e.g. ``("Ki-67 limit", "20 %")``."""
    met: str
    not_met: str
    unknown: str
    rationale: str
    source: str
    """The criterion's source with short citations (``"Machairas et al. Table 2"``)."""
    combines: tuple[str, ...]
    """Labels of the criteria a combining criterion is made of."""


HTI1_REFERENCE = "ONC HTI-1, 45 CFR 170.315(b)(11)(iv)(A)"


@dataclass(frozen=True)
class AttributeRow:
    """One of the 13 source attributes of a set, as a line of a table."""

    number: int
    name: str
    value: str


@dataclass(frozen=True)
class SetEntry:
    """One criteria set as documented."""

    id: str
    title: str
    version: str
    pathway: str
    pathway_text: str
    source: str
    criteria: tuple[CriterionEntry, ...]
    citations: tuple[str, ...]
    """Full citations of every review the set or its criteria cite."""
    attributes: SourceAttributes
    attribute_rows: tuple[AttributeRow, ...]
    """The 13 HTI-1 source attributes in the rule's order, worded for reading."""


@dataclass(frozen=True)
class SourceEntry:
    """One source review, with its full citation and how it was identified."""

    seed: str
    short_name: str
    citation: str
    doi: str | None
    verified: bool
    identified_by: str
    note: str


@dataclass(frozen=True)
class SettingEntry:
    """A configurable default in force, with the variable that sets it."""

    name: str
    value: str
    variable: str


@dataclass(frozen=True)
class CriteriaReference:
    """Everything the criteria documentation shows."""

    sets: tuple[SetEntry, ...]
    sources: tuple[SourceEntry, ...]
    settings: tuple[SettingEntry, ...]


def _threshold_name(name: str) -> str:
    words = name.replace("_", " ").replace("ki67", "Ki-67")
    return words[0].upper() + words[1:]


def _criterion(
    criterion: Criterion, criteria_set: CriteriaSet, config: EvaluationConfig
) -> CriterionEntry:
    rules = rule_text(criterion, config)
    return CriterionEntry(
        id=criterion.id,
        label=criterion.label,
        thresholds=tuple(
            (_threshold_name(name), threshold_text(t)) for name, t in criterion.thresholds.items()
        ),
        met=rules.met,
        not_met=rules.not_met,
        unknown=rules.unknown,
        rationale=cite(criterion.rationale),
        source=cite(criterion.source),
        combines=tuple(criteria_set.criterion(part).label for part in criterion.parts),
    )


def _set(
    criteria_set: CriteriaSet, config: EvaluationConfig, sets: tuple[CriteriaSet, ...]
) -> SetEntry:
    texts = [criteria_set.source, *(c.source for c in criteria_set.criteria)]
    seeds = seeds_in(texts)
    attributes = source_attributes(criteria_set, sets)
    return SetEntry(
        id=criteria_set.id,
        title=criteria_set.title,
        version=criteria_set.version,
        pathway=criteria_set.pathway,
        pathway_text=PATHWAY_TEXT.get(criteria_set.pathway, criteria_set.pathway),
        source=cite(criteria_set.source),
        criteria=tuple(_criterion(c, criteria_set, config) for c in criteria_set.criteria),
        citations=attributes.citations,
        attributes=attributes,
        attribute_rows=_attribute_rows(attributes, tuple(SOURCES[s].short_name for s in seeds)),
    )


def _attribute_rows(
    attributes: SourceAttributes, short_names: tuple[str, ...]
) -> tuple[AttributeRow, ...]:
    revised = (
        f"{attributes.revised.isoformat()} (version {attributes.version})"
        if attributes.revised is not None
        else "none: this is the first version"
    )
    rows = [
        AttributeRow(
            1, "Bibliographic citation", "; ".join(short_names) + " (full citations above)"
        ),
        AttributeRow(2, "Developer", attributes.developer),
        AttributeRow(3, "Funding source of the implementation", attributes.funding),
        AttributeRow(
            4,
            "Release date",
            f"{attributes.released.isoformat()} (version {attributes.released_version})",
        ),
        AttributeRow(4, "Revision date", revised),
    ]
    for number, use in enumerate(attributes.data_use, start=5):
        value = f"Used: {'; '.join(use.how)}" if use.used else "Not used"
        rows.append(AttributeRow(number, f"Use of {use.name.lower()}", value))
    return tuple(rows)


def _source(source: Source) -> SourceEntry:
    return SourceEntry(
        seed=source.seed,
        short_name=source.short_name,
        citation=full_citation(source.seed, with_note=False),
        doi=source.doi,
        verified=source.verified,
        identified_by=source.identified_by,
        note=source.note,
    )


def _settings(config: EvaluationConfig) -> tuple[SettingEntry, ...]:
    limit = config.bilirubin_upper_limit_mg_dl
    return (
        SettingEntry(
            "Bilirubin upper limit of normal when the result gives no reference range",
            f"{limit.normalize():f} mg/dL",
            "NELM_CDS_BILIRUBIN_UPPER_LIMIT_MG_DL",
        ),
        SettingEntry(
            "Highest ECOG performance status still fit for major surgery",
            str(config.max_ecog_for_surgery),
            "NELM_CDS_MAX_ECOG_FOR_SURGERY",
        ),
        SettingEntry(
            "How old a bilirubin or platelet count may be (that many days is still fresh)",
            f"{config.lab_freshness_days} days",
            "NELM_CDS_LAB_FRESHNESS_DAYS",
        ),
    )


def criteria_reference(
    config: EvaluationConfig | None = None, sets: tuple[CriteriaSet, ...] = DEFAULT_SETS
) -> CriteriaReference:
    """Return the documentation of ``sets`` with the settings of ``config`` (default:
    the shipped defaults, as ``docs/criteria.md`` shows them)."""
    config = config or EvaluationConfig()
    return CriteriaReference(
        sets=tuple(_set(s, config, sets) for s in sets),
        sources=tuple(_source(s) for s in SOURCES.values()),
        settings=_settings(config),
    )
