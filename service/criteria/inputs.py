"""The criteria inputs: one frozen, typed record per patient, built by the mappers.

Every field is optional (``None`` or an empty tuple means "nothing usable in the
record") and every value carries where it came from, so a criterion can name its
evidence. Status filtering (usable Observation statuses, present Conditions,
completed Procedures), the evaluation-date cut-off and most-recent selection have
already been applied by the mappers; freshness is judged by the criteria because
its window is configurable.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from service.criteria.values import DateSpan, Evidence, EvidenceValue, Interval
from service.records import Struct

__all__ = [
    "EXCLUSION_INPUTS",
    "INPUT_NAMES",
    "ConditionFact",
    "CriteriaInputs",
    "Deceased",
    "Drainage",
    "Finding",
    "Measurement",
    "PrimarySite",
    "ProcedureFact",
    "UnreadableCondition",
    "Warning",
]

T = TypeVar("T")

Drainage = Literal["portal", "not_portal", "undetermined"]
DiseaseCourse = Literal["stable", "responding", "progressing"]
Grade = Literal["G1", "G2", "G3"]
MetastaticPattern = Literal["type-i", "type-ii", "type-iii"]


def _date_text(span: DateSpan | None) -> str | None:
    return None if span is None else span.text


class Warning(Struct, frozen=True):  # noqa: A001 - the result contract calls these "warnings"
    """A resource that could not be read or interpreted, and why."""

    reference: str | None
    message: str


class Measurement(Struct, frozen=True):
    """A numeric result normalised to ``unit``.

    ``value`` is ``None`` when the resource is readable but not interpretable
    (unrecognised unit, unparseable string); ``problem`` then says why and the
    criterion reading it is ``unknown``. ``upper_limit`` is the normalised
    ``referenceRange.high`` when one is given (bilirubin); ``upper_limit_problem``
    says why a given limit could not be used.
    """

    reference: str
    date: DateSpan | None
    value: Interval | None
    unit: str
    problem: str | None = None
    upper_limit: Decimal | None = None
    upper_limit_problem: str | None = None
    component: str | None = None
    """The code of the ``component`` of ``reference`` that holds the value, if any."""

    @property
    def origin(self) -> str:
        """Return where the value was read, for a reason: ``component of Observation/7``."""
        return f"component of {self.reference}" if self.component else self.reference

    @property
    def display(self) -> str:
        """Return the value and unit as a clinician reads them (``1.2 mg/dL``)."""
        if self.value is None:
            return "uninterpretable value"
        return f"{self.value.display()} {self.unit}"

    def evidence(self) -> Evidence:
        """Return the evidence entry: normalised value, unit and date."""
        value: EvidenceValue
        if self.value is None:
            value = None
        elif self.value.is_point and self.value.low is not None:
            value = self.value.low.quantize(_MILLI).normalize()
        else:
            value = self.value.display()
        return Evidence(
            self.reference, value, self.unit, _date_text(self.date), component=self.component
        )


class Finding(Struct, Generic[T], frozen=True):
    """A coded, boolean or integer result (an MDT assessment, a grade, ECOG).

    ``value`` is ``None`` when the latest result is readable but not interpretable
    (e.g. an unrecognised answer code); ``problem`` then says why, and the criterion
    reading it is ``unknown`` rather than falling back to an older result.
    """

    reference: str
    date: DateSpan | None
    value: T | None
    display: str
    problem: str | None = None

    def evidence(self) -> Evidence:
        """Return the evidence entry for this finding."""
        value: EvidenceValue = self.value if isinstance(self.value, (bool, int, str)) else None
        return Evidence(self.reference, value, None, _date_text(self.date))


class ConditionFact(Struct, frozen=True):
    """A Condition the service recognised, with the code that matched.

    ``present`` is criteria.md §3's "counts as present". The mappers put only present
    facts in the presence-based fields (extrahepatic metastases, liver disease,
    portal-hypertension signs, carcinoid heart disease) and facts of any clinical
    status in the tumour descriptors (primary sites, neuroendocrine carcinoma). The
    rules still test ``present`` for the presence-based fields, so inputs built by
    other means cannot make a resolved Condition count.
    """

    reference: str
    date: DateSpan | None
    code: str
    display: str
    present: bool

    def evidence(self) -> Evidence:
        """Return the evidence entry: the matched code and the Condition's date."""
        return Evidence(self.reference, self.code, None, _date_text(self.date))


class PrimarySite(ConditionFact, frozen=True):
    """A primary-tumour Condition and what its site code says about portal drainage."""

    drainage: Drainage = "undetermined"
    site: str = "unspecified site"
    unknown_primary: bool = False
    """The code says "metastasis of unknown primary": no primary was found."""


class ProcedureFact(Struct, frozen=True):
    """A completed Procedure the service recognised."""

    reference: str
    date: DateSpan | None
    code: str
    display: str

    def evidence(self) -> Evidence:
        """Return the evidence entry: the procedure code and date."""
        return Evidence(self.reference, self.code, None, _date_text(self.date))


EXCLUSION_INPUTS: tuple[str, ...] = (
    "extrahepatic_metastases",
    "regional_node_metastases",
    "neuroendocrine_carcinoma",
    "portal_hypertension_signs",
    "carcinoid_heart_disease",
    "cirrhosis",
    "significant_liver_disease",
)
"""The inputs an :class:`UnreadableCondition` may stand for (exclusions, threshold raisers)."""


class UnreadableCondition(Struct, frozen=True):
    """A Condition whose code is an exclusion but whose status or date cannot be read.

    criteria.md §7: it is not skipped as if absent. ``input`` names the input it would
    count in when present (``extrahepatic_metastases``, ``cirrhosis``...); every
    criterion reading that input that it could turn ``not_met`` (or whose threshold it
    could raise) cannot be ``met``.
    """

    reference: str
    input: str
    code: str
    display: str
    problem: str

    def as_present(self) -> ConditionFact:
        """Return the Condition as if it were present now (the worst case)."""
        return ConditionFact(self.reference, None, self.code, self.display, True)


class Deceased(Struct, frozen=True):
    """The patient is recorded as deceased on or before the evaluation date.

    ``date`` is ``None`` for ``deceasedBoolean`` true (or an unreadable date): the
    evaluation date then cannot be shown to be before death. A partial date counts when
    any day it stands for is on or before the evaluation date. The criteria are evaluated
    as usual (an audit of past decisions), but no card is shown and no RiskAssessment is
    written (criteria.md §7).
    """

    reference: str
    date: DateSpan | None

    @property
    def label(self) -> str:
        """Return ``2026-05-01`` (the date as recorded), or ``no date given``."""
        return "no date given" if self.date is None else self.date.label


class CriteriaInputs(Struct, frozen=True):
    """Everything the criteria read about one patient, as of ``evaluation_date``.

    Single results are the most recent usable one; tuples are ordered oldest first
    (undated first) except where noted.
    """

    patient: str
    evaluation_date: date
    birth_date: DateSpan | None = None
    ki67: Measurement | None = None
    grade: Finding[Grade] | None = None
    neuroendocrine_carcinoma: tuple[ConditionFact, ...] = ()
    bilirubin: Measurement | None = None
    platelets: Measurement | None = None
    primary_sites: tuple[PrimarySite, ...] = ()
    primary_resections: tuple[ProcedureFact, ...] = ()
    primary_resected: Finding[bool] | None = None
    primary_resectable: Finding[bool] | None = None
    liver_metastases: tuple[ConditionFact, ...] = ()
    extrahepatic_metastases: tuple[ConditionFact, ...] = ()
    """Present metastases outside the liver, regional lymph nodes (C77.x) excepted."""
    regional_node_metastases: tuple[ConditionFact, ...] = ()
    """Present regional lymph-node metastases (C77.x): they go with the primary for
    resection (002) but count as extrahepatic disease for transplantation (001)."""
    extrahepatic_staging: Finding[bool] | None = None
    hepatic_tumour_burden: Measurement | None = None
    metastatic_pattern: Finding[MetastaticPattern] | None = None
    hepatic_disease_resectable: Finding[bool] | None = None
    future_liver_remnant: Measurement | None = None
    major_hepatectomy_planned: Finding[bool] | None = None
    cirrhosis: tuple[ConditionFact, ...] = ()
    significant_liver_disease: tuple[ConditionFact, ...] = ()
    portal_hypertension_signs: tuple[ConditionFact, ...] = ()
    disease_course: tuple[Finding[DiseaseCourse], ...] = ()
    refractory_hormonal_syndrome: Finding[bool] | None = None
    carcinoid_heart_disease: tuple[ConditionFact, ...] = ()
    ecog: Finding[int] | None = None
    liver_transplants: tuple[ProcedureFact, ...] = ()
    unreadable_conditions: tuple[UnreadableCondition, ...] = ()
    deceased: Deceased | None = None
    """Set when the patient is recorded as deceased on or before the evaluation date."""
    warnings: tuple[Warning, ...] = ()


_NOT_INPUTS = frozenset({"patient", "warnings", "unreadable_conditions", "deceased"})
INPUT_NAMES: frozenset[str] = frozenset(
    name for name in CriteriaInputs.__struct_fields__ if name not in _NOT_INPUTS
)
"""The names a criterion may declare in its ``inputs`` (checked when sets load)."""

_MILLI = Decimal("0.001")
