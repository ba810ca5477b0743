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
from dataclasses import dataclass
from datetime import date

from service.criteria.inputs import ConditionFact, PrimarySite, Warning
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
from service.mappers.validation import validate_resource

__all__ = ["ConditionFacts", "read_conditions"]

TUMOUR_DESCRIPTORS = frozenset({"primary_site", "neuroendocrine_carcinoma"})


@dataclass(frozen=True)
class ConditionFacts:
    """Recognised Conditions by category, oldest first; ``primary_tumour_aliases``
    are the references a Procedure may use to point at the primary tumour."""

    by_category: dict[str, tuple[ConditionFact, ...]]
    primary_sites: tuple[PrimarySite, ...]
    primary_tumour_aliases: frozenset[str]

    def present(self, category: str) -> tuple[ConditionFact, ...]:
        """Return the present facts of a category."""
        return tuple(f for f in self.by_category.get(category, ()) if f.present)

    def any_status(self, category: str) -> tuple[ConditionFact, ...]:
        """Return the facts of a category whatever their clinical status."""
        return self.by_category.get(category, ())


def read_conditions(
    entries: Iterable[Entry], terminology: Terminology, at: date, warnings: list[Warning]
) -> ConditionFacts:
    """Read every recognised Condition of the record."""
    matched: list[tuple[Dated, dict[str, tuple[str, str]], bool]] = []
    for entry in entries:
        if entry.resource_type != "Condition":
            continue
        categories = terminology.condition_categories(entry.resource.get("code"))
        if not categories:
            continue
        try:
            clinical = read_concept_status(entry, "clinicalStatus", CLINICAL_STATUSES)
            verification = read_concept_status(entry, "verificationStatus", VERIFICATION_STATUSES)
            when = read_date(entry, ("onsetDateTime", "recordedDate"))
            last_updated = read_last_updated(entry)
        except UnreadableError as exc:
            warnings.append(Warning(entry.reference, f"unreadable ({exc}); not used"))
            continue
        if verification in EXCLUDED_VERIFICATION_STATUSES:
            continue
        if when is not None and when.is_after(at):
            continue
        present = clinical is None or clinical in PRESENT_CLINICAL_STATUSES
        if not present and not (categories.keys() & TUMOUR_DESCRIPTORS):
            continue
        try:
            validate_resource(entry)
        except UnreadableError as exc:
            warnings.append(Warning(entry.reference, f"unreadable ({exc}); not used"))
            continue
        first_code = next(iter(categories.values()))
        matched.append((Dated(entry, when, last_updated, first_code), categories, present))

    by_category: dict[str, list[ConditionFact]] = defaultdict(list)
    sites: list[PrimarySite] = []
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
                    )
                )
                continue
            label = CONDITION_LABELS.get(category, category)
            if category == "portal_hypertension_signs":
                label = terminology.portal_sign_name((system, code))
            by_category[category].append(ConditionFact(reference, dated.date, code, label, present))
        if categories.keys() & TUMOUR_DESCRIPTORS:
            aliases |= dated.entry.aliases()
    return ConditionFacts(
        {k: tuple(v) for k, v in by_category.items()}, tuple(sites), frozenset(aliases)
    )
