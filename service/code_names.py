"""Codes named as the record names them, for sentences a clinician reads.

A verdict sentence comes from the result alone (``extrahepatic metastasis recorded
(C7B.03)``); the page and the card also have the patient's record, whose Condition or
Procedure usually carries the code's display text. :func:`code_names` collects, for the
codes the result's evidence names, that display; :func:`name_codes` writes the first
bare ``(code)`` (or ``(code, date)``) of a text as ``(display, code)``, unless the text
already says the name. Text from the record is only ever inserted as text (callers
escape it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from service.mappers import PatientRecord

__all__ = ["MAX_DISPLAY", "code_names", "concept_display", "name_codes"]

_CODED = ("Condition", "Procedure")


def _same_code(a: object, b: object) -> bool:
    """Whether two codes are the same, ignoring case and the dot (``C7B.02`` = ``c7b02``)."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    return a.replace(".", "").casefold() == b.replace(".", "").casefold()


def concept_display(concept: object, code: object = None, *, strict: bool = False) -> str | None:
    """Return the display of ``concept``'s coding with ``code``, else its text.

    Without ``code`` any coding's display will do; with one, a concept none of whose
    codings has that code falls back to any coding's display unless ``strict``.
    """
    if not isinstance(concept, Mapping):
        return None
    codings = [c for c in concept.get("coding") or () if isinstance(c, Mapping)]
    matching = [c for c in codings if code is None or _same_code(c.get("code"), code)]
    for coding in matching if strict else (matching or codings):
        display = coding.get("display")
        if isinstance(display, str) and display.strip():
            return display.strip()
    text = concept.get("text")
    return text.strip() if isinstance(text, str) and text.strip() else None


MAX_DISPLAY = 100
"""A display longer than this many characters is cut, with "…": it is repeated in every
sentence that names its code."""


def _shortened(display: str) -> str:
    return display if len(display) <= MAX_DISPLAY else f"{display[: MAX_DISPLAY - 1].rstrip()}…"


def code_names(result: Mapping[str, Any], record: PatientRecord | None) -> dict[str, str]:
    """Return ``{code: display}`` for each code the result's evidence names whose
    Condition or Procedure in ``record`` has a display (empty without a record)."""
    if record is None:
        return {}
    resources = {e.reference: e.resource for e in (record.patient, *record.resources)}
    names: dict[str, str] = {}
    for assessment in result.get("assessments", ()):
        for criterion in assessment.get("criteria", ()):
            for item in criterion.get("evidence", ()):
                code = item.get("value")
                if not isinstance(code, str) or not code or code in names:
                    continue
                resource = resources.get(str(item.get("reference")))
                if not isinstance(resource, Mapping) or resource.get("resourceType") not in _CODED:
                    continue
                display = concept_display(resource.get("code"), code, strict=True)
                if display is not None and display.casefold() != code.casefold():
                    names[code] = _shortened(display)
    return names


def name_codes(text: str, names: Mapping[str, str]) -> str:
    """Write the first ``(code)`` or ``(code, date)`` of each code in ``text`` as
    ``(display, code)`` or ``(display, code, date)``, unless ``text`` already says that
    display; later mentions stay short. One pass over ``text`` as given: a display put in
    is never searched again for another code."""
    wanted = {code: name for code, name in names.items() if name.casefold() not in text.casefold()}
    if not wanted:
        return text
    codes = "|".join(re.escape(code) for code in sorted(wanted, key=len, reverse=True))
    named: set[str] = set()

    def first_named(match: re.Match[str]) -> str:
        code = match.group(1)
        if code in named:
            return match.group(0)
        named.add(code)
        return f"({wanted[code]}, {code}"

    return re.sub(rf"\(({codes})(?=[,)])", first_named, text)
