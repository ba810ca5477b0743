"""How many sampled patients carry usable data for each criteria input.

Pure. For every input the service reads, each patient falls in exactly one class, the
best one their data reaches, in this order:

``found``
    usable data: for an Observation, the most recent result with a usable status
    (final, amended, corrected), a value and a date not after the evaluation date, whose
    value can be read (a recognised unit) and, for bilirubin and platelets, is fresh;
    a present Condition; a completed Procedure; a birth date;
``stale``
    the most recent bilirubin or platelet count is older than the freshness window;
``unit unrecognised``
    the most recent result has a unit the service does not recognise;
``uninterpretable``
    the most recent result's value cannot be read for another reason (an odd string);
``status unusable``
    results or resources exist, but none with a usable status (preliminary, cancelled,
    entered-in-error; a Condition refuted or resolved; a Procedure not completed);
``missing``
    nothing with a code the service reads.

The classes follow criteria.md §3; the evaluation itself remains the authority
(this is a survey, it decides nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from service.criteria.rules.common import is_fresh
from service.mappers.codes import Terminology
from service.mappers.errors import UnreadableError
from service.mappers.quantities import (
    BILIRUBIN,
    PERCENT,
    PLATELETS,
    UninterpretableError,
    UnitTable,
    read_number,
    value_key,
)
from service.mappers.reading import (
    EXCLUDED_VERIFICATION_STATUSES,
    PRESENT_CLINICAL_STATUSES,
    USABLE_OBSERVATION_STATUSES,
    make_entry,
    read_date,
)

__all__ = ["CLASSES", "InputUsage", "survey"]

CLASSES = (
    "found",
    "stale",
    "unit unrecognised",
    "uninterpretable",
    "status unusable",
    "missing",
)
_RANK = {name: index for index, name in enumerate(CLASSES)}
_DATES = ("effectiveDateTime", "effectivePeriod.end", "effectiveInstant", "issued")
_TABLES: Mapping[str, UnitTable] = {
    "ki67": PERCENT,
    "ki67_breast": PERCENT,
    "bilirubin": BILIRUBIN,
    "platelets": PLATELETS,
    "hepatic_tumour_burden": PERCENT,
    "future_liver_remnant": PERCENT,
}
_PERISHABLE = frozenset({"bilirubin", "platelets"})


@dataclass
class InputUsage:
    """One input: its kind (``Observation``, ``Condition``, ``Procedure``, ``Patient``),
    the count of patients per class, and which patients are in each class."""

    name: str
    kind: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLASSES, 0))
    patients: dict[str, list[str]] = field(default_factory=dict)

    def add(self, patient: str, found_class: str) -> None:
        """Count ``patient`` in ``found_class``."""
        self.counts[found_class] += 1
        self.patients.setdefault(found_class, []).append(patient)


def _observation_class(
    name: str, matches: list[dict[str, Any]], at: date, freshness_days: int
) -> str:
    if not matches:
        return "missing"
    usable = [r for r in matches if r.get("status") in USABLE_OBSERVATION_STATUSES]
    dated: list[tuple[Any, dict[str, Any]]] = []
    for resource in usable:
        if value_key(resource) is None and not resource.get("component"):
            continue
        try:
            when = read_date(make_entry(resource, None, 0), _DATES)
        except UnreadableError:
            continue
        if when is not None and when.is_after(at):
            continue
        dated.append((when, resource))
    if not dated:
        return "status unusable"
    dated.sort(key=lambda item: item[0].earliest if item[0] is not None else date.min)
    when, latest = dated[-1]
    table = _TABLES.get(name)
    if table is not None and value_key(latest) is not None:
        try:
            read_number(latest, table, "the result")
        except UninterpretableError as exc:
            return "unit unrecognised" if "unit" in str(exc) else "uninterpretable"
        except UnreadableError:
            return "uninterpretable"
    if name in _PERISHABLE and (when is None or is_fresh(when, freshness_days, at) is not True):
        return "stale"
    return "found"


def _condition_state(resource: Mapping[str, Any], category: str) -> str:
    """A primary site counts whatever its clinical status (it describes the tumour);
    other categories only when present now. Refuted or entered-in-error never counts."""

    def code(field_name: str) -> str | None:
        concept = resource.get(field_name)
        codings = concept.get("coding") if isinstance(concept, dict) else None
        for coding in codings if isinstance(codings, list) else []:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                return str(coding["code"])
        return None

    clinical, verification = code("clinicalStatus"), code("verificationStatus")
    if verification in EXCLUDED_VERIFICATION_STATUSES:
        return "status unusable"
    if category == "primary_site" or clinical is None or clinical in PRESENT_CLINICAL_STATUSES:
        return "found"
    return "status unusable"


def _best(classes: Iterable[str]) -> str:
    return min(classes, key=_RANK.__getitem__, default="missing")


def survey(
    records: Mapping[str, list[dict[str, Any]]],
    terminology: Terminology,
    at: date,
    freshness_days: int,
) -> list[InputUsage]:
    """Return, per input, how many patients of ``records`` (id → resources) have usable data."""
    usages: dict[str, InputUsage] = {"birth_date": InputUsage("birth_date", "Patient")}
    for name in terminology.observations:
        usages[name] = InputUsage(name, "Observation")
    for name in (*terminology.conditions, "primary_site"):
        usages[name] = InputUsage(name, "Condition")
    for name in terminology.procedures:
        usages[name] = InputUsage(name, "Procedure")
    for patient, resources in records.items():
        observations: dict[str, list[dict[str, Any]]] = {}
        conditions: dict[str, list[str]] = {}
        procedures: dict[str, list[str]] = {}
        birth = "missing"
        for resource in resources:
            kind = resource.get("resourceType")
            if kind == "Patient":
                birth = "found" if isinstance(resource.get("birthDate"), str) else birth
            elif kind == "Observation":
                hit = terminology.observation_input(resource.get("code"))
                if hit is not None:
                    observations.setdefault(hit[0], []).append(resource)
            elif kind == "Condition":
                for category in terminology.condition_categories(resource.get("code")):
                    state = _condition_state(resource, category)
                    conditions.setdefault(category, []).append(state)
            elif kind == "Procedure":
                for category in terminology.procedure_categories(resource.get("code")):
                    state = "found" if resource.get("status") == "completed" else "status unusable"
                    procedures.setdefault(category, []).append(state)
        usages["birth_date"].add(patient, birth)
        for name in terminology.observations:
            found_class = _observation_class(name, observations.get(name, []), at, freshness_days)
            usages[name].add(patient, found_class)
        for name in (*terminology.conditions, "primary_site"):
            usages[name].add(patient, _best(conditions.get(name, [])))
        for name in terminology.procedures:
            usages[name].add(patient, _best(procedures.get(name, [])))
    return list(usages.values())
