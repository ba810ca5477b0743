"""Which earlier assessment a new RiskAssessment supersedes, and how that is written.

Pure. FHIR R4 gives a RiskAssessment no element that means "replaces": ``parent`` is
the Event pattern's ``partOf`` ("a resource that this risk assessment is part of, such
as a Procedure"), ``basis`` is "the source data considered", and the core ``replaces``
extension is defined only for definitional resources (PlanDefinition, ValueSet, ...).
What FHIR does give is the status binding, ``observation-status``, whose ``amended``
means "subsequent to being final, the observation has been modified ... includes
updates/new information", and resource versioning, which keeps every earlier version
(``_history``). So, for the same patient and the service's own assessments only:

- an earlier assessment (an earlier evaluation date, or the same date written before)
  that is still ``final`` or ``preliminary`` is **updated**, never deleted: its status
  becomes ``amended``, a note says "Superseded by the assessment as of <date>
  (RiskAssessment/<id>)", and its narrative says so; the server keeps the version as it
  was in the resource's history;
- the new assessment gets a note "Supersedes the assessment as of <date>
  (RiskAssessment/<id>)" for each one it supersedes;
- a write-back *older* than an existing assessment (a retrospective evaluation)
  supersedes nothing later than itself: it is written with its own status and a note
  naming the later assessment, which stays the current one.

Assessments already ``amended``, ``corrected``, ``cancelled`` or ``entered-in-error`` are
left alone, as are resources the service did not write (no evaluation identifier).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from service.writeback import EVALUATION_IDENTIFIER_SYSTEM, narrative

__all__ = ["CURRENT_STATUSES", "Supersession", "plan_supersession"]

CURRENT_STATUSES = frozenset({"final", "preliminary"})


@dataclass(frozen=True)
class Supersession:
    """The new resource with its notes, and the earlier ones to update (as amended)."""

    resource: dict[str, Any]
    amended: tuple[dict[str, Any], ...]


def _ours(resource: Mapping[str, Any]) -> bool:
    return any(
        isinstance(i, Mapping) and i.get("system") == EVALUATION_IDENTIFIER_SYSTEM
        for i in resource.get("identifier") or ()
    )


def _when(resource: Mapping[str, Any]) -> str:
    return str(resource.get("occurrenceDateTime") or "")[:10]


def _updated(resource: Mapping[str, Any]) -> str:
    meta = resource.get("meta")
    return str(meta.get("lastUpdated") or "") if isinstance(meta, Mapping) else ""


def _label(resource: Mapping[str, Any]) -> str:
    when = _when(resource) or "an unknown date"
    return f"the assessment as of {when} (RiskAssessment/{resource['id']})"


def _with_note(resource: Mapping[str, Any], text: str) -> dict[str, Any]:
    updated = copy.deepcopy(dict(resource))
    notes = list(updated.get("note") or [])
    if not any(isinstance(n, Mapping) and n.get("text") == text for n in notes):
        # Right after the MDT statement, so it is read first.
        notes.insert(min(1, len(notes)), {"text": text})
    updated["note"] = notes
    return updated


def plan_supersession(
    new: Mapping[str, Any], existing: Iterable[Mapping[str, Any]]
) -> Supersession:
    """Return ``new`` with its supersession notes and the earlier assessments to amend.

    ``existing`` are the patient's RiskAssessments as stored (any writer); ``new`` has
    its ``id`` and ``occurrenceDateTime`` and is not among them.
    """
    candidates = [
        r
        for r in existing
        if _ours(r)
        and r.get("id") != new.get("id")
        and r.get("status") in CURRENT_STATUSES
        and r.get("subject") == new.get("subject")
    ]
    day = _when(new)
    earlier = sorted(
        (r for r in candidates if _when(r) <= day), key=lambda r: (_when(r), _updated(r))
    )
    later = sorted((r for r in candidates if _when(r) > day), key=lambda r: (_when(r), _updated(r)))
    resource = dict(new)
    for old in earlier:
        resource = _with_note(resource, f"Supersedes {_label(old)}.")
    if later:
        resource = _with_note(
            resource,
            f"A later assessment remains the current one: {_label(later[-1])}.",
        )
    resource["text"] = narrative(resource)
    amended = []
    for old in earlier:
        marked = _with_note(old, f"Superseded by {_label(resource)}; kept for the record.")
        marked["status"] = "amended"
        marked.pop("meta", None)
        if marked.get("prediction"):
            marked["text"] = narrative(marked)
        amended.append(marked)
    return Supersession(resource, tuple(amended))
