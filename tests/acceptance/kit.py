"""The acceptance kit: two base patients, the 1.1 criteria map and the case writer.

Written from ``criteria.md`` v1.1, ``terminology.md`` and ``interfaces.md`` only, never
from the engine: expectations here are an independent reading of the spec. Resources are
built with ``tests/fixtures/fhir_builders.py`` (local ids, rewritten to bundle-unique ids
``<case key>-<local id>`` by :func:`assemble`; the Patient's id is the case key).

A case is a base patient with some resources added, replaced or dropped, and the base's
criterion statuses with some overrides. Two statuses are derived, because the spec
defines them from others: ``primary_and_extrahepatic_resected`` (section 7: combines
``primary_resected`` and ``no_extrahepatic_disease``) and ``adequate_liver_function``
(section 4.4: "as ``low_bilirubin``").
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tests.fixtures.fhir_builders import (
    EVALUATION_DATE,
    ICD10CM,
    LOINC,
    SERVER_BASE,
    SNOMED,
    Resource,
    Story,
    assemble,
    assessment,
    bilirubin_mg,
    by_id,
    condition,
    days_before,
    disease_status,
    ecog,
    icd,
    ki67_pct,
    patient,
    pattern,
    platelets,
    procedure,
    sct,
    v_bool,
    v_quantity,
)

M, N, U = "met", "not_met", "unknown"
VERSION = "1.1.0"

OID_LOINC = "urn:oid:2.16.840.1.113883.6.1"
OID_SNOMED = "urn:oid:2.16.840.1.113883.6.96"
OID_ICD10CM = "urn:oid:2.16.840.1.113883.6.90"
SYSTEMS = {"loinc": LOINC, "snomed": SNOMED, "icd": ICD10CM}

# Criterion ids per set, in the order of criteria.md v1.1 section 4 (UNOS gains low_grade).
CRITERIA_SETS: dict[str, tuple[str, ...]] = {
    "milan-net": (
        "age_under_55",
        "low_grade",
        "portal_drained_primary",
        "primary_resected",
        "no_extrahepatic_disease",
        "liver_involvement_under_50",
        "stable_disease_6_months",
    ),
    "enets": (
        "age_under_55",
        "ki67_at_most_10",
        "liver_involvement",
        "primary_resected_6_months",
        "stable_disease_6_months",
        "no_extrahepatic_disease",
        "low_bilirubin",
    ),
    "unos": (
        "age_under_55",
        "low_grade",
        "portal_drained_primary",
        "liver_involvement_under_50",
        "primary_and_extrahepatic_resected",
        "stable_disease_6_months",
        "no_extrahepatic_disease",
        "bilobar_unresectable",
    ),
    "resection": (
        "well_differentiated",
        "primary_resected_or_resectable",
        "liver_limited_disease",
        "all_disease_resectable",
        "adequate_future_liver_remnant",
        "no_portal_hypertension",
        "adequate_liver_function",
        "fit_for_surgery",
    ),
}
ALL_CRITERIA = tuple(dict.fromkeys(c for ids in CRITERIA_SETS.values() for c in ids))
DERIVED = ("primary_and_extrahepatic_resected", "adequate_liver_function")


def future(days: int) -> str:
    """Return the calendar day ``days`` days after the evaluation date."""
    return (EVALUATION_DATE + timedelta(days=days)).isoformat()


# ---------------------------------------------------------------- base patients


def transplant_base() -> dict[str, Resource]:
    """Return base T: a transplant candidate, eligible for Milan-NET, ENETS and UNOS.

    Age 41; ileal NET (resolved after resection) removed 300 days ago by a Procedure whose
    reasonReference is the primary; Ki-67 5 % (305 days old: Ki-67 does not go stale);
    staging "extrahepatic disease absent"; burden 30 %; stable disease 250 and 30 days ago;
    Frilling type III with "hepatic disease not resectable"; fresh bilirubin 0.6 mg/dL and
    platelets 220 x10^3/uL; ECOG 0; no FLR and no major-hepatectomy-planned assessment.
    """
    return by_id(
        patient("1985-06-10", family="Acceptance", given="Tess", gender="female"),
        condition(
            "primary",
            icd("C7A.012", "Malignant carcinoid tumor of the ileum"),
            clinical="resolved",
            onset=days_before(420),
        ),
        condition(
            "livermets",
            icd("C7B.02", "Secondary carcinoid tumors of liver"),
            onset=days_before(420),
        ),
        procedure(
            "resection",
            sct("107938000", "Excision of small intestine"),
            performed=days_before(300),
            reason="Condition/primary",
        ),
        ki67_pct("ki67", days_before(305), 5),
        bilirubin_mg("bili", days_before(20), 0.6),
        platelets("plt", days_before(20), 220),
        assessment("staging", "extrahepatic-disease", days_before(30), v_bool(False)),
        assessment("burden", "hepatic-tumour-burden", days_before(30), v_quantity(30, "%")),
        pattern("pattern", days_before(30), "type-iii"),
        assessment("hdr", "hepatic-disease-resectable", days_before(30), v_bool(False)),
        disease_status("ds-old", days_before(250), "stable"),
        disease_status("ds-new", days_before(30), "stable"),
        ecog("ecog", days_before(30), 0),
    )


TRANSPLANT_STATUSES: dict[str, str] = {
    "age_under_55": M,
    "low_grade": M,
    "portal_drained_primary": M,
    "primary_resected": M,
    "no_extrahepatic_disease": M,
    "liver_involvement_under_50": M,
    "stable_disease_6_months": M,
    "ki67_at_most_10": M,
    "liver_involvement": M,
    "primary_resected_6_months": M,
    "low_bilirubin": M,
    "bilobar_unresectable": M,
    "well_differentiated": M,
    "primary_resected_or_resectable": M,
    "liver_limited_disease": M,
    "all_disease_resectable": N,
    "adequate_future_liver_remnant": U,
    "no_portal_hypertension": M,
    "fit_for_surgery": M,
}


def resection_base() -> dict[str, Resource]:
    """Return base R: base T with Frilling type I, "hepatic disease resectable" and FLR 35 %.

    Eligible for resection, Milan-NET and ENETS; UNOS ineligible (type I is unilobar).
    """
    return variant(
        transplant_base(),
        pattern("pattern", days_before(30), "type-i"),
        assessment("hdr", "hepatic-disease-resectable", days_before(30), v_bool(True)),
        assessment("flr", "future-liver-remnant", days_before(30), v_quantity(35, "%")),
    )


RESECTION_STATUSES: dict[str, str] = {
    **TRANSPLANT_STATUSES,
    "bilobar_unresectable": N,
    "all_disease_resectable": M,
    "adequate_future_liver_remnant": M,
}

BASES: dict[str, tuple[Callable[[], dict[str, Resource]], dict[str, str]]] = {
    "T": (transplant_base, TRANSPLANT_STATUSES),
    "R": (resection_base, RESECTION_STATUSES),
}


def variant(
    base: dict[str, Resource], *changes: Resource, drop: tuple[str, ...] = ()
) -> dict[str, Resource]:
    """Return ``base`` with resources added or replaced (same local id) and some dropped."""
    missing = set(drop) - set(base)
    if missing:
        raise ValueError(f"cannot drop absent resources {sorted(missing)}")
    result = {k: copy.deepcopy(v) for k, v in base.items() if k not in drop}
    for resource in changes:
        result[resource["id"]] = copy.deepcopy(resource)
    return result


# ---------------------------------------------------------------- odd resources


def unreadable_status(resource: Resource) -> Resource:
    """Return a Condition whose clinicalStatus has text but no coding (section 7)."""
    result = copy.deepcopy(resource)
    result["clinicalStatus"] = {"text": "active"}
    return result


def recoded(resource: Resource, *codings: dict[str, str]) -> Resource:
    """Return ``resource`` with its ``code`` replaced by the given codings (no text)."""
    result = copy.deepcopy(resource)
    result["code"] = {"coding": list(codings)}
    return result


# ---------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Warn:
    """An expected warning: the resource it names (None: any) and phrases it must hold.

    Each entry of ``phrases`` is a tuple of alternatives (case-insensitive substrings);
    every entry must be matched by the same warning message.
    """

    reference: str | None
    phrases: tuple[tuple[str, ...], ...] = ()

    def document(self) -> dict[str, Any]:
        return {"reference": self.reference, "phrases": [list(p) for p in self.phrases]}


@dataclass(frozen=True)
class Mention:
    """A criterion whose JSON (reason, evidence, needs) must contain one of ``texts``."""

    criterion: str
    texts: tuple[str, ...]

    def document(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "texts": list(self.texts)}


@dataclass
class Case:
    """One acceptance case: a patient, what the service must answer, and what it pins."""

    name: str
    pins: str
    base: str
    changes: tuple[Resource, ...] = ()
    drop: tuple[str, ...] = ()
    expect: dict[str, str] = field(default_factory=dict)
    warnings: tuple[Warn, ...] = ()
    exact_warnings: bool = True
    notes: tuple[tuple[str, ...], ...] = ()
    no_notes: tuple[tuple[str, ...], ...] = ()
    mentions: tuple[Mention, ...] = ()
    evidence: tuple[tuple[str, str], ...] = ()
    bundle_type: str = "collection"
    tweak: Callable[[Resource], None] | None = None

    @property
    def key(self) -> str:
        return self.name

    def ref(self, resource_type: str, local_id: str) -> str:
        """Return the bundle reference of a local resource of this case."""
        if resource_type == "Patient":
            return f"Patient/{self.key}"
        return f"{resource_type}/{self.key}-{local_id}"

    def statuses(self) -> dict[str, str]:
        """Return every criterion's expected status (base, overrides, derived ones)."""
        base = BASES[self.base][1]
        bad = set(self.expect) - set(ALL_CRITERIA)
        if bad or set(self.expect) & set(DERIVED):
            raise ValueError(f"{self.name}: cannot set {sorted(bad | set(DERIVED))}")
        result = {**base, **self.expect}
        result["primary_and_extrahepatic_resected"] = _both(
            result["primary_resected"], result["no_extrahepatic_disease"]
        )
        result["adequate_liver_function"] = result["low_bilirubin"]
        _cross_check(self.name, result)
        return result

    def resources(self) -> dict[str, Resource]:
        return variant(BASES[self.base][0](), *self.changes, drop=self.drop)

    def bundle(self) -> Resource:
        story = Story(
            name=self.name,
            key=self.key,
            summary=self.pins,
            decided_by="",
            bundle_type=self.bundle_type,
            resources=self.resources(),
            expected={},
        )
        result = assemble(story)
        if self.tweak is not None:
            self.tweak(result)
        return result

    def expectation(self) -> dict[str, Any]:
        statuses = self.statuses()
        sets = {}
        for set_id, criteria in CRITERIA_SETS.items():
            per = {c: statuses[c] for c in criteria}
            sets[set_id] = {"version": VERSION, "status": set_status(per), "criteria": per}
        return {
            "case": self.name,
            "pins": self.pins,
            "evaluationDate": EVALUATION_DATE.isoformat(),
            "patient": f"Patient/{self.key}",
            "sets": sets,
            "warnings": [w.document() for w in self.warnings],
            "exactWarnings": self.exact_warnings,
            "notesContaining": [list(n) for n in self.notes],
            "notesNotContaining": [list(n) for n in self.no_notes],
            "mentions": [m.document() for m in self.mentions],
            "evidenceReferences": [{"criterion": c, "reference": r} for c, r in self.evidence],
        }


def set_status(statuses: dict[str, str]) -> str:
    """Combine criterion statuses as criteria.md section 1 says."""
    values = list(statuses.values())
    if N in values:
        return "ineligible"
    if all(v == M for v in values):
        return "eligible"
    return "indeterminate"


def _both(first: str, second: str) -> str:
    if N in (first, second):
        return N
    return M if first == second == M else U


def _cross_check(name: str, s: dict[str, str]) -> None:
    """Refuse hand-written statuses that break a rule the spec states between criteria."""
    rules = {
        "low_grade met <=> well_differentiated met": (s["low_grade"] == M)
        == (s["well_differentiated"] == M),
        "low_grade unknown => well_differentiated unknown": s["low_grade"] != U
        or s["well_differentiated"] == U,
        "well_differentiated not_met => low_grade not_met (NEC)": s["well_differentiated"] != N
        or s["low_grade"] == N,
        "ki67_at_most_10 met => low_grade met": s["ki67_at_most_10"] != M or s["low_grade"] == M,
        "liver_limited_disease is never not_met": s["liver_limited_disease"] != N,
        "no_extrahepatic_disease met => liver_limited_disease met": s["no_extrahepatic_disease"]
        != M
        or s["liver_limited_disease"] == M,
        "burden < 50 met => ENETS liver_involvement met": s["liver_involvement_under_50"] != M
        or s["liver_involvement"] == M,
        "primary_resected_6_months met => primary_resected met": s["primary_resected_6_months"] != M
        or s["primary_resected"] == M,
    }
    broken = [rule for rule, holds in rules.items() if not holds]
    if broken:
        raise ValueError(f"{name}: expectations break {broken}")


def own_absolute(case_key: str) -> str:
    """Return the Patient's absolute URL on the Bundle's own server."""
    return f"{SERVER_BASE}/Patient/{case_key}"
