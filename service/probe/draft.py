"""Write the draft site-codes file: the probe's candidates, every one marked for review.

The file has the site-codes format (:mod:`service.mappers.site_codes`), so once
reviewed it is used as it is (``NELM_CDS_SITE_CODES`` or ``--site-codes``). JSON has no
comments, so the review lives in the data:

- every candidate carries ``"review": "pending"``; the loader refuses the file while any
  entry is not ``"accepted"``, naming the entry. Reviewing means: check that the local
  code means what its section and name say (and, for a primary site, the ``site`` and
  ``drainage``), then set ``"review": "accepted"``, or delete the entry;
- ``display``, ``seen`` and ``why`` are notes for the reviewer, ignored by the loader;
- top-level keys starting with ``_`` are notes too: ``_about`` says what the file is,
  ``_unassigned`` lists local codes the probe could not place (move one into a section
  by hand if it belongs there).

Codes already mapped by a site-codes file given to the probe are not candidates again;
that file's entries are not copied: the draft adds to it, it does not replace it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.probe.inventory import LocalCode

__all__ = ["REVIEW_PENDING", "draft_site_codes"]

REVIEW_PENDING = "pending"
ABOUT = (
    "Draft site codes written by the NELM-CDS onboarding probe{source}. Nothing here is "
    "used until reviewed: for each entry, check that the local code means what its "
    "section and name say (for primary_sites also 'site' and 'drainage'), then set "
    '"review": "accepted", or delete the entry. The service refuses this file while '
    "any entry is still \"pending\". 'display', 'seen', 'why' and keys starting with '_' "
    "are notes for the reviewer. '_unassigned' lists local codes the probe could not "
    "place: move one into a section by hand if it belongs there. Merge the accepted "
    "entries into the site's existing site-codes file if it has one."
)


def _seen(code: LocalCode) -> str:
    patients = len(code.patients)
    text = (
        f"{code.resources} {code.resource_type}{'s' if code.resources != 1 else ''}, "
        f"{patients} patient{'s' if patients != 1 else ''}"
    )
    if code.units:
        text += f"; units {', '.join(sorted(code.units))}"
    return text


def _entry(code: LocalCode) -> dict[str, Any]:
    entry: dict[str, Any] = {"system": code.system, "code": code.code}
    suggestion = code.suggestion
    if suggestion is not None and suggestion.section == "primary_sites":
        entry["site"] = suggestion.site
        entry["drainage"] = suggestion.drainage
    entry["review"] = REVIEW_PENDING
    entry["display"] = code.display or "(no display text)"
    entry["seen"] = _seen(code)
    if suggestion is not None:
        entry["why"] = suggestion.why
    return entry


def draft_site_codes(
    codes: Sequence[LocalCode], *, source: str = "", unassigned_limit: int = 200
) -> dict[str, Any]:
    """Return the draft site-codes document for ``codes`` (see the module notes).

    ``source`` names where the data came from (the FHIR base URL and sample size).
    """
    document: dict[str, Any] = {"_about": ABOUT.format(source=f" from {source}" if source else "")}
    sections: dict[str, dict[str, list[dict[str, Any]]]] = {
        "observations": {},
        "conditions": {},
        "procedures": {},
    }
    primary_sites: list[dict[str, Any]] = []
    unassigned: list[dict[str, Any]] = []
    for code in codes:
        suggestion = code.suggestion
        if suggestion is None:
            if len(unassigned) < unassigned_limit:
                entry = {k: v for k, v in _entry(code).items() if k != "review"}
                unassigned.append({"resourceType": code.resource_type, **entry})
            continue
        if suggestion.section == "primary_sites":
            primary_sites.append(_entry(code))
        else:
            sections[suggestion.section].setdefault(suggestion.name, []).append(_entry(code))
    for name, section in sections.items():
        if section:
            document[name] = section
    if primary_sites:
        document["primary_sites"] = primary_sites
    document["_unassigned"] = unassigned
    return document
