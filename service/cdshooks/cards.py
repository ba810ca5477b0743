"""The CDS Hooks card: built from the JSON evaluation result (interfaces.md §1, §3).

**When there is a card.** Only for a patient with a present NET liver-metastasis
Condition (:func:`has_net_liver_metastasis`); everyone else gets no card, because the
service fires on every chart open and must not add noise.

**Summary** (under 140 characters, in clinical words, never a criterion id or a file
number): each pathway's verdict, and for a pathway that is not open the finding that
decides it or the first thing to record (:mod:`service.verdicts`), e.g. ``Transplant:
eligible (Milan-NET, ENETS, UNOS) · Resection: not eligible, platelets 85 ×10⁹/L below
100 ×10⁹/L``. Phrases are dropped whole, never cut: the findings go first (the second
pathway's, then the first's), then the list of eligible sets; a finding that does not
fit even alone is left out.

**Indicator rule**:

- ``warning`` when any criteria set is ``eligible``: the patient may be a transplant or
  resection candidate, an action for the MDT (discuss, refer);
- ``info`` otherwise (nothing eligible: not eligible, or data to record first);
- ``critical`` never: eligibility is not an emergency, and ``critical`` is for harm
  about to happen in the current workflow.

**Detail** (GitHub-flavoured Markdown): one sentence per pathway; the data to record
once, ranked by how many set verdicts each item could change (``decisiveData``), each
marked with the sets it alone decides; the MDT decisions still open; one line per
criteria set with its status and, when not eligible, the criteria not met (by label);
when undecided, the unknown criteria by label if there are at most two, else only how
many (the ranked list already says what to record, and the card stays short);
the notes (without file numbers) and the MDT statement. Text from the record is
Markdown-escaped, so a FHIR value cannot inject links or HTML into the EHR.

**Suggestions** (:mod:`service.cdshooks.suggestions`): draft orders for a missing or
stale bilirubin or platelet count and referrals for an open pathway, with
``selectionBehavior: any``.

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
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from service.cdshooks.suggestions import Suggestion
from service.code_names import name_codes
from service.criteria import DEFAULT_SETS, CriteriaSet
from service.criteria.inputs import CriteriaInputs
from service.criteria.notes import SUPPORT_NOTE
from service.mappers.codes import ASSESSMENT_SYSTEM
from service.verdicts import (
    SET_NAMES,
    STATUS_WORDS,
    PathwayVerdict,
    clinical_text,
    decisive_items,
    join_names,
    pathway_verdicts,
    short_reason,
)

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
MAX_NAMED_UNKNOWN = 2
"""An undecided set's line names its unknown criteria only up to this many."""
"""The spec asks for fewer than 140 characters."""

NET_LIVER_METASTASIS_CODES = frozenset({"C7B.02"})
"""Liver-metastasis codes that are themselves neuroendocrine (secondary carcinoid of liver)."""

SHORT_PATHWAYS: Mapping[str, str] = {"transplant": "Transplant", "resection": "Resection"}
_SETS: Mapping[str, CriteriaSet] = {s.id: s for s in DEFAULT_SETS}

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


def _md(text: str) -> str:
    """Escape text from the record for Markdown (no links, emphasis or HTML from data)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _head(verdict: PathwayVerdict, with_sets: bool) -> str:
    phrase = f"{SHORT_PATHWAYS.get(verdict.pathway, verdict.name)}: {verdict.status_text}"
    if with_sets and verdict.status == "eligible" and len(verdict.set_ids) > 1:
        phrase += f" ({', '.join(SET_NAMES[s] for s in verdict.eligible_sets)})"
    return phrase


def _tail(verdict: PathwayVerdict) -> str | None:
    if verdict.finding:
        return verdict.finding
    if verdict.next_step is not None:
        return (
            f"record {verdict.next_step.phrase}"
            if verdict.status == "indeterminate" and (not verdict.next_step.key.startswith("mdt-"))
            else verdict.next_step.label
        )
    return None


def card_summary(result: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """Return the one-line summary: each pathway's verdict and what decides it, under 140
    characters, dropping whole phrases (never cutting one) until it fits. ``names``
    (:func:`~service.code_names.code_names`) names codes as the record does."""
    verdicts = pathway_verdicts(result)
    tails = [_tail(v) for v in verdicts]
    tails = [None if t is None else name_codes(t, names or {}) for t in tails]
    # most informative first; drop the later pathway's finding first, then the set names
    attempts = []
    for keep_tails in (
        [True] * len(verdicts),
        *([i < k for i in range(len(verdicts))] for k in range(len(verdicts) - 1, -1, -1)),
    ):
        for with_sets in (True, False):
            attempts.append((keep_tails, with_sets))
    for keep_tails, with_sets in attempts:
        phrases = []
        for verdict, tail, keep in zip(verdicts, tails, keep_tails, strict=True):
            head = _head(verdict, with_sets)
            phrases.append(f"{head}, {tail}" if keep and tail else head)
        text = " · ".join(phrases)
        if len(text) <= MAX_SUMMARY:
            return text
    return " · ".join(_head(v, False) for v in verdicts)[:MAX_SUMMARY]


def card_indicator(result: Mapping[str, Any]) -> str:
    """Return ``warning`` when any criteria set is eligible, else ``info`` (never critical)."""
    eligible = any(a["status"] == "eligible" for a in result["assessments"])
    return "warning" if eligible else "info"


def _set_names(set_ids: Sequence[str]) -> str:
    return join_names([SET_NAMES.get(s, s) for s in set_ids])


def _to_record_lines(result: Mapping[str, Any]) -> list[str]:
    items = decisive_items(result)
    if not items:
        return []
    lines = ["", "**To record** (most decisive first):", ""]
    for number, item in enumerate(items, start=1):
        line = f"{number}. {_md(item.label)}: could change {_set_names(item.could_change)}"
        if item.decides:
            line += f"; alone decides {_set_names(item.decides)}"
        lines.append(line + ".")
    return lines


def _criterion_labels(assessment: Mapping[str, Any], status: str) -> list[str]:
    labels = []
    for criterion in assessment["criteria"]:
        if criterion["status"] == status:
            try:
                definition = _SETS[assessment["criteriaSet"]].criterion(criterion["id"])
                labels.append(definition.label)
            except KeyError:
                labels.append(short_reason(str(criterion["reason"])))
    return labels


def _set_line(assessment: Mapping[str, Any]) -> str:
    status = str(assessment["status"])
    name = SET_NAMES.get(str(assessment["criteriaSet"]), str(assessment["criteriaSet"]))
    name = name[:1].upper() + name[1:]
    line = f"- {_md(name)} v{_md(str(assessment['version']))}: {STATUS_WORDS.get(status, status)}"
    if status == "ineligible":
        return f"{line}; not met: {_md('; '.join(_criterion_labels(assessment, 'not_met')))}."
    if status == "indeterminate":
        unknown = _criterion_labels(assessment, "unknown")
        if len(unknown) > MAX_NAMED_UNKNOWN:  # the ranked list above says what to record
            return f"{line}; {len(unknown)} of {len(assessment['criteria'])} criteria unknown."
        return f"{line}; unknown: {_md('; '.join(unknown))}."
    return f"{line}; all {len(assessment['criteria'])} criteria met."


def card_detail(result: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """Return the Markdown detail (see the module text); ``names`` as for the summary."""
    lines = [f"**{_md(name_codes(v.sentence, names or {}))}**" for v in pathway_verdicts(result)]
    lines = [f"{line}  " for line in lines[:-1]] + lines[-1:]  # Markdown line breaks
    lines += _to_record_lines(result)
    decisions = decisive_items(result, "mdtDecisions")
    if decisions:
        lines += ["", "**For the MDT to decide:** " + _md("; ".join(d.label for d in decisions))]
    lines += ["", "Criteria sets:", "", *(_set_line(a) for a in result["assessments"])]
    notes = [clinical_text(str(n)) for n in result.get("notes", []) if n != SUPPORT_NOTE]
    if notes:
        lines += ["", "Notes:", "", *(f"- {_md(n)}" for n in notes)]
    warnings = result.get("warnings", [])
    if warnings:
        lines += [
            "",
            f"{len(warnings)} data warning(s): some resources could not be used; "
            "see the full evaluation.",
        ]
    lines += [
        "",
        f"Evaluated as of {_md(str(result['evaluationDate']))}. Decision support for the "
        "multidisciplinary team (MDT): it supports, and does not replace, the MDT.",
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
    suggestions: Sequence[Suggestion] = (),
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the card for an evaluation result (``card_uuid`` defaults to a new UUID4).

    ``names`` (:func:`~service.code_names.code_names` of the patient's record) puts the
    record's display beside a code the verdict names: ``(Secondary carcinoid tumors of
    bone, C7B.03)``.

    ``smart_launch`` makes the link a SMART app launch link (``type: "smart"``);
    otherwise ``page_token``, when given, rides on the clinician-page link.
    ``suggestions`` (from :func:`~service.cdshooks.suggestions.card_suggestions`) are
    added with ``selectionBehavior: any``.
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
    card: dict[str, Any] = {
        "uuid": card_uuid or str(uuid.uuid4()),
        "summary": card_summary(result, names),
        "indicator": card_indicator(result),
        "detail": card_detail(result, names),
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
    if suggestions:
        card["suggestions"] = [suggestion.to_json() for suggestion in suggestions]
        card["selectionBehavior"] = "any"
    return card
