"""Observations → measurements and findings, with the filters of criteria.md §3.

Named steps, in the spec's order: recognised code → usable status → has a value →
not after the evaluation date → most recent (ties: lastUpdated, then id). Every
candidate's value is read cheaply, so each unreadable one is reported; only the
one chosen is validated in full, and if that fails the next older one takes its
place. A chosen result that is readable but not interpretable stays chosen, with
``value=None`` and a problem, so its criterion is ``unknown`` (no fall-back).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar, cast

from service.criteria.inputs import (
    DiseaseCourse,
    Finding,
    Grade,
    Measurement,
    MetastaticPattern,
    Warning,
)
from service.mappers.codes import ASSESSMENT_SYSTEM, LOINC, SNOMED, Terminology, codings_of
from service.mappers.errors import UnreadableError
from service.mappers.json_text import HostileNumber
from service.mappers.quantities import (
    BILIRUBIN,
    PERCENT,
    PLATELETS,
    UninterpretableError,
    UnitTable,
    read_number,
    read_simple_quantity,
    value_key,
)
from service.mappers.reading import (
    OBSERVATION_STATUSES,
    USABLE_OBSERVATION_STATUSES,
    Dated,
    Entry,
    oldest_first,
    read_date,
    read_last_updated,
    read_status,
)
from service.mappers.systems import code_problem
from service.mappers.validation import validate_resource

__all__ = ["ObservationReader", "classify_observations"]

T = TypeVar("T")

OBSERVATION_DATE_FIELDS = ("effectiveDateTime", "effectivePeriod.end", "effectiveInstant", "issued")

GRADE_CODES: dict[tuple[str, str], Grade] = {
    (SNOMED, "1155708003"): "G1",
    (SNOMED, "1286893008"): "G2",
    (SNOMED, "1155707008"): "G3",
}
COURSE_CODES: dict[tuple[str, str], DiseaseCourse | None] = {
    (SNOMED, "268910001"): "responding",  # improved
    (SNOMED, "359746009"): "stable",
    (SNOMED, "260415000"): "responding",  # not detected
    (SNOMED, "271299001"): "progressing",  # worsened
    (SNOMED, "709137006"): None,  # undetermined: not a result
}
ECOG_ANSWERS = {
    (LOINC, "LA9622-7"): 0,
    (LOINC, "LA9623-5"): 1,
    (LOINC, "LA9624-3"): 2,
    (LOINC, "LA9625-0"): 3,
    (LOINC, "LA9626-8"): 4,
    (LOINC, "LA9627-6"): 5,
}
PATTERN_CODES: dict[tuple[str, str], MetastaticPattern] = {
    (ASSESSMENT_SYSTEM, "type-i"): "type-i",
    (ASSESSMENT_SYSTEM, "type-ii"): "type-ii",
    (ASSESSMENT_SYSTEM, "type-iii"): "type-iii",
}
YES_NO = {(SNOMED, "373066001"): True, (SNOMED, "373067005"): False}


class _NotAResultError(Exception):
    """The Observation records no result (e.g. disease status "undetermined")."""


COMPONENT_INPUTS = frozenset({"ki67", "ki67_breast"})
"""Inputs read from an Observation's ``component`` too (criteria.md §7, v1.1)."""
PANEL_INPUTS = frozenset({"ki67_panel"})
"""Codes searched for only for their components: the panel itself is no result."""


def _candidates(
    entry: Entry, terminology: Terminology
) -> list[tuple[str, tuple[str, str], dict[str, Any] | None]]:
    """Return (input, matching coding, component) for the Observation itself and for each
    component that carries a Ki-67 code (the first such component per input)."""
    found: list[tuple[str, tuple[str, str], dict[str, Any] | None]] = []
    hit = terminology.observation_input(entry.resource.get("code"))
    if hit is not None and hit[0] not in PANEL_INPUTS:
        found.append((hit[0], hit[1], None))
    components = entry.resource.get("component")
    if components is None:
        return found
    seen: set[str] = set()
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, dict):
            continue
        part = terminology.observation_input(component.get("code"))
        if part is not None and part[0] in COMPONENT_INPUTS and part[0] not in seen:
            seen.add(part[0])
            found.append((part[0], part[1], component))
    return found


def classify_observations(
    entries: Iterable[Entry], terminology: Terminology, at: date, warnings: list[Warning]
) -> dict[str, list[Dated]]:
    """Group usable, value-bearing, not-future Observations by input name.

    A component with a Ki-67 code is a Ki-67 result of its own, with the parent's status,
    date and subject (criteria.md §7); the most recent across top-level and component
    results wins.
    """
    groups: dict[str, list[Dated]] = defaultdict(list)
    for entry in entries:
        if entry.resource_type != "Observation":
            continue
        candidates = _candidates(entry, terminology)
        if not candidates:
            problem = code_problem(entry.resource.get("code"))
            if problem is not None:  # issue 9: a malformed code is reported, not dropped
                warnings.append(Warning(entry.reference, f"unreadable ({problem}); not used"))
            continue
        try:
            status = read_status(entry, OBSERVATION_STATUSES)
            # Observations (and components) without any value[x] are not results
            valued = [c for c in candidates if value_key(c[2] or entry.resource) is not None]
            if status not in USABLE_OBSERVATION_STATUSES or not valued:
                continue
            when = read_date(entry, OBSERVATION_DATE_FIELDS)
            last_updated = read_last_updated(entry)
        except UnreadableError as exc:
            warnings.append(Warning(entry.reference, f"unreadable ({exc}); not used"))
            continue
        if when is not None and when.is_after(at):
            continue
        for name, code, component in valued:
            groups[name].append(Dated(entry, when, last_updated, code, component))
    return groups


def _concept_codes(resource: dict[str, Any]) -> list[tuple[str, str]]:
    concept = resource.get("valueCodeableConcept")
    if not isinstance(concept, dict):
        raise UnreadableError("valueCodeableConcept is not an object")
    return list(codings_of(concept))


class ObservationReader:
    """Choose and read the Observations of each input; collects warnings."""

    def __init__(self, groups: dict[str, list[Dated]], warnings: list[Warning]) -> None:
        self._groups = groups
        self._warnings = warnings

    def _latest(self, name: str, read: Callable[[Dated], T]) -> T | None:
        chosen: T | None = None
        for candidate in reversed(oldest_first(self._groups.get(name, []))):
            try:
                value = read(candidate)
                if chosen is None:
                    validate_resource(candidate.entry)
                    chosen = value
            except UnreadableError as exc:
                self._warnings.append(
                    Warning(candidate.entry.reference, f"unreadable ({exc}); not used")
                )
        return chosen

    def _uninterpretable(self, candidate: Dated, problem: str) -> None:
        self._warnings.append(Warning(candidate.entry.reference, problem))

    def measurement(self, name: str, table: UnitTable) -> Measurement | None:
        """Return the latest numeric result of ``name`` normalised to the table's unit."""

        def read(candidate: Dated) -> Measurement:
            where = candidate.entry.reference
            part = candidate.code[1] if candidate.component is not None else None
            try:
                interval = read_number(candidate.value_source, table, where)
            except UninterpretableError as exc:
                return Measurement(
                    where, candidate.date, None, table.normalised, str(exc), component=part
                )
            return Measurement(where, candidate.date, interval, table.normalised, component=part)

        found = self._latest(name, read)
        if found is not None and found.problem is not None:
            self._warnings.append(Warning(found.reference, found.problem))
        return found

    def ki67(self) -> Measurement | None:
        """Return the latest Ki-67; the breast-specimen code only if no other exists."""
        return self.measurement("ki67", PERCENT) or self.measurement("ki67_breast", PERCENT)

    def platelets(self) -> Measurement | None:
        """Return the latest platelet count in 10*9/L."""
        return self.measurement("platelets", PLATELETS)

    def bilirubin(self) -> Measurement | None:
        """Return the latest total bilirubin in mg/dL with its reference-range limit."""

        def read(candidate: Dated) -> Measurement:
            where = candidate.entry.reference
            resource = candidate.entry.resource
            try:
                interval = read_number(resource, BILIRUBIN, where)
            except UninterpretableError as exc:
                return Measurement(where, candidate.date, None, BILIRUBIN.normalised, str(exc))
            limit, limit_problem = _reference_high(resource, where)
            return Measurement(
                where, candidate.date, interval, BILIRUBIN.normalised, None, limit, limit_problem
            )

        found = self._latest("bilirubin", read)
        if found is not None:
            for problem in (found.problem, found.upper_limit_problem):
                if problem is not None:
                    self._warnings.append(Warning(found.reference, problem))
        return found

    def _finding(
        self, name: str, interpret: Callable[[dict[str, Any], str], T], label: str
    ) -> Finding[T] | None:
        def read(candidate: Dated) -> Finding[T]:
            where = candidate.entry.reference
            try:
                value = interpret(candidate.entry.resource, where)
            except UninterpretableError as exc:
                return Finding(where, candidate.date, None, label, str(exc))
            return Finding(where, candidate.date, value, label)

        found = self._latest(name, read)
        if found is not None and found.problem is not None:
            self._warnings.append(Warning(found.reference, found.problem))
        return found

    def boolean(self, name: str) -> Finding[bool] | None:
        """Return the latest yes/no assessment of ``name``."""
        return self._finding(name, _read_boolean, name)

    def grade(self) -> Finding[Grade] | None:
        """Return the latest histological grade (G1/G2/G3)."""
        return self._finding("grade", _read_grade, "grade")

    def ecog(self) -> Finding[int] | None:
        """Return the latest ECOG performance status (0-5)."""
        return self._finding("ecog", _read_ecog, "ECOG")

    def metastatic_pattern(self) -> Finding[MetastaticPattern] | None:
        """Return the latest Frilling pattern."""
        return self._finding("metastatic_pattern", _read_pattern, "metastatic pattern")

    def disease_course(self) -> tuple[Finding[DiseaseCourse], ...]:
        """Return every disease-status result, oldest first ("undetermined" skipped)."""
        series: list[Finding[DiseaseCourse]] = []
        for candidate in oldest_first(self._groups.get("disease_course", [])):
            where = candidate.entry.reference
            try:
                value = _read_course(candidate.entry.resource, where)
                validate_resource(candidate.entry)
            except _NotAResultError:
                continue
            except UnreadableError as exc:
                self._warnings.append(Warning(where, f"unreadable ({exc}); not used"))
                continue
            except UninterpretableError as exc:
                self._uninterpretable(candidate, str(exc))
                series.append(Finding(where, candidate.date, None, "disease status", str(exc)))
                continue
            series.append(Finding(where, candidate.date, value, "disease status"))
        return tuple(series)


def _reference_high(resource: dict[str, Any], where: str) -> tuple[Any, str | None]:
    """Return (normalised high of the first referenceRange with one, problem)."""
    ranges = resource.get("referenceRange")
    if ranges is None:
        return None, None
    if not isinstance(ranges, list):
        raise UnreadableError("referenceRange is not a list")
    for item in ranges:
        if isinstance(item, dict) and "high" in item:
            try:
                return read_simple_quantity(
                    item["high"], BILIRUBIN, where, "referenceRange.high"
                ), None
            except UninterpretableError as exc:
                return None, f"reference range: {exc}"
    return None, None


def _read_boolean(resource: dict[str, Any], where: str) -> bool:
    key = value_key(resource)
    if key == "valueBoolean":
        value = resource[key]
        if not isinstance(value, bool):
            raise UnreadableError("valueBoolean is not a boolean")
        return value
    if key == "valueCodeableConcept":
        for code in _concept_codes(resource):
            if code in YES_NO:
                return YES_NO[code]
    raise UninterpretableError(f"{key} is not a yes/no answer on {where}")


def _read_grade(resource: dict[str, Any], where: str) -> Grade:
    key = value_key(resource)
    texts: list[Any] = []
    if key == "valueString":
        texts.append(resource[key])
    elif key == "valueCodeableConcept":
        concept = resource[key]
        for code in _concept_codes(resource):
            if code in GRADE_CODES:
                return GRADE_CODES[code]
            texts.append(code[1])
        texts.append(concept.get("text"))
    for text in texts:
        if isinstance(text, str) and text.strip().upper() in ("G1", "G2", "G3"):
            return cast(Grade, text.strip().upper())
    if key == "valueString" and not isinstance(resource[key], str):
        raise UnreadableError("valueString is not a string")
    raise UninterpretableError(f"grade value is not G1, G2 or G3 on {where}")


def _read_ecog(resource: dict[str, Any], where: str) -> int:
    key = value_key(resource)
    if key == "valueInteger":
        value = resource[key]
        if isinstance(value, HostileNumber):
            raise UninterpretableError(f"ECOG {value} is not a value a record can hold on {where}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise UnreadableError("valueInteger is not an integer")
        if value not in range(6):
            raise UnreadableError(f"ECOG {value} is outside 0-5")
        return value
    if key == "valueCodeableConcept":
        for code in _concept_codes(resource):
            if code in ECOG_ANSWERS:
                return ECOG_ANSWERS[code]
    raise UninterpretableError(f"ECOG value is not an integer 0-5 or a LOINC answer on {where}")


def _read_pattern(resource: dict[str, Any], where: str) -> MetastaticPattern:
    if value_key(resource) == "valueCodeableConcept":
        for code in _concept_codes(resource):
            if code in PATTERN_CODES:
                return PATTERN_CODES[code]
    raise UninterpretableError(f"metastatic pattern is not type-i, type-ii or type-iii on {where}")


def _read_course(resource: dict[str, Any], where: str) -> DiseaseCourse:
    if value_key(resource) == "valueCodeableConcept":
        for code in _concept_codes(resource):
            if code in COURSE_CODES:
                course = COURSE_CODES[code]
                if course is None:
                    raise _NotAResultError
                return course
    raise UninterpretableError(f"disease status is not a recognised SNOMED CT answer on {where}")
