"""The patients of a synthetic hospital population, one archetype each.

Most patients have no NET: general medicine with common diagnoses and lab histories
(some of which the criteria read: bilirubin, platelets, cirrhosis). Some have another
cancer with liver metastases (C78.7: selected as candidates, not NET), some a NET
without liver metastases, and a share a NET with liver metastases
(:func:`service.synth.templates.net_story`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from service.synth.fhir import (
    ICD10CM,
    LOINC,
    SNOMED,
    Resource,
    coding,
    concept,
    condition,
    lab,
    patient,
    procedure,
    quantity,
)
from service.synth.templates import ORACLE_LAB, net_story

__all__ = ["Mix", "person"]

_FAMILY = (
    "Smith",
    "Novak",
    "Garcia",
    "Muller",
    "Rossi",
    "Kowalski",
    "Jensen",
    "Okafor",
    "Dubois",
    "Silva",
    "Nakamura",
    "Berg",
    "Horvat",
    "Papadopoulos",
    "Murphy",
    "Virtanen",
    "Costa",
)
_GIVEN = {
    "female": ("Anna", "Maria", "Sofia", "Helen", "Ines", "Lea", "Grace", "Mila", "Noor"),
    "male": ("Peter", "Thomas", "Jonas", "Luca", "Omar", "Karl", "David", "Mateo", "Ivan"),
}
_COMMON = (
    ("I10", "Essential (primary) hypertension"),
    ("E11.9", "Type 2 diabetes mellitus without complications"),
    ("J44.9", "Chronic obstructive pulmonary disease, unspecified"),
    ("E78.5", "Hyperlipidemia, unspecified"),
    ("K21.9", "Gastro-esophageal reflux disease without esophagitis"),
    ("M17.11", "Unilateral primary osteoarthritis, right knee"),
    ("F32.9", "Major depressive disorder, single episode, unspecified"),
    ("N18.3", "Chronic kidney disease, stage 3"),
    ("K76.0", "Fatty (change of) liver, not elsewhere classified"),
    ("K74.60", "Unspecified cirrhosis of liver"),
)
_NET_PRIMARIES = (
    ("C7A.012", "Malignant carcinoid tumor of the ileum"),
    ("C7A.010", "Malignant carcinoid tumor of the duodenum"),
    ("C25.4", "Malignant neoplasm of endocrine pancreas"),
    ("C7A.020", "Malignant carcinoid tumor of the appendix"),
    ("C7A.090", "Malignant carcinoid tumor of the bronchus and lung"),
    ("C7A.026", "Malignant carcinoid tumor of the rectum"),
)
_OTHER_CANCERS = (
    ("C18.7", "Malignant neoplasm of sigmoid colon"),
    ("C20", "Malignant neoplasm of rectum"),
    ("C50.911", "Malignant neoplasm of unspecified site of right female breast"),
    ("C25.0", "Malignant neoplasm of head of pancreas"),
)
# (LOINC, display, UCUM code, unit text, low, high, decimals)
_LABS = (
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 0.6, 1.9, 2),
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dl", 70, 190, 0),
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "%", 4.8, 9.5, 1),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "g/dL", 9.5, 16.5, 1),
    ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume]", "U/L", "U/L", 8, 95, 0),
    ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 0.2, 2.4, 1),
    ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", "K/uL", 60, 420, 0),
)
_LAB_STATUSES = ("final",) * 16 + ("preliminary", "amended", "cancelled", "corrected")


@dataclass(frozen=True)
class Mix:
    """Shares of the archetypes; the rest of the population has no cancer."""

    net_liver: float = 0.08
    net_only: float = 0.04
    other_liver: float = 0.04


def _identity(rng: random.Random, index: int) -> dict[str, str]:
    gender = rng.choice(("female", "male"))
    return {
        "family": rng.choice(_FAMILY),
        "given": rng.choice(_GIVEN[gender]),
        "gender": gender,
        "mrn": f"MRN-{7_000_000 + index}",
    }


def _day(anchor: date, rng: random.Random, within_days: int) -> str:
    day = anchor - timedelta(days=rng.randint(0, within_days))
    return f"{day.isoformat()}T{rng.randint(7, 11):02d}:{rng.choice(('05', '20', '40'))}:00+01:00"


def _labs(rng: random.Random, pid: str, anchor: date, count: int) -> list[Resource]:
    out: list[Resource] = []
    for n in range(count):
        code, display, ucum, unit, low, high, decimals = rng.choice(_LABS)
        codings = [coding(LOINC, code, display if rng.random() < 0.6 else None)]
        if rng.random() < 0.2:
            codings.insert(0, {"system": ORACLE_LAB, "code": str(rng.randint(1000, 999999))})
        value = round(rng.uniform(low, high), decimals)
        number = int(value) if decimals == 0 else value
        coded = rng.random() < 0.7
        out.append(
            lab(
                f"{pid}-lab-{n}",
                pid,
                concept(*codings),
                _day(anchor, rng, 3 * 365),
                {
                    "valueQuantity": quantity(
                        number, unit if not coded else ucum, ucum if coded else None
                    )
                },
                status=rng.choice(_LAB_STATUSES),
            )
        )
    return out


def _general(rng: random.Random, pid: str, anchor: date) -> list[Resource]:
    out: list[Resource] = []
    for n, (code, display) in enumerate(rng.sample(_COMMON, rng.randint(0, 3))):
        status = rng.choice(("active", "active", "active", "resolved", None))
        out.append(
            condition(
                f"{pid}-dx-{n}",
                pid,
                concept(coding(ICD10CM, code, display)),
                onset=_day(anchor, rng, 15 * 365)[:10],
                status=status,
            )
        )
    out.extend(_labs(rng, pid, anchor, rng.randint(0, 8)))
    if rng.random() < 0.08:
        appendectomy = concept(coding(SNOMED, "80146002", "Appendectomy"))
        out.append(procedure(f"{pid}-px-0", pid, appendectomy, _day(anchor, rng, 30 * 365)[:10]))
    return out


def _other_cancer(rng: random.Random, pid: str, anchor: date) -> list[Resource]:
    code, display = rng.choice(_OTHER_CANCERS)
    liver = rng.choice(
        (
            concept(coding(ICD10CM, "C78.7", "Secondary malignant neoplasm of liver")),
            concept(coding(SNOMED, "94381002", "Secondary malignant neoplasm of liver")),
        )
    )
    onset = _day(anchor, rng, 4 * 365)[:10]
    return [
        condition(f"{pid}-ca", pid, concept(coding(ICD10CM, code, display)), onset=onset),
        condition(f"{pid}-liver", pid, liver, onset=onset),
        *_labs(rng, pid, anchor, rng.randint(2, 10)),
    ]


def _net_only(rng: random.Random, pid: str, anchor: date) -> list[Resource]:
    code, display = rng.choice(_NET_PRIMARIES)
    ki67 = round(rng.uniform(0.5, 25), 1)
    onset = _day(anchor, rng, 6 * 365)[:10]
    return [
        condition(
            f"{pid}-net",
            pid,
            concept(coding(ICD10CM, code, display)),
            onset=onset,
            status=rng.choice(("active", "resolved")),
        ),
        lab(
            f"{pid}-ki67",
            pid,
            concept(coding(LOINC, "29593-1")),
            onset,
            {"valueQuantity": quantity(ki67, "%", "%")},
        ),
        *_labs(rng, pid, anchor, rng.randint(1, 8)),
    ]


def person(rng: random.Random, index: int, anchor: date, mix: Mix) -> list[Resource]:
    """Return one patient's resources (the Patient first)."""
    pid = f"p{index:07d}"
    identity = _identity(rng, index)
    roll = rng.random()
    if roll < mix.net_liver:
        return net_story(rng, pid, anchor, identity)
    age_days = rng.randint(18 * 365, 92 * 365)
    birth = (anchor - timedelta(days=age_days)).isoformat()
    resources = [patient(pid, birth_date=birth, **identity)]
    if roll < mix.net_liver + mix.net_only:
        return resources + _net_only(rng, pid, anchor)
    if roll < mix.net_liver + mix.net_only + mix.other_liver:
        return resources + _other_cancer(rng, pid, anchor)
    return resources + _general(rng, pid, anchor)
