"""Notes shown with a result that never change a status (criteria.md §5).

Notes cite the source reviews by seed id where written and are passed through
:func:`~service.criteria.sources.cite`, so results show short names ("Gut 2020").
"""

from __future__ import annotations

from decimal import Decimal

from service.criteria.inputs import CriteriaInputs
from service.criteria.model import SetResult
from service.criteria.rules.tumour import located_primary_sites, when
from service.criteria.sources import cite
from service.criteria.status import SetStatus, Status
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
POOR_DIFFERENTIATION_NOTE = cite(
    "European Liver Transplant Registry: poor tumour differentiation is among the strongest "
    "predictors of poor outcome after liver transplantation; this patient has {which} (004)."
)
MILAN_KI67_NOTE = cite(
    "Milan-NET as given by 003 and 004 asks for Ki-67 below 10 %, while 001 Table 2 asks "
    "for low grade (G1/G2, Ki-67 at most 20 %): low grade is met here with Ki-67 {value} "
    "% (003, 004)."
)
SUPPORT_NOTE = "This evaluation supports, and does not replace, the multidisciplinary team (MDT)."

TEN = Decimal(10)
TWENTY = Decimal(20)
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


def _poor_differentiation(inputs: CriteriaInputs) -> str | None:
    """Return what records poor differentiation (Ki-67 > 20 %, G3, NEC), or ``None``."""
    found: list[str] = []
    ki67 = inputs.ki67
    if ki67 is not None and ki67.value is not None and ki67.value.all_above(TWENTY):
        found.append(f"a Ki-67 of {ki67.display} ({when(ki67.date)})")
    grade = inputs.grade
    if grade is not None and grade.value == "G3":
        found.append(f"grade G3 ({when(grade.date)})")
    if inputs.neuroendocrine_carcinoma:
        found.append("a neuroendocrine carcinoma")
    return " and ".join(found) or None


def _milan_ki67_note(inputs: CriteriaInputs, results: tuple[SetResult, ...]) -> str | None:
    """Return the Milan Ki-67 note when ``low_grade`` is met with a Ki-67 above 10 %."""
    low_grade_met = any(
        item.id == "low_grade" and item.status is Status.MET
        for result in results
        for item in result.results
    )
    ki67 = inputs.ki67
    value = ki67.value if ki67 is not None else None
    if low_grade_met and value is not None and value.all_above(TEN):
        return MILAN_KI67_NOTE.format(value=value.display())
    return None


def notes_for(inputs: CriteriaInputs, results: tuple[SetResult, ...]) -> tuple[str, ...]:
    """Return the section 5 notes that apply to this patient, and the MDT statement.

    Site notes look at every primary that says where (several disagreeing primaries
    are left for the MDT to choose between, so each one's facts are shown).
    """
    notes: list[str] = []
    ages = _age_bounds(inputs)
    sites = list(dict.fromkeys(s.site for s in located_primary_sites(inputs.primary_sites)))
    if ages is not None and ages[0] > 45:
        notes.append(ELTR_NOTE)
    poor = _poor_differentiation(inputs)
    if poor is not None:
        notes.append(POOR_DIFFERENTIATION_NOTE.format(which=poor))
    milan = _milan_ki67_note(inputs, results)
    if milan is not None:
        notes.append(milan)
    if any(site in POOR_OUTCOME_SITES for site in sites):
        notes.append(FRENCH_NOTE)
    favourable = []
    if ages is not None and ages[1] < 50:
        favourable.append("an age under 50")
    favourable.extend(f"a primary in the {site}" for site in sites if site in FAVOURABLE_SITES)
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
