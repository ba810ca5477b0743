"""The CDS Hooks card: built from the JSON evaluation result (interfaces.md §1, §3).

**When there is a card.** Only for a patient with a present NET liver-metastasis
Condition (:func:`has_net_liver_metastasis`); everyone else gets no card, because the
service fires on every chart open and must not add noise.

**Summary** (under 140 characters): each pathway's verdict, then the most important
finding, e.g. ``Liver transplant: eligible (Milan-NET, ENETS) · resection: not eligible
— platelets 85 x10^9/L below 100 x10^9/L``. The finding explains a pathway that is not
open: among the sets of closed pathways, the ``not_met`` criterion whose evidence
closes most pathways, then most sets (a Ki-67 of 28 % closing transplant and resection
beats a progression closing transplant only), shown by its reason without dates;
failing that, the missing data shared the same way by undecided sets (``record: …``).
When every pathway is open there is no finding. A pathway is *eligible* when any of
its sets is, *undecided* when none is eligible and one is indeterminate, else *not
eligible*. A finding too long is cut, on a word where possible, and ends with "…".

**Indicator rule**:

- ``warning`` when any criteria set is ``eligible``: the patient may be a transplant or
  resection candidate, an action for the MDT (discuss, refer);
- ``info`` otherwise (nothing eligible: not eligible, or data to record first);
- ``critical`` never: eligibility is not an emergency, and ``critical`` is for harm
  about to happen in the current workflow.

**Detail** (GitHub-flavoured Markdown): the evaluation date and the MDT statement, one
line per criteria set (status; the deciding criteria: all met, the ``not_met`` ones
with their reasons, or the ``unknown`` ones; for an undecided set, the data to record),
then the result's notes. Text from the record is Markdown-escaped, so a FHIR value
cannot inject links or HTML into the EHR.

**Links**: one link. With SMART launch set up (``smart_launch=True``: a
``SMART_CLIENT_ID`` is configured), a ``type: "smart"`` link to ``/smart/launch``, to
which the EHR adds ``iss`` and ``launch`` (the patient then comes from the token
response, not from the URL); otherwise an absolute link to the clinician page of the
patient's evaluation, which carries a short-lived signed ``token``
(:mod:`service.pages.links`) when the service reads patients from a FHIR server.
**overrideReasons**: a small coded list (system :data:`OVERRIDE_REASON_SYSTEM`) so that
feedback can say why a card was dismissed.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from service.criteria.inputs import CriteriaInputs
from service.criteria.notes import SUPPORT_NOTE
from service.mappers.codes import ASSESSMENT_SYSTEM

__all__ = [
    "CRITERIA_PATH",
    "MAX_SUMMARY",
    "OVERRIDE_REASONS",
    "OVERRIDE_REASON_SYSTEM",
    "SMART_LINK_LABEL",
    "build_card",
    "card_detail",
    "card_indicator",
    "card_summary",
    "clinician_page_url",
    "has_net_liver_metastasis",
]

MAX_SUMMARY = 139
"""The spec asks for fewer than 140 characters."""

NET_LIVER_METASTASIS_CODES = frozenset({"C7B.02"})
"""Liver-metastasis codes that are themselves neuroendocrine (secondary carcinoid of liver)."""

SET_NAMES: Mapping[str, str] = {
    "milan-net": "Milan-NET",
    "enets": "ENETS",
    "unos": "UNOS",
    "resection": "resection",
}
PATHWAY_NAMES: Mapping[str, str] = {"transplant": "Liver transplant", "resection": "resection"}
STATUS_WORDS: Mapping[str, str] = {
    "eligible": "eligible",
    "ineligible": "not eligible",
    "indeterminate": "undecided",
}

OVERRIDE_REASON_SYSTEM = "https://nelm-cds.github.io/fhir/CodeSystem/nelm-override-reason"
OVERRIDE_REASONS: tuple[dict[str, str], ...] = tuple(
    {"system": OVERRIDE_REASON_SYSTEM, "code": code, "display": display}
    for code, display in (
        ("already-discussed", "Already discussed by the MDT"),
        ("record-incomplete", "The record is incomplete or out of date"),
        ("clinical-judgement", "Clinical judgement differs"),
        ("not-relevant-now", "Not relevant for this patient now"),
    )
)

SMART_LINK_LABEL = "Open NELM eligibility (SMART)"
CRITERIA_PATH = "/criteria"
"""The criteria documentation (:mod:`service.pages.criteria`): the card's ``source.url``."""

_DATE_IN_PARENS = re.compile(r"\s*\(\d{4}(?:-\d{2}){0,2}[^()]*\)")
_UNITS = (("10*9/L", "x10^9/L"), ("10*3/uL", "x10^3/uL"))
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&!])")


def has_net_liver_metastasis(inputs: CriteriaInputs) -> bool:
    """Say whether the record holds a present liver metastasis of a neuroendocrine tumour.

    A present liver-metastasis Condition counts when its code is NET-specific (C7B.02),
    or when the record also names a NET primary (any clinical status: a resected primary
    is usually resolved), a neuroendocrine carcinoma, or carcinoid heart disease. A
    liver metastasis alone (C78.7, SNOMED 94381002) is not enough: most are not NET, and
    a card on every such chart would be noise.
    """
    if not inputs.liver_metastases:
        return False
    if any(fact.code in NET_LIVER_METASTASIS_CODES for fact in inputs.liver_metastases):
        return True
    return bool(
        inputs.primary_sites or inputs.neuroendocrine_carcinoma or inputs.carcinoid_heart_disease
    )


def clinician_page_url(public_base_url: str, patient_id: str, token: str | None = None) -> str:
    """Return the absolute URL of the clinician page for ``patient_id``, carrying the
    signed page-link ``token`` when one is given (see :mod:`service.pages.links`)."""
    url = f"{public_base_url.rstrip('/')}/patients/{quote(patient_id, safe='')}/evaluation"
    return url if token is None else f"{url}?{urlencode({'token': token})}"


def _readable(text: str) -> str:
    for ucum, shown in _UNITS:
        text = text.replace(ucum, shown)
    return " ".join(text.split())


def _finding_text(reason: str) -> str:
    return _readable(_DATE_IN_PARENS.sub("", reason))


def _md(text: str) -> str:
    """Escape text from the record for Markdown (no links, emphasis or HTML from data)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _pathways(assessments: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for assessment in assessments:
        grouped.setdefault(str(assessment["pathway"]), []).append(assessment)
    return grouped


def _pathway_status(sets: Iterable[Mapping[str, Any]]) -> str:
    statuses = [s["status"] for s in sets]
    if "eligible" in statuses:
        return "eligible"
    return "indeterminate" if "indeterminate" in statuses else "ineligible"


def _pathway_phrase(pathway: str, sets: Sequence[Mapping[str, Any]]) -> str:
    status = _pathway_status(sets)
    phrase = f"{PATHWAY_NAMES.get(pathway, pathway)}: {STATUS_WORDS[status]}"
    eligible = [
        SET_NAMES.get(s["criteriaSet"], s["criteriaSet"]) for s in sets if s["status"] == "eligible"
    ]
    if status == "eligible" and len(sets) > 1:
        phrase += f" ({', '.join(eligible)})"
    return phrase


def _most_shared(items: Iterable[tuple[str, str, str]]) -> str | None:
    """Return the text of the ``(pathway, key, text)`` items whose key spans most
    pathways, then most sets; the first text seen for a key, and the first key seen on a
    tie, win."""
    pathways: dict[str, set[str]] = {}
    counts: Counter[str] = Counter()
    texts: dict[str, str] = {}
    for pathway, key, text in items:
        pathways.setdefault(key, set()).add(pathway)
        counts[key] += 1
        texts.setdefault(key, text)
    if not counts:
        return None
    return texts[max(pathways, key=lambda key: (len(pathways[key]), counts[key]))]


def _evidence_key(criterion: Mapping[str, Any]) -> str:
    """Name what decided a criterion: its evidence (the same Ki-67 result decides
    several criteria), else its reason."""
    references = [str(e.get("reference")) for e in criterion.get("evidence", [])]
    return "|".join(references) if references else str(criterion["reason"])


def _finding(closed_sets: Sequence[Mapping[str, Any]]) -> str | None:
    """Return the most important finding among the sets of pathways that are not open."""
    reasons = [
        (str(s["pathway"]), _evidence_key(c), _finding_text(str(c["reason"])))
        for s in closed_sets
        for c in s["criteria"]
        if c["status"] == "not_met"
    ]
    reason = _most_shared(reasons)
    if reason is not None:
        return reason
    needs = [
        (str(s["pathway"]), text, text)
        for s in closed_sets
        if s["status"] == "indeterminate"
        for c in s["criteria"]
        if c["status"] == "unknown"
        for text in dict.fromkeys(_readable(str(need)) for need in c["needs"])
    ]
    need = _most_shared(needs)
    return None if need is None else f"record: {need}"


def _fit(head: str, finding: str | None) -> str:
    if finding is None:
        return head[:MAX_SUMMARY]
    text = f"{head} — {finding}"
    if len(text) <= MAX_SUMMARY:
        return text
    cut = text[: MAX_SUMMARY - 1]
    word_end = max(cut.rfind(" ", len(head) + 3), cut.rfind("/", len(head) + 3))
    if word_end > len(cut) - 24:  # end on a whole word unless that loses too much
        cut = cut[:word_end]
    return cut.rstrip(" ,;:(") + "…"


def card_summary(result: Mapping[str, Any]) -> str:
    """Return the one-line summary: each pathway's verdict and the most important finding."""
    pathways = _pathways(result["assessments"])
    head = " · ".join(_pathway_phrase(name, sets) for name, sets in pathways.items())
    closed = [s for sets in pathways.values() if _pathway_status(sets) != "eligible" for s in sets]
    return _fit(head, _finding(closed))


def card_indicator(result: Mapping[str, Any]) -> str:
    """Return ``warning`` when any criteria set is eligible, else ``info`` (never critical)."""
    eligible = any(a["status"] == "eligible" for a in result["assessments"])
    return "warning" if eligible else "info"


def _set_line(assessment: Mapping[str, Any]) -> str:
    criteria = assessment["criteria"]
    status = str(assessment["status"])
    line = (
        f"- **{_md(str(assessment['title']))}** (v{_md(str(assessment['version']))}): "
        f"**{STATUS_WORDS.get(status, status)}**"
    )
    if status == "eligible":
        return f"{line}: all {len(criteria)} criteria met."
    if status == "ineligible":
        failed = [c for c in criteria if c["status"] == "not_met"]
        deciding = "; ".join(f"`{c['id']}` {_md(_readable(str(c['reason'])))}" for c in failed)
        return f"{line}: {deciding}."
    unknown = [c for c in criteria if c["status"] == "unknown"]
    needs = dict.fromkeys(_md(_readable(str(n))) for c in unknown for n in c["needs"])
    ids = ", ".join(f"`{c['id']}`" for c in unknown)
    return f"{line}: {ids} unknown. To record: {'; '.join(needs)}."


def card_detail(result: Mapping[str, Any]) -> str:
    """Return the Markdown detail: one line per criteria set, then the notes."""
    lines = [
        f"Evaluated as of {_md(str(result['evaluationDate']))}. "
        "Decision support for the multidisciplinary team (MDT): it supports, and does not "
        "replace, the MDT.",
        "",
        *(_set_line(a) for a in result["assessments"]),
    ]
    notes = [n for n in result.get("notes", []) if n != SUPPORT_NOTE]
    if notes:
        lines += ["", "Notes:", "", *(f"- {_md(str(n))}" for n in notes)]
    warnings = result.get("warnings", [])
    if warnings:
        lines += [
            "",
            f"{len(warnings)} data warning(s): some resources could not be used; "
            "see the full evaluation.",
        ]
    return "\n".join(lines)


def build_card(
    result: Mapping[str, Any],
    *,
    public_base_url: str,
    patient_id: str,
    card_uuid: str | None = None,
    smart_launch: bool = False,
    page_token: str | None = None,
) -> dict[str, Any]:
    """Return the card for an evaluation result (``card_uuid`` defaults to a new UUID4).

    ``smart_launch`` makes the link a SMART app launch link (``type: "smart"``);
    otherwise ``page_token``, when given, rides on the clinician-page link.
    """
    base = public_base_url.rstrip("/")
    link = (
        {"label": SMART_LINK_LABEL, "url": f"{base}/smart/launch", "type": "smart"}
        if smart_launch
        else {
            "label": "Open the full NELM eligibility evaluation",
            "url": clinician_page_url(base, patient_id, page_token),
            "type": "absolute",
        }
    )
    return {
        "uuid": card_uuid or str(uuid.uuid4()),
        "summary": card_summary(result),
        "indicator": card_indicator(result),
        "detail": card_detail(result),
        "source": {
            "label": "NELM-CDS eligibility criteria (Milan-NET, ENETS, UNOS, resection)",
            "url": f"{base}{CRITERIA_PATH}",
            "topic": {
                "system": ASSESSMENT_SYSTEM,
                "code": "nelm-eligibility",
                "display": "NELM eligibility evaluation",
            },
        },
        "links": [link],
        "overrideReasons": [dict(reason) for reason in OVERRIDE_REASONS],
    }
