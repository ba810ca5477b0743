"""One matrix of the result: each criterion once (a row), each criteria set a column.

The sets share criteria (age, extrahepatic disease, stable disease), so a column per set
would repeat them; a row per criterion shows at a glance which sets a finding closes.
Rows are grouped by what they are about (patient, tumour, primary, spread, liver), in a
fixed clinical order; a cell is the criterion's status in that set, or empty when the
set does not have the criterion. A row's details (reason, evidence, what to record,
source) are given once for the sets whose results are the same, and per set otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.criteria import DEFAULT_SETS, CriteriaSet
from service.criteria.data_items import item_for_need
from service.criteria.sources import cite
from service.pages.evidence import EvidenceReader, EvidenceView
from service.verdicts import SET_NAMES, clinical_text

__all__ = ["CRITERION_STATUS_TEXT", "Cell", "Detail", "Matrix", "Row", "RowGroup", "matrix"]

CRITERION_STATUS_TEXT: Mapping[str, str] = {
    "met": "Met",
    "not_met": "Not met",
    "unknown": "Unknown",
}
STATUS_MARK: Mapping[str, str] = {"met": "✓", "not_met": "✗", "unknown": "?"}
SHORT_SET_NAMES: Mapping[str, str] = {
    "milan-net": "Milan-NET",
    "enets": "ENETS",
    "unos": "UNOS",
    "resection": "Resection",
}
NARROW_SET_NAMES: Mapping[str, str] = {"milan-net": "Milan", "resection": "Resect."}
"""Column headings in a 420 px side panel, where "Milan-NET" and "Resection" do not fit
(each heading stays on one line; the full name is still read out)."""
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Patient", ("age_under_55", "fit_for_surgery")),
    (
        "Tumour biology",
        ("low_grade", "ki67_at_most_10", "well_differentiated", "stable_disease_6_months"),
    ),
    (
        "Primary tumour",
        (
            "portal_drained_primary",
            "primary_resected",
            "primary_resected_6_months",
            "primary_and_extrahepatic_resected",
            "primary_resected_or_resectable",
        ),
    ),
    (
        "Spread and liver involvement",
        (
            "no_extrahepatic_disease",
            "liver_limited_disease",
            "liver_involvement_under_50",
            "liver_involvement",
            "bilobar_unresectable",
            "all_disease_resectable",
        ),
    ),
    (
        "Liver function and reserve",
        (
            "low_bilirubin",
            "adequate_liver_function",
            "no_portal_hypertension",
            "adequate_future_liver_remnant",
        ),
    ),
)
_SETS: Mapping[str, CriteriaSet] = {s.id: s for s in DEFAULT_SETS}


@dataclass(frozen=True)
class Cell:
    """A criterion's status in one set (``status`` ``None``: the set lacks it)."""

    set_id: str
    status: str | None
    text: str
    mark: str


@dataclass(frozen=True)
class Detail:
    """Why a criterion has its status, for the sets named (which share this result)."""

    sets: str
    status: str
    reason: str
    evidence: tuple[EvidenceView, ...]
    to_record: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    """One criterion across the sets."""

    id: str
    label: str
    cells: tuple[Cell, ...]
    details: tuple[Detail, ...]
    source: str | None
    worst: str
    """``not_met`` if any set fails it, else ``unknown`` if any is open, else ``met``."""


@dataclass(frozen=True)
class RowGroup:
    """Rows about one subject."""

    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Matrix:
    """The criteria × sets matrix."""

    columns: tuple[tuple[str, str], ...]
    """``(set id, short name)`` in result order."""
    groups: tuple[RowGroup, ...]

    def narrow_name(self, set_id: str) -> str:
        """Return the column heading for a narrow screen (``"Milan"``, ``"Resect."``)."""
        return NARROW_SET_NAMES.get(set_id) or dict(self.columns).get(set_id, set_id)


def _definition(set_id: str, criterion_id: str) -> Any:
    try:
        return _SETS[set_id].criterion(criterion_id)
    except KeyError:
        return None


def _needs(criterion: Mapping[str, Any]) -> tuple[str, ...]:
    labels = []
    for need in criterion.get("needs", []):
        found = item_for_need(str(need))
        labels.append(found.label if found is not None else clinical_text(cite(str(need))))
    return tuple(dict.fromkeys(labels))


def _details(
    found: Sequence[tuple[str, Mapping[str, Any]]], evidence: EvidenceReader
) -> tuple[Detail, ...]:
    grouped: dict[tuple[str, str, str], list[str]] = {}
    first: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for set_id, criterion in found:
        key = (
            str(criterion["status"]),
            str(criterion.get("reason", "")),
            repr(criterion.get("evidence", [])),
        )
        grouped.setdefault(key, []).append(SET_NAMES.get(set_id, set_id))
        first.setdefault(key, criterion)
    details = []
    for key, names in grouped.items():
        criterion = first[key]
        details.append(
            Detail(
                sets=", ".join(n[:1].upper() + n[1:] for n in names),
                status=key[0],
                reason=clinical_text(cite(key[1])),
                evidence=tuple(evidence.view(e) for e in criterion.get("evidence", [])),
                to_record=_needs(criterion),
            )
        )
    return tuple(details)


def _row(
    criterion_id: str,
    by_set: Mapping[str, Mapping[str, Mapping[str, Any]]],
    columns: Sequence[str],
    evidence: EvidenceReader,
) -> Row:
    cells = []
    found: list[tuple[str, Mapping[str, Any]]] = []
    label, source = criterion_id, None
    for set_id in columns:
        criterion = by_set[set_id].get(criterion_id)
        if criterion is None:
            cells.append(Cell(set_id, None, "not in this set", "–"))
            continue
        status = str(criterion["status"])
        cells.append(
            Cell(
                set_id,
                status,
                CRITERION_STATUS_TEXT.get(status, status),
                STATUS_MARK.get(status, ""),
            )
        )
        found.append((set_id, criterion))
        definition = _definition(set_id, criterion_id)
        if definition is not None and source is None:
            label, source = definition.label, cite(definition.source)
    statuses = {status for _, c in found for status in (str(c["status"]),)}
    worst = next((s for s in ("not_met", "unknown") if s in statuses), "met")
    return Row(criterion_id, label, tuple(cells), _details(found, evidence), source, worst)


def matrix(result: Mapping[str, Any], evidence: EvidenceReader) -> Matrix:
    """Return the matrix of a result (interfaces.md §1); evidence read by ``evidence``."""
    assessments = result["assessments"]
    columns = [str(a["criteriaSet"]) for a in assessments]
    by_set = {str(a["criteriaSet"]): {str(c["id"]): c for c in a["criteria"]} for a in assessments}
    seen = [c for a in assessments for c in (str(c["id"]) for c in a["criteria"])]
    placed: set[str] = set()
    groups = []
    for title, ids in GROUPS:
        rows = [_row(i, by_set, columns, evidence) for i in ids if i in seen]
        placed.update(ids)
        if rows:
            groups.append(RowGroup(title, tuple(rows)))
    others = [i for i in dict.fromkeys(seen) if i not in placed]
    if others:
        groups.append(RowGroup("Other", tuple(_row(i, by_set, columns, evidence) for i in others)))
    return Matrix(tuple((s, SHORT_SET_NAMES.get(s, s)) for s in columns), tuple(groups))
