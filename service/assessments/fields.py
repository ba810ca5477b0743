"""The MDT assessment questions, read and checked, and pre-filled from the record.

One question per assessment code of terminology.md (the service's CodeSystem): tumour
burden and future liver remnant in % (0-100, at most one decimal), yes/no findings, and
the Frilling pattern. An answer left empty records nothing (the record keeps what it
has; a finding cannot be "un-recorded" from a form). Only answers that differ from what
the record already says are written, so sending the pre-filled form again writes
nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from service.criteria.inputs import CriteriaInputs, Finding, Measurement

__all__ = [
    "FIELDS",
    "PATTERNS",
    "Answer",
    "Field",
    "Submission",
    "parse_submission",
    "recorded_answers",
]

Kind = Literal["percent", "yes-no", "pattern"]
Answer = Decimal | bool | str
"""A read answer: a percentage, yes/no, or a Frilling pattern code."""

PATTERNS: tuple[tuple[str, str], ...] = (
    ("type-i", "Type I: single metastasis"),
    ("type-ii", "Type II: bulk with smaller deposits, both lobes"),
    ("type-iii", "Type III: disseminated, both lobes"),
)
MAX_DECIMALS = 1


@dataclass(frozen=True)
class Field:
    """One question: its assessment code (also the form field's name), its wording, the
    kind of answer, the criteria input it fills, and the words for yes and no."""

    code: str
    question: str
    kind: Kind
    input_name: str
    yes: str = "Yes"
    no: str = "No"
    hint: str = ""


FIELDS: tuple[Field, ...] = (
    Field(
        "hepatic-tumour-burden",
        "Hepatic tumour burden (% of liver parenchyma involved)",
        "percent",
        "hepatic_tumour_burden",
    ),
    Field(
        "extrahepatic-disease",
        "Extrahepatic disease on the latest staging (cross-sectional and functional imaging)",
        "yes-no",
        "extrahepatic_staging",
        yes="Present",
        no="Absent",
    ),
    Field(
        "metastatic-pattern", "Metastatic pattern (Frilling type)", "pattern", "metastatic_pattern"
    ),
    Field(
        "hepatic-disease-resectable",
        "All liver disease resectable or ablatable with curative intent",
        "yes-no",
        "hepatic_disease_resectable",
    ),
    Field(
        "major-hepatectomy-planned",
        "A major hepatectomy (3 or more segments) is planned",
        "yes-no",
        "major_hepatectomy_planned",
        hint="No: volumetry is not required for a minor resection.",
    ),
    Field(
        "future-liver-remnant",
        "Future liver remnant (% of total liver volume, volumetry)",
        "percent",
        "future_liver_remnant",
    ),
    Field("primary-resected", "The primary tumour has been resected", "yes-no", "primary_resected"),
    Field("primary-resectable", "The primary tumour is resectable", "yes-no", "primary_resectable"),
    Field(
        "refractory-hormonal-syndrome",
        "The hormonal syndrome is refractory to medical therapy",
        "yes-no",
        "refractory_hormonal_syndrome",
    ),
)
"""In the order the MDT discusses them: extent, resectability, primary, syndrome."""


@dataclass(frozen=True)
class Submission:
    """A read form: every answer given, the ones that change the record, and errors."""

    answers: Mapping[str, Answer]
    changes: Mapping[str, Answer]
    errors: Mapping[str, str]
    raw: Mapping[str, str]
    """What was typed, to show the form again as it was sent."""


def _recorded(value: object) -> Answer | None:
    if isinstance(value, Measurement):
        interval = value.value
        return interval.low if interval is not None and interval.is_point else None
    if isinstance(value, Finding) and isinstance(value.value, bool | str):
        return value.value
    return None


def recorded_answers(inputs: CriteriaInputs) -> dict[str, Answer]:
    """Return what the record already says for each question (its latest usable value;
    a completed resection Procedure says the primary is resected); a range, a comparator
    or an uninterpretable value pre-fills nothing."""
    found: dict[str, Answer] = {}
    for field in FIELDS:
        answer = _recorded(getattr(inputs, field.input_name, None))
        if answer is not None:
            found[field.code] = answer
    if inputs.primary_resections:  # a resection Procedure beats the assessment (§7)
        found["primary-resected"] = True
    return found


def _read(field: Field, text: str) -> Answer:
    """Read one non-empty answer; raise :class:`ValueError` with the message to show."""
    if field.kind == "percent":
        try:
            number = Decimal(text.replace(" ", "").removesuffix("%"))
        except InvalidOperation:
            raise ValueError("Enter a number from 0 to 100 (for example 35).") from None
        if not number.is_finite() or not 0 <= number <= 100:
            raise ValueError("Enter a number from 0 to 100.")
        if -number.as_tuple().exponent > MAX_DECIMALS:  # type: ignore[operator]
            raise ValueError("Use at most one decimal place.")
        return number
    if field.kind == "yes-no":
        if text not in ("yes", "no"):
            raise ValueError(f"Choose {field.yes.lower()} or {field.no.lower()}.")
        return text == "yes"
    if text not in dict(PATTERNS):
        raise ValueError("Choose type I, II or III.")
    return text


def parse_submission(form: Mapping[str, str], recorded: Mapping[str, Answer]) -> Submission:
    """Read every question of ``form``; ``changes`` are the answers that differ from
    ``recorded`` (what the record says now)."""
    answers: dict[str, Answer] = {}
    errors: dict[str, str] = {}
    raw: dict[str, str] = {}
    for field in FIELDS:
        text = (form.get(field.code) or "").strip()[:32]
        raw[field.code] = text
        if not text:
            continue
        try:
            answers[field.code] = _read(field, text)
        except ValueError as exc:
            errors[field.code] = str(exc)
    changes = {
        code: answer
        for code, answer in answers.items()
        if code not in recorded or recorded[code] != answer
    }
    return Submission(answers, changes if not errors else {}, errors, raw)
