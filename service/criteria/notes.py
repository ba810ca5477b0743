"""Notes shown with a result that never change a status (criteria.md §5).

Notes cite the source reviews by seed id where written and are passed through
:func:`~service.criteria.sources.cite`, so results show short names ("Gut 2020").
"""

from __future__ import annotations

from service.criteria.inputs import CriteriaInputs
from service.criteria.model import SetResult
from service.criteria.rules.tumour import deciding_primary_site, when
from service.criteria.sources import cite
from service.criteria.status import SetStatus
from service.criteria.values import whole_years_between

__all__ = ["notes_for"]

ELTR_NOTE = cite(
    "ELTR predictors of poor outcome after liver transplantation: hepatomegaly, age over "
    "45 years and resection concurrent with transplantation; this patient is older than "
    "45 (000, 001, 004)."
)
FRENCH_NOTE = cite(
    "French multicentre study: a duodenal or pancreatic primary and upper abdominal "
    "exenteration predict poor survival after liver transplantation (001, 004)."
)
FAVOURABLE_NOTE = cite(
    "Favourable factors reported after liver transplantation: age under 50, lung or bowel "
    "primary, pre-transplant somatostatin analogue therapy; this patient has {which} (001, 004)."
)
FRILLING_II_NOTE = cite(
    "Frilling type II disease may still be treated by combined resection and ablation or "
    "a two-stage approach (001 Fig. 2)."
)
ABLATION_NOTE = cite(
    "Ablation works poorly above 3-4 cm, is unsuitable above 5 cm, and is contraindicated "
    "within 1 cm of central biliary or portal structures (000, 003)."
)
SUPPORT_NOTE = "This evaluation supports, and does not replace, the multidisciplinary team (MDT)."

POOR_OUTCOME_SITES = frozenset({"duodenum", "pancreas"})
FAVOURABLE_SITES = frozenset(
    {
        "lung/bronchus",
        "jejunum",
        "ileum",
        "small intestine",
        "appendix",
        "caecum",
        "ascending colon",
        "transverse colon",
        "descending colon",
        "sigmoid colon",
        "midgut",
    }
)


def _age_bounds(inputs: CriteriaInputs) -> tuple[int, int] | None:
    born = inputs.birth_date
    at = inputs.evaluation_date
    if born is None or born.earliest > at:
        return None
    return whole_years_between(min(born.latest, at), at), whole_years_between(born.earliest, at)


def notes_for(inputs: CriteriaInputs, results: tuple[SetResult, ...]) -> tuple[str, ...]:
    """Return the section 5 notes that apply to this patient, and the MDT statement."""
    notes: list[str] = []
    ages = _age_bounds(inputs)
    site = deciding_primary_site(inputs.primary_sites)
    if ages is not None and ages[0] > 45:
        notes.append(ELTR_NOTE)
    if site is not None and site.site in POOR_OUTCOME_SITES:
        notes.append(FRENCH_NOTE)
    favourable = []
    if ages is not None and ages[1] < 50:
        favourable.append("an age under 50")
    if site is not None and site.site in FAVOURABLE_SITES:
        favourable.append(f"a primary in the {site.site}")
    if favourable:
        notes.append(FAVOURABLE_NOTE.format(which=" and ".join(favourable)))
    pattern = inputs.metastatic_pattern
    if pattern is not None and pattern.value == "type-ii":
        notes.append(FRILLING_II_NOTE)
    resection = next((r for r in results if r.criteria_set.pathway == "resection"), None)
    if resection is not None and resection.status is not SetStatus.INELIGIBLE:
        notes.append(ABLATION_NOTE)
    for transplant in inputs.liver_transplants:
        notes.append(
            f"A liver transplantation is already recorded ({transplant.reference}, "
            f"{when(transplant.date)}): these criteria describe a first transplantation."
        )
    notes.append(SUPPORT_NOTE)
    return tuple(notes)
