"""Card suggestions (CDS Hooks 2.0): draft orders for missing or stale labs, and referrals.

**Which suggestions.**

- *Order total bilirubin* / *Order platelet count*: exactly when that lab is missing
  (no usable result on or before the evaluation date) or stale (older than the freshness
  window, undated, or a partial date that may be older), the cases in which criteria.md
  §3 gives ``unknown``. A fresh lab that cannot be interpreted (unrecognised unit) gets no
  order: its result exists, the record needs correcting, not a new sample.
- *Refer to the liver transplant team* when a transplant set is eligible or
  indeterminate; *Refer to the HPB surgical team* when the resection set is. The MDT
  decides; the referral puts the patient in front of it.

**What each carries.** One ``create`` action with a draft ``ServiceRequest`` (status
``draft``, intent ``order``: the clinician signs it in the EHR) for the patient, with the
liver-metastasis Conditions as its reason. Labs are LOINC coded: 1975-2 *Bilirubin.total
[Mass/volume] in Serum or Plasma* and 777-3 *Platelets [#/volume] in Blood by Automated
count* (the codes the service reads first, terminology.md). Referrals are SNOMED CT coded
in category 3457005 *Patient referral*: 306316000 *Referral to transplant surgeon* and
306313008 *Referral to hepatobiliary surgeon*, both members of the VSAC value set
*Referral* (OID 2.16.840.1.113883.3.464.1003.101.12.1046, eCQM update 2025-05-08).

**Stable ``uuid``.** A suggestion's ``uuid`` is derived from its kind only (UUID 5), so
the same suggestion has the same id on every card and feedback counts it per kind; the
card's own ``uuid`` (unique) says which card it was accepted on.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.criteria import Evaluation
from service.criteria.inputs import Measurement
from service.criteria.rules.common import is_fresh
from service.mappers.codes import LOINC, SNOMED

__all__ = [
    "SUGGESTION_KINDS",
    "Suggestion",
    "card_suggestions",
    "stale_or_missing_labs",
    "suggestion_uuid",
]

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://nelm-cds.github.io/cds-hooks/suggestions")


def suggestion_uuid(kind: str) -> str:
    """Return the stable UUID of a suggestion kind (``order-bilirubin``, ...)."""
    return str(uuid.uuid5(_NAMESPACE, kind))


@dataclass(frozen=True)
class _Kind:
    key: str
    label: str
    system: str
    code: str
    display: str
    text: str


_LABS: Mapping[str, _Kind] = {
    "bilirubin": _Kind(
        "order-bilirubin",
        "Order total bilirubin",
        LOINC,
        "1975-2",
        "Bilirubin.total [Mass/volume] in Serum or Plasma",
        "Total bilirubin",
    ),
    "platelets": _Kind(
        "order-platelets",
        "Order platelet count",
        LOINC,
        "777-3",
        "Platelets [#/volume] in Blood by Automated count",
        "Platelet count",
    ),
}
_REFERRALS: Mapping[str, _Kind] = {
    "transplant": _Kind(
        "refer-transplant",
        "Refer to the liver transplant team (MDT)",
        SNOMED,
        "306316000",
        "Referral to transplant surgeon",
        "Referral to the liver transplant team for NELM transplant assessment (MDT)",
    ),
    "resection": _Kind(
        "refer-hpb",
        "Refer to the HPB surgical team (MDT)",
        SNOMED,
        "306313008",
        "Referral to hepatobiliary surgeon",
        "Referral to the hepato-pancreato-biliary surgical team for NELM resection (MDT)",
    ),
}
SUGGESTION_KINDS: Mapping[str, str] = {
    suggestion_uuid(kind.key): kind.key for kind in (*_LABS.values(), *_REFERRALS.values())
}
"""Every suggestion ``uuid`` this service issues, with its kind (for feedback counts)."""

_LAB_CATEGORY = {"system": SNOMED, "code": "108252007", "display": "Laboratory procedure"}
_REFERRAL_CATEGORY = {"system": SNOMED, "code": "3457005", "display": "Patient referral"}


@dataclass(frozen=True)
class Suggestion:
    """One suggestion: its kind, label, and why (the draft's note)."""

    kind: str
    label: str
    reason: str
    resource: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """Return the CDS Hooks Suggestion object with its one ``create`` action."""
        return {
            "label": self.label,
            "uuid": suggestion_uuid(self.kind),
            "isRecommended": True,
            "actions": [{"type": "create", "description": self.reason, "resource": self.resource}],
        }


def _lab_problem(lab: Measurement | None, name: str, evaluation: Evaluation) -> str | None:
    """Say why a lab must be ordered (missing or stale), or ``None`` when it is fresh."""
    window = evaluation.config.lab_freshness_days
    if lab is None:
        return f"no {name} is recorded"
    if lab.date is None:
        return f"the latest {name} has no date, so it cannot be shown to be fresh"
    fresh = is_fresh(lab.date, window, evaluation.inputs.evaluation_date)
    if fresh is False:
        return f"the latest {name} ({lab.date.label}) is older than {window} days"
    if fresh is None:
        return f"the latest {name} (dated {lab.date.text}) may be older than {window} days"
    return None


def stale_or_missing_labs(evaluation: Evaluation) -> dict[str, str]:
    """Return ``{"bilirubin" | "platelets": why}`` for each lab missing or stale."""
    inputs = evaluation.inputs
    found = {
        "bilirubin": _lab_problem(inputs.bilirubin, "total bilirubin", evaluation),
        "platelets": _lab_problem(inputs.platelets, "platelet count", evaluation),
    }
    return {name: why for name, why in found.items() if why is not None}


def _service_request(
    kind: _Kind, category: dict[str, str], evaluation: Evaluation, note: str
) -> dict[str, Any]:
    inputs = evaluation.inputs
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "category": [{"coding": [category]}],
        "code": {
            "coding": [{"system": kind.system, "code": kind.code, "display": kind.display}],
            "text": kind.text,
        },
        "subject": {"reference": inputs.patient},
        "note": [{"text": note}],
    }
    reasons = [{"reference": fact.reference} for fact in inputs.liver_metastases if fact.present]
    if reasons:
        resource["reasonReference"] = reasons
    return resource


def card_suggestions(evaluation: Evaluation) -> list[Suggestion]:
    """Return the suggestions for this evaluation (see the module text for the rules)."""
    suggestions: list[Suggestion] = []
    for name, why in stale_or_missing_labs(evaluation).items():
        kind = _LABS[name]
        reason = f"Draft order: {kind.text.lower()}, because {why} (NELM eligibility)."
        resource = _service_request(kind, _LAB_CATEGORY, evaluation, reason)
        suggestions.append(Suggestion(kind.key, kind.label, reason, resource))
    by_pathway: dict[str, set[str]] = {}
    for result in evaluation.set_results:
        by_pathway.setdefault(result.criteria_set.pathway, set()).add(result.status.value)
    for pathway, kind in _REFERRALS.items():
        statuses = by_pathway.get(pathway, set())
        if statuses & {"eligible", "indeterminate"}:
            state = "eligible" if "eligible" in statuses else "undecided"
            reason = (
                f"Draft referral: {kind.text}; the NELM evaluation finds the patient "
                f"{state} for {'transplantation' if pathway == 'transplant' else 'resection'}."
            )
            resource = _service_request(kind, _REFERRAL_CATEGORY, evaluation, reason)
            suggestions.append(Suggestion(kind.key, kind.label, reason, resource))
    return suggestions
