"""Each pathway's verdict and what decides it, in clinical words, from the JSON result.

Shared by the card, the clinician page and the RiskAssessment note, so the three say the
same thing. Pure functions over the evaluation result (interfaces.md §1) and its optional
``decisiveData`` (what would change the verdict).

- A pathway (liver transplantation, liver resection) is *eligible* when any of its sets
  is, *undecided* when none is eligible and one is indeterminate, else *not eligible*.
- The deciding finding of a closed pathway is the ``not_met`` reason whose evidence
  closes most sets of that pathway (the same Ki-67 result closes Milan-NET, ENETS and
  UNOS), said without dates, references, criterion ids or file numbers.
- The next step of an undecided pathway is the first item of the ranked "to record" list
  that could change one of its sets, else the MDT decision it waits for.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.criteria.data_items import item as data_item

__all__ = [
    "PATHWAY_NAMES",
    "SET_NAMES",
    "STATUS_WORDS",
    "DecisiveItem",
    "PathwayVerdict",
    "clinical_text",
    "decisive_items",
    "join_names",
    "pathway_verdicts",
    "short_reason",
    "to_record_text",
]

SET_NAMES: Mapping[str, str] = {
    "milan-net": "Milan-NET",
    "enets": "ENETS",
    "unos": "UNOS",
    "resection": "resection criteria",
}
PATHWAY_NAMES: Mapping[str, str] = {
    "transplant": "Liver transplantation",
    "resection": "Liver resection",
}
STATUS_WORDS: Mapping[str, str] = {
    "eligible": "eligible",
    "ineligible": "not eligible",
    "indeterminate": "undecided",
}

_UNITS = (
    (re.compile(r"\b10\*9/L\b"), "×10⁹/L"),
    (re.compile(r"\b10\*3/uL\b"), "×10³/µL"),
    (re.compile(r"\bumol/L\b"), "µmol/L"),
)
_CRITERION_PREFIX = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+: ")
_PARENTHESES = re.compile(r"\s*\(([^()]*)\)")
_DATE = re.compile(r"\d{4}(?:-\d{2}){0,2}(?:T[0-9:.+\-Z]*)?|undated")
_REFERENCE = re.compile(r"\b[A-Z][A-Za-z]+/[A-Za-z0-9.\-]+")
_ECHO = re.compile(r"^(.+?) recorded: \1\b")
"""``extrahepatic metastasis recorded: extrahepatic metastasis (C7B.03)``: say it once."""
_SOURCE = re.compile(r"^\d{3}(?:\b.*)?$")
"""A parenthesis naming source reviews by file number: ``(000, 001, 004)``, ``(001 Fig. 2)``."""


def _parenthesis(match: re.Match[str], *, keep_dates: bool) -> str:
    """Return a parenthesis without its references and file numbers (and, unless
    ``keep_dates``, its dates); nothing when nothing is left."""
    inner = match.group(1)
    if _SOURCE.match(inner.strip()):
        return ""
    parts = [
        part
        for part in (p.strip() for p in inner.split(","))
        if part and not _REFERENCE.fullmatch(part) and (keep_dates or not _DATE.fullmatch(part))
    ]
    return f" ({', '.join(parts)})" if parts else ""


def clinical_text(text: str) -> str:
    """Return ``text`` without criterion ids, file numbers or references, units spelled as
    clinicians write them; dates in parentheses stay (they say which result)."""
    text = _CRITERION_PREFIX.sub("", text)
    text = _PARENTHESES.sub(lambda m: _parenthesis(m, keep_dates=True), text)
    for pattern, shown in _UNITS:
        text = pattern.sub(shown, text)
    return " ".join(text.split())


def short_reason(reason: str) -> str:
    """Return the first phrase of a reason, without dates, references or file numbers:
    ``Ki-67 28 % (2026-01-10) exceeds 20 % (G3); …`` → ``Ki-67 28 % exceeds 20 % (G3)``."""
    first = _CRITERION_PREFIX.sub("", reason).split("; ")[0]
    first = _PARENTHESES.sub(lambda m: _parenthesis(m, keep_dates=False), first)
    return _ECHO.sub(r"\1 recorded", clinical_text(first))


def join_names(names: Sequence[str]) -> str:
    """Return ``A``, ``A and B``, ``A, B and C``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass(frozen=True)
class DecisiveItem:
    """One item of the ranked "to record" list (``decisiveData.toRecord``)."""

    key: str
    label: str
    could_change: tuple[str, ...]
    decides: tuple[str, ...]

    @property
    def phrase(self) -> str:
        """Return the item as a sentence names it after "record" (``"Ki-67 index"``, not
        the list's ``"Ki-67 proliferation index (%)"``); the label for an unknown key."""
        try:
            return data_item(self.key).in_sentence
        except KeyError:
            return self.label


def decisive_items(result: Mapping[str, Any], group: str = "toRecord") -> tuple[DecisiveItem, ...]:
    """Return one group of ``decisiveData`` (``toRecord``, ``mdtDecisions``,
    ``wouldNotChange``) in its order; empty when the result has none."""
    data = result.get("decisiveData") or {}
    return tuple(
        DecisiveItem(
            str(item["key"]),
            str(item["label"]),
            tuple(item.get("couldChange", ())),
            tuple(item.get("decides", ())),
        )
        for item in data.get(group, ())
    )


def to_record_text(result: Mapping[str, Any]) -> str | None:
    """Return the ranked "to record" list as one sentence (for notes), or ``None``."""
    items = decisive_items(result)
    if not items:
        return None
    parts = []
    for number, item in enumerate(items, start=1):
        part = f"{number}. {item.label}: could change {_names(item.could_change)}"
        if item.decides:
            part += f", alone decides {_names(item.decides)}"
        parts.append(part)
    return "What would change the verdict, most decisive first: " + "; ".join(parts) + "."


def _names(set_ids: Sequence[str]) -> str:
    return join_names([SET_NAMES.get(s, s) for s in set_ids])


@dataclass(frozen=True)
class PathwayVerdict:
    """One pathway's verdict, the finding or next step behind it, and one sentence."""

    pathway: str
    name: str
    status: str
    status_text: str
    set_ids: tuple[str, ...]
    eligible_sets: tuple[str, ...]
    finding: str | None
    """For a closed pathway: the deciding finding (``Ki-67 28 % exceeds 20 % (G3)``)."""
    next_step: DecisiveItem | None
    """For an undecided pathway: the most decisive item to record (or MDT decision)."""
    sentence: str


def _pathway_status(statuses: Sequence[str]) -> str:
    if "eligible" in statuses:
        return "eligible"
    return "indeterminate" if "indeterminate" in statuses else "ineligible"


def _evidence_key(criterion: Mapping[str, Any]) -> str:
    references = [str(e.get("reference")) for e in criterion.get("evidence", [])]
    return "|".join(references) if references else str(criterion.get("reason"))


def _deciding_finding(sets: Sequence[Mapping[str, Any]]) -> str | None:
    """Return the not-met reason whose evidence closes most sets (first seen on a tie)."""
    counts: Counter[str] = Counter()
    texts: dict[str, str] = {}
    for assessment in sets:
        seen: set[str] = set()
        for criterion in assessment["criteria"]:
            if criterion["status"] != "not_met":
                continue
            key = _evidence_key(criterion)
            if key not in seen:
                seen.add(key)
                counts[key] += 1
                texts.setdefault(key, short_reason(str(criterion["reason"])))
    if not counts:
        return None
    best = max(counts, key=lambda key: counts[key])
    return texts[best]


def _next_step(result: Mapping[str, Any], open_sets: set[str]) -> DecisiveItem | None:
    for group in ("toRecord", "mdtDecisions"):
        for item in decisive_items(result, group):
            if group == "mdtDecisions" or open_sets & set(item.could_change):
                return item
    return None


def _sentence(
    verdict_name: str,
    status: str,
    eligible: Sequence[str],
    finding: str | None,
    step: DecisiveItem | None,
    step_is_decision: bool,
) -> str:
    words = STATUS_WORDS[status]
    if status == "eligible":
        if eligible == ("resection",):
            return f"{verdict_name}: eligible."
        return f"{verdict_name}: eligible under {join_names([SET_NAMES[s] for s in eligible])}."
    if status == "ineligible":
        return (
            f"{verdict_name}: not eligible — {finding}."
            if finding
            else (f"{verdict_name}: not eligible.")
        )
    if step is None:
        return f"{verdict_name}: {words} — some criteria cannot be decided from the record."
    if step_is_decision:
        return f"{verdict_name}: {words} — needs the {step.label}."
    return f"{verdict_name}: {words} — record: {step.phrase}."


def pathway_verdicts(result: Mapping[str, Any]) -> tuple[PathwayVerdict, ...]:
    """Return each pathway's verdict in result order (transplant, then resection)."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for assessment in result["assessments"]:
        grouped.setdefault(str(assessment["pathway"]), []).append(assessment)
    mdt_keys = {item.key for item in decisive_items(result, "mdtDecisions")}
    verdicts = []
    for pathway, sets in grouped.items():
        status = _pathway_status([str(s["status"]) for s in sets])
        eligible = tuple(str(s["criteriaSet"]) for s in sets if s["status"] == "eligible")
        open_sets = {str(s["criteriaSet"]) for s in sets if s["status"] == "indeterminate"}
        finding = _deciding_finding(sets) if status == "ineligible" else None
        step = _next_step(result, open_sets) if status == "indeterminate" else None
        name = PATHWAY_NAMES.get(pathway, pathway)
        verdicts.append(
            PathwayVerdict(
                pathway=pathway,
                name=name,
                status=status,
                status_text=STATUS_WORDS[status],
                set_ids=tuple(str(s["criteriaSet"]) for s in sets),
                eligible_sets=eligible,
                finding=finding,
                next_step=step,
                sentence=_sentence(
                    name, status, eligible, finding, step, step is not None and step.key in mdt_keys
                ),
            )
        )
    return tuple(verdicts)
