"""Conditions → recognised facts (present now, or describing the tumour).

A Condition counts as present when its clinicalStatus is active, recurrence or
relapse (or absent) and its verificationStatus is not refuted or entered-in-error.
The primary tumour's site and histology are read whatever the clinicalStatus (a
resected primary is usually ``resolved``). Conditions dated after the evaluation
date are ignored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from service.criteria.inputs import ConditionFact, PrimarySite, UnreadableCondition, Warning
from service.criteria.values import DateSpan
from service.mappers.codes import CONDITION_LABELS, Terminology
from service.mappers.errors import UnreadableError
from service.mappers.reading import (
    CLINICAL_STATUSES,
    EXCLUDED_VERIFICATION_STATUSES,
    PRESENT_CLINICAL_STATUSES,
    VERIFICATION_STATUSES,
    Dated,
    Entry,
    oldest_first,
    read_concept_status,
    read_date,
    read_last_updated,
)
from service.mappers.systems import Code
from service.mappers.validation import validate_resource
from service.records import Struct

__all__ = ["ConditionFacts", "read_conditions"]

TUMOUR_DESCRIPTORS = frozenset({"primary_site", "neuroendocrine_carcinoma"})
EXCLUSION_INPUTS = {
    "extrahepatic_metastasis": "extrahepatic_metastases",
    "regional_node_metastasis": "regional_node_metastases",
    "neuroendocrine_carcinoma": "neuroendocrine_carcinoma",
    "portal_hypertension_signs": "portal_hypertension_signs",
    "carcinoid_heart_disease": "carcinoid_heart_disease",
    "cirrhosis": "cirrhosis",
    "significant_liver_disease": "significant_liver_disease",
}
"""Condition categories that exclude (or raise a threshold) → the input they count in."""
READ_CATEGORIES = frozenset({*EXCLUSION_INPUTS, "liver_metastasis", "primary_site"})
"""The categories an input is made of (:func:`service.mappers.build.map_record`). A
Condition in none of them (carcinoid syndrome, which terminology.md lists and the probe
counts, but no criterion reads) is not read, so not validated: issue 12, validate only
what a decision uses."""


class ConditionFacts(Struct, frozen=True):
    """Recognised Conditions by category, oldest first.

    ``primary_tumour_aliases`` are the references a Procedure may use to point at the
    primary tumour; ``primary_organs`` the organs holding a recorded primary site
    (``None`` when no primary site that constrains it is recorded: then any
    primary-resection code fits; empty when the recorded sites name no organ);
    ``non_primary_aliases`` the references of the record's Conditions that are not a
    primary tumour (a reasonReference to one, e.g. a lung metastasis, means the Procedure
    did not resect the primary); ``unreadable`` the exclusion
    Conditions that could not be read.
    """

    by_category: dict[str, tuple[ConditionFact, ...]]
    primary_sites: tuple[PrimarySite, ...]
    primary_tumour_aliases: frozenset[str]
    primary_organs: frozenset[str] | None = None
    non_primary_aliases: frozenset[str] = frozenset()
    unreadable: tuple[UnreadableCondition, ...] = ()

    def present(self, category: str) -> tuple[ConditionFact, ...]:
        """Return the present facts of a category."""
        return tuple(f for f in self.by_category.get(category, ()) if f.present)

    def any_status(self, category: str) -> tuple[ConditionFact, ...]:
        """Return the facts of a category whatever their clinical status."""
        return self.by_category.get(category, ())


def _screen(
    entry: Entry, categories: dict[str, Code], at: date
) -> tuple[DateSpan | None, datetime, bool] | None:
    """Return (date, lastUpdated, present) of a recognised Condition, or ``None`` when
    it is not used (refuted, entered in error, dated after ``at``, history only).

    Raises :class:`UnreadableError`. The clinical status of a Condition that only
    describes the tumour (primary site, NEC) is not needed, so it is not held against it.
    """
    verification = read_concept_status(entry, "verificationStatus", VERIFICATION_STATUSES)
    if verification in EXCLUDED_VERIFICATION_STATUSES:
        return None
    descriptor_only = categories.keys() <= TUMOUR_DESCRIPTORS
    try:
        clinical = read_concept_status(entry, "clinicalStatus", CLINICAL_STATUSES)
    except UnreadableError:
        if not descriptor_only:
            raise
        clinical = None
    when = read_date(entry, ("onsetDateTime", "recordedDate"))
    last_updated = read_last_updated(entry)
    if when is not None and when.is_after(at):
        return None
    present = clinical is None or clinical in PRESENT_CLINICAL_STATUSES
    if not present and not (categories.keys() & TUMOUR_DESCRIPTORS):
        return None
    validate_resource(entry)
    return when, last_updated, present


def _unreadable(
    entry: Entry,
    categories: dict[str, Code],
    problem: UnreadableError,
    unreadable: list[UnreadableCondition],
    warnings: list[Warning],
) -> None:
    """Report an unreadable Condition; keep it when its code is an exclusion."""
    exclusions = [c for c in categories if c in EXCLUSION_INPUTS]
    for category in exclusions:
        unreadable.append(
            UnreadableCondition(
                entry.reference,
                EXCLUSION_INPUTS[category],
                categories[category][1],
                CONDITION_LABELS.get(category, category),
                str(problem),
            )
        )
    if exclusions:
        label = CONDITION_LABELS.get(exclusions[0], exclusions[0])
        message = (
            f"unreadable ({problem}): it may record a present {label}, so every criterion "
            "it could decide is left unknown"
        )
    else:
        message = f"unreadable ({problem}); not used"
    warnings.append(Warning(entry.reference, message))


def read_conditions(
    entries: Iterable[Entry], terminology: Terminology, at: date, warnings: list[Warning]
) -> ConditionFacts:
    """Read every recognised Condition of the record."""
    matched: list[tuple[Dated, dict[str, Code], bool]] = []
    unreadable: list[UnreadableCondition] = []
    non_primary: set[str] = set()
    for entry in entries:
        if entry.resource_type != "Condition":
            continue
        categories = terminology.condition_categories(entry.resource.get("code"))
        if not categories.keys() & TUMOUR_DESCRIPTORS:
            non_primary |= entry.aliases()
        if not categories.keys() & READ_CATEGORIES:
            continue
        try:
            screened = _screen(entry, categories, at)
        except UnreadableError as exc:
            _unreadable(entry, categories, exc, unreadable, warnings)
            continue
        if screened is None:
            continue
        when, last_updated, present = screened
        first_code = next(iter(categories.values()))
        matched.append((Dated(entry, when, last_updated, first_code), categories, present))

    by_category: dict[str, list[ConditionFact]] = defaultdict(list)
    sites: list[PrimarySite] = []
    organs: list[frozenset[str]] = []
    aliases: set[str] = set()
    order = {id(d): i for i, d in enumerate(oldest_first([m[0] for m in matched]))}
    for dated, categories, present in sorted(matched, key=lambda m: order[id(m[0])]):
        reference = dated.entry.reference
        for category, (system, code) in categories.items():
            if category == "primary_site":
                site = terminology.primary_sites[(system, code)]
                sites.append(
                    PrimarySite(
                        reference,
                        dated.date,
                        code,
                        f"NET primary, {site.site}",
                        present,
                        site.drainage,
                        site.site,
                        site.unknown_primary,
                    )
                )
                if site.organs is not None:
                    organs.append(site.organs)
                continue
            label = CONDITION_LABELS.get(category, category)
            if category == "portal_hypertension_signs":
                label = terminology.portal_sign_name((system, code))
            by_category[category].append(ConditionFact(reference, dated.date, code, label, present))
        if categories.keys() & TUMOUR_DESCRIPTORS:
            aliases |= dated.entry.aliases()
    return ConditionFacts(
        {k: tuple(v) for k, v in by_category.items()},
        tuple(sites),
        frozenset(aliases),
        frozenset().union(*organs) if organs else None,
        frozenset(non_primary),
        tuple(unreadable),
    )
