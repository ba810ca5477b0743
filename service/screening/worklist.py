"""The tumour-board worklist: one row per patient with a liver-metastasis Condition.

Columns: rank, patient reference, record number, name, birth date, whether the liver
metastasis is a present NET one (the card rule), the four verdicts, the decisive missing
data and the number of warnings. Rows are sorted so the patients most likely to be
candidates come first: a present NET liver metastasis first; then the best pathway
(a pathway is eligible when any of its sets is, undecided when none is eligible and one
is indeterminate); then more eligible sets; then more undecided sets; then fewer missing
items; then the patient reference, so the order is stable.

**Decisive missing data** is the clinician page's "what would change the verdict" list,
read from the result's ``decisiveData.toRecord`` (:func:`decisive_missing`): the items that
could move an undecided set, most decisive first, an item that alone decides a set marked
``(decides <sets>)``. The worklist does not rank missing data itself. A set can also be
undecided on a judgement only the MDT makes (``decisiveData.mdtDecisions``, e.g. resecting
G3 disease): the cell then ends with ``MDT to decide: <judgement>``, so no undecided row
has an empty cell.

A patient deceased on or before the evaluation date is not a candidate: such rows sort
after the living patients with a NET liver metastasis.

Cells are written for spreadsheets: a value starting with ``=``, ``+``, ``-``, ``@``
(or a tab or carriage return) is prefixed with ``'`` so it is never run as a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "COLUMNS",
    "SET_IDS",
    "decisive_missing",
    "identity_of",
    "mdt_decisions",
    "missing_text",
    "rank_key",
    "write_worklist",
]

SET_IDS = ("milan-net", "enets", "unos", "resection")
PATHWAYS = {"transplant": ("milan-net", "enets", "unos"), "resection": ("resection",)}
DECISIVE_FIELD = "decisiveData"
"""The optional result member (what would change the verdict) that ranks missing data."""
COLUMNS = (
    "rank",
    "patient",
    "mrn",
    "name",
    "birth_date",
    "net_liver_metastasis",
    *SET_IDS,
    "decisive_missing_data",
    "warnings",
)
_STATUS_SCORE = {"eligible": 2, "indeterminate": 1, "ineligible": 0}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def identity_of(patient: Mapping[str, Any]) -> dict[str, str]:
    """Return name, record number (an ``MR`` identifier) and birth date of a Patient,
    read defensively (any missing part is an empty string)."""
    name = ""
    names = patient.get("name")
    if isinstance(names, list) and names and isinstance(names[0], dict):
        first = names[0]
        given = first.get("given")
        parts = [g for g in given if isinstance(g, str)] if isinstance(given, list) else []
        family = first.get("family")
        if isinstance(family, str):
            parts.append(family)
        name = " ".join(parts) or str(first.get("text") or "")
    mrn = ""
    identifiers = patient.get("identifier")
    for identifier in identifiers if isinstance(identifiers, list) else []:
        if not isinstance(identifier, dict):
            continue
        codings = (identifier.get("type") or {}).get("coding") or []
        if any(isinstance(c, dict) and c.get("code") == "MR" for c in codings):
            mrn = str(identifier.get("value") or "")
            break
    birth = patient.get("birthDate")
    return {"name": name, "mrn": mrn, "birthDate": birth if isinstance(birth, str) else ""}


def decisive_missing(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the result's ``decisiveData.toRecord``, in its order (the clinician page's
    ranking), as ``{"key", "item" (the label), "sets" (could change), "decides"}``; an
    empty list when the result carries no such member."""
    data = result.get(DECISIVE_FIELD)
    ranked = data.get("toRecord") if isinstance(data, dict) else None
    items: list[dict[str, Any]] = []
    for entry in ranked if isinstance(ranked, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("label"), str):
            items.append(
                {
                    "key": str(entry.get("key", "")),
                    "item": entry["label"],
                    "sets": [s for s in entry.get("couldChange", []) if isinstance(s, str)],
                    "decides": [s for s in entry.get("decides", []) if isinstance(s, str)],
                }
            )
    return items


def mdt_decisions(result: Mapping[str, Any]) -> list[str]:
    """Return the labels of the result's ``decisiveData.mdtDecisions`` (judgements only
    the MDT makes, which leave a set undecided until it does); empty without them."""
    data = result.get(DECISIVE_FIELD)
    entries = data.get("mdtDecisions") if isinstance(data, dict) else None
    return [
        entry["label"]
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict) and isinstance(entry.get("label"), str)
    ]


def missing_text(
    items: Iterable[Mapping[str, Any]],
    mdt: Iterable[str] = (),
    set_names: Mapping[str, str] | None = None,
) -> str:
    """Return the decisive missing items as one cell: ``label (decides enets, unos)``,
    then each MDT judgement as ``MDT to decide: <label>``. ``set_names`` (e.g. ENETS for
    ``enets``) names the sets for people; the CSV keeps the set ids."""
    names = set_names or {}
    parts = []
    for item in items:
        decides = [names.get(s, s) for s in item.get("decides") or []]
        parts.append(f"{item['item']} (decides {', '.join(decides)})" if decides else item["item"])
    parts.extend(f"MDT to decide: {label}" for label in mdt)
    return "; ".join(parts)


def _pathway_score(statuses: Mapping[str, str], pathway: str) -> int:
    return max(_STATUS_SCORE.get(statuses.get(s, ""), 0) for s in PATHWAYS[pathway])


def rank_key(summary: Mapping[str, Any]) -> tuple[Any, ...]:
    """Return the sort key of a summary row (smaller sorts first)."""
    statuses = summary.get("statuses") or {}
    best = max(_pathway_score(statuses, p) for p in PATHWAYS) if statuses else -1
    eligible = sum(1 for s in statuses.values() if s == "eligible")
    undecided = sum(1 for s in statuses.values() if s == "indeterminate")
    return (
        not summary.get("net", False),
        bool(summary.get("deceased", False)),
        -best,
        -eligible,
        -undecided,
        len(summary.get("missing") or ()),
        str(summary.get("patient", "")),
    )


def _cell(value: Any) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_worklist(path: Path, summaries: Iterable[Mapping[str, Any]]) -> int:
    """Write the ranked worklist CSV (UTF-8); return the number of rows."""
    return write_ranked_worklist(
        path, sorted((s for s in summaries if "statuses" in s), key=rank_key)
    )


def write_ranked_worklist(path: Path, ranked: Iterable[Mapping[str, Any]]) -> int:
    """Write the worklist CSV of evaluated summaries already in :func:`rank_key` order,
    one at a time (a large run's summaries need not all be in memory)."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for rank, summary in enumerate(ranked, start=1):
            count = rank
            statuses = summary["statuses"]
            missing = missing_text(summary.get("missing") or (), summary.get("mdt") or ())
            writer.writerow(
                _cell(v)
                for v in (
                    rank,
                    summary["patient"],
                    summary.get("mrn", ""),
                    summary.get("name", ""),
                    summary.get("birthDate", ""),
                    "yes" if summary.get("net") else "no",
                    *(statuses.get(s, "") for s in SET_IDS),
                    missing,
                    summary.get("warnings", 0),
                )
            )
    return count
