"""OperationOutcomes found in the data become warnings (criteria.md §7, v1.1).

A searchset entry with ``search.mode`` ``outcome``, or any Bundle entry that is an
OperationOutcome (a posted Bundle, a CDS prefetch Bundle, a FHIR server's search page,
a transaction response's ``outcome``), says the data may be incomplete: each issue of
severity ``warning``, ``error`` or ``fatal`` becomes one warning, "the FHIR server
reported: …". ``information`` issues are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.criteria.inputs import Warning

__all__ = ["REPORTED", "issue_texts", "is_outcome_entry", "outcome_warnings", "reported"]

REPORTED = "the FHIR server reported: "
_SEVERITIES = frozenset({"warning", "error", "fatal"})
_MAX_TEXT = 200


def _text(issue: Mapping[str, Any]) -> str:
    """Return what an issue says: its diagnostics, else its details' text, else its code."""
    details = issue.get("details")
    detail_text = details.get("text") if isinstance(details, dict) else None
    for candidate in (issue.get("diagnostics"), detail_text, issue.get("code")):
        if isinstance(candidate, str) and candidate.strip():
            return " ".join(candidate.split())[:_MAX_TEXT]
    return "an issue without text"


def issue_texts(outcome: Any) -> list[str]:
    """Return the text of each warning, error or fatal issue of an OperationOutcome."""
    issues = outcome.get("issue") if isinstance(outcome, dict) else None
    texts: list[str] = []
    for issue in issues if isinstance(issues, list) else []:
        if isinstance(issue, dict) and issue.get("severity") in _SEVERITIES:
            texts.append(f"{_text(issue)} ({issue['severity']})")
    return texts


def reported(text: str, where: str | None = None) -> str:
    """Return the warning message for one issue (``where``: e.g. "Observation search")."""
    return f"{REPORTED}{text}" + (f" [{where}]" if where else "")


def outcome_warnings(
    outcome: Any, reference: str | None, where: str | None = None
) -> list[Warning]:
    """Return one warning per warning/error/fatal issue of ``outcome``."""
    return [Warning(reference, reported(text, where)) for text in issue_texts(outcome)]


def is_outcome_entry(entry: Any) -> bool:
    """Say whether a Bundle entry carries an OperationOutcome rather than data."""
    if not isinstance(entry, dict):
        return False
    search = entry.get("search")
    if isinstance(search, dict) and search.get("mode") == "outcome":
        return True
    resource = entry.get("resource")
    return isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome"
