"""The clinical words of a RiskAssessment: rationale, notes and narrative.

Pure: no I/O. Everything here says the result in clinical words (criterion labels,
never ids, parser codes or file numbers); :mod:`service.writeback` builds the resource
around it. ``names`` (:func:`~service.code_names.code_names` of the patient's record)
writes a code a sentence names as the record names it, ``(Secondary carcinoid tumors of
bone, C7B.03)``, as the page and the card do; without it codes stay bare.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from service.code_names import name_codes
from service.criteria import DEFAULT_SETS
from service.verdicts import clinical_text, to_record_text

__all__ = ["LINK_NOTES", "MDT_STATEMENT", "clean", "narrative", "notes", "rationale"]

MDT_STATEMENT = (
    "This assessment supports, and does not replace, the multidisciplinary team (MDT). "
    "It is not medical advice."
)
CRITERION_LABELS: Mapping[str, Mapping[str, str]] = {
    s.id: {c.id: c.label for c in s.criteria} for s in DEFAULT_SETS
}
"""Each criterion's label, by set: the words a rationale uses instead of its id."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def clean(text: str) -> str:
    """Return ``text`` with control characters removed and whitespace collapsed."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _sentence(text: str) -> str:
    text = clean(text).rstrip(".")
    return f"{text}."


def _label(assessment: Mapping[str, Any], criterion: Mapping[str, Any]) -> str:
    labels = CRITERION_LABELS.get(str(assessment["criteriaSet"]), {})
    return labels.get(str(criterion["id"]), str(criterion["id"]).replace("_", " "))


def rationale(assessment: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """Say in clinical words what decided the set: every criterion not met, else every one
    that cannot be decided with what to record (no criterion ids, no file numbers)."""
    return name_codes(_rationale(assessment), names or {})


def _rationale(assessment: Mapping[str, Any]) -> str:
    criteria = assessment["criteria"]
    status = assessment["status"]
    total = len(criteria)
    if status == "eligible":
        return f"Eligible: all {total} criteria met."
    if status == "ineligible":
        failed = [c for c in criteria if c["status"] == "not_met"]
        parts = [f"Not eligible: {len(failed)} of {total} criteria not met."]
        parts += [
            _sentence(f"{_label(assessment, c)}: not met, {clinical_text(c['reason'])}")
            for c in failed
        ]
        return " ".join(parts)
    open_ = [c for c in criteria if c["status"] == "unknown"]
    parts = [f"Undecided: none of {total} criteria is not met, {len(open_)} cannot be decided."]
    for criterion in open_:
        needs = [clean(n) for n in criterion["needs"] if isinstance(n, str) and clean(n)]
        reason = clinical_text(criterion["reason"])
        parts.append(_sentence(f"{_label(assessment, criterion)}: undecided, {reason}"))
        if needs:
            parts.append(_sentence(f"To record: {'; '.join(clinical_text(n) for n in needs)}"))
    return " ".join(parts)


def _markdown(text: str) -> str:
    """Escape markdown so that e.g. ``10*9/L ... 10*9/L`` is not read as emphasis."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


LINK_NOTES = ("Supersedes ", "Superseded by ", "A later assessment remains")
"""How the notes that link assessments begin (:mod:`service.supersession`)."""
_UNREADABLE = re.compile(r"^unreadable \((?P<why>.*)\); not used$", re.DOTALL)


def _warning_text(message: str) -> str:
    """Say a data warning in words: the mappers' parser details stay in the result."""
    if _UNREADABLE.match(message):
        return "could not be read (a field has the wrong type or an impossible value); not used"
    return clinical_text(message)


def notes(
    result: Mapping[str, Any], names: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """Return the MDT statement, what would change the verdict, the result's notes, then
    its data warnings, in clinical words."""
    texts = [MDT_STATEMENT, *filter(None, [to_record_text(result)])]
    for note in result.get("notes") or ():
        # The result's own MDT sentence is replaced by MDT_STATEMENT, not repeated.
        if isinstance(note, str) and clean(note) and "does not replace" not in note:
            texts.append(clinical_text(clean(note)))
    for warning in result.get("warnings") or ():
        if isinstance(warning, Mapping) and isinstance(warning.get("message"), str):
            where = warning.get("reference")
            prefix = f"{where}: " if isinstance(where, str) and clean(where) else ""
            if clean(warning["message"]):
                texts.append(f"Data warning: {prefix}{_warning_text(clean(warning['message']))}")
    named = (name_codes(text, names or {}) for text in texts)
    return [{"text": _markdown(text)} for text in dict.fromkeys(named)]


def narrative(resource: Mapping[str, Any]) -> dict[str, str]:
    """Return a generated XHTML narrative of the predictions (FHIR dom-6), with the
    evaluation date and, when there is one, what this assessment supersedes or is
    superseded by (the notes of :mod:`service.supersession`)."""
    items = "".join(
        f"<li><b>{html.escape(p['outcome']['text'])}</b>. {html.escape(p['rationale'])}</li>"
        for p in resource.get("prediction") or ()
    )
    when = resource.get("occurrenceDateTime")
    heading = html.escape(
        f"NELM eligibility{f' as of {when}' if when else ''} ({resource['status']}), "
        f"{resource['subject']['reference']}"
    )
    links = "".join(
        f"<p>{html.escape(note['text'])}</p>"
        for note in resource.get("note") or ()
        if isinstance(note, Mapping) and str(note.get("text", "")).startswith(LINK_NOTES)
    )
    return {
        "status": "generated",
        "div": (
            '<div xmlns="http://www.w3.org/1999/xhtml">'
            f"<p>{heading}</p>{links}<ul>{items}</ul><p>{html.escape(MDT_STATEMENT)}</p></div>"
        ),
    }
