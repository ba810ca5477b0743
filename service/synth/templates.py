"""NET patients with liver metastases, varied from the five demo stories.

The demo patients (``service/data/demo``) are coherent clinical stories around the demo
date 2026-11-22. Each synthetic NET patient starts from one of them, gets new ids, a new
identity and age, and dates moved to the chosen evaluation date (with jitter, so some
labs turn stale), then EHR-style variations: MDT findings or recent labs missing, units
as labs send them, statuses other than final, proprietary and local codes.
"""

from __future__ import annotations

import copy
import json
import random
import re
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

from service.synth.fhir import LOINC, Resource, coding

__all__ = ["DEMO_DATE", "LOCAL_KI67", "ORACLE_LAB", "net_story"]

DEMO_DATE = date(2026, 11, 22)
ASSESSMENT_SYSTEM = "https://nelm-cds.github.io/fhir/CodeSystem/nelm-assessment"
ORACLE_LAB = "https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/72"
LOCAL_KI67 = ("urn:oid:1.2.840.114350.1.13.99.2.7.2.768282", "KI67-IHC")
"""A site's local Ki-67 code (mapped in the ``site-codes.json`` written with the export)."""

_DATE_KEYS = frozenset(
    {
        "effectiveDateTime",
        "issued",
        "onsetDateTime",
        "recordedDate",
        "performedDateTime",
        "abatementDateTime",
        "start",
        "end",
        "lastUpdated",
    }
)
_FULL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(.*)$")
_BILIRUBIN_MASS = ("1975-2", "42719-5")
_PLATELETS = ("777-3", "26515-7", "778-1", "49497-1", "74464-9")
_LAB_CODES = {(LOINC, c) for c in (*_BILIRUBIN_MASS, "14631-6", *_PLATELETS)}


@cache
def _templates() -> tuple[tuple[Resource, ...], ...]:
    folder = resources.files("service").joinpath("data/demo")
    stories = []
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".json"):
            bundle = json.loads(item.read_bytes())
            stories.append(tuple(entry["resource"] for entry in bundle["entry"]))
    return tuple(stories)


def _shift(text: str, days: int) -> str:
    match = _FULL_DATE.match(text)
    if match is None:
        return text
    moved = date.fromisoformat(match.group(1)) + timedelta(days=days)
    return moved.isoformat() + match.group(2)


def _rewrite(value: Any, ids: dict[str, str], days: int) -> Any:
    """Move dates by ``days`` and point references at the new ids, recursively."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in _DATE_KEYS and isinstance(item, str):
                out[key] = _shift(item, days)
            elif key == "reference" and isinstance(item, str):
                out[key] = ids.get(item, item)
            else:
                out[key] = _rewrite(item, ids, days)
        return out
    if isinstance(value, list):
        return [_rewrite(item, ids, days) for item in value]
    return value


def _codes(resource: Resource) -> set[tuple[str, str]]:
    codings = resource.get("code", {}).get("coding", [])
    return {(c.get("system", ""), c.get("code", "")) for c in codings}


def _vary_lab(resource: Resource, rng: random.Random) -> None:
    codes = {code for system, code in _codes(resource) if system == LOINC}
    value = resource.get("valueQuantity")
    if codes & set(_BILIRUBIN_MASS) and value is not None and rng.random() < 0.3:
        resource["code"]["coding"] = [coding(LOINC, "14631-6")]
        micromol = round(float(value["value"]) * 17.104, 1)
        resource["valueQuantity"] = {"value": micromol, "unit": rng.choice(["umol/L", "µmol/L"])}
        resource.pop("referenceRange", None)
    elif codes & set(_PLATELETS) and value is not None and rng.random() < 0.3:
        value.pop("system", None)
        value.pop("code", None)
        value["unit"] = rng.choice(["K/uL", "x10(3)/mcL", "10^3/uL", "thou/mm3", "x10E3/uL"])
    if codes and rng.random() < 0.25:
        resource["code"]["coding"].insert(
            0, {"system": ORACLE_LAB, "code": str(rng.randint(1000, 999999))}
        )
    roll = rng.random()
    if roll < 0.04:
        resource["status"] = "preliminary"
    elif roll < 0.07:
        resource["status"] = "amended"
    elif roll < 0.08:
        resource["status"] = "entered-in-error"


def _vary_ki67(resource: Resource, rng: random.Random) -> None:
    value = resource.get("valueQuantity")
    if value is not None and rng.random() < 0.4:
        value["value"] = round(float(value["value"]) * rng.uniform(0.3, 3.0), 1)
    if rng.random() < 0.1:
        resource["code"] = {
            "coding": [{"system": LOCAL_KI67[0], "code": LOCAL_KI67[1]}],
            "text": "Ki-67",
        }


def net_story(
    rng: random.Random, patient_id: str, anchor: date, identity: dict[str, str]
) -> list[Resource]:
    """Return a NET liver-metastasis patient's resources, varied from a demo story.

    ``identity`` holds ``family``, ``given``, ``gender`` and ``mrn``; ages are moved by
    up to about ten years either way, so some patients cross the age limit of 55.
    """
    template = copy.deepcopy(rng.choice(_templates()))
    ids: dict[str, str] = {}
    for index, resource in enumerate(template):
        new = patient_id if resource["resourceType"] == "Patient" else f"{patient_id}-{index}"
        ids[f"{resource['resourceType']}/{resource['id']}"] = f"{resource['resourceType']}/{new}"
    days = (anchor - DEMO_DATE).days + rng.randint(-60, 45)
    age_days = rng.randint(-11, 9) * 365 + rng.randint(-180, 180)
    drop_findings = rng.random() < 0.4
    drop_recent_labs = rng.random() < 0.15
    out: list[Resource] = []
    for resource in template:
        if resource["resourceType"] == "Patient":
            moved = _rewrite(resource, ids, days)
            moved["id"] = patient_id
            moved["name"] = [
                {"use": "official", "family": identity["family"], "given": [identity["given"]]}
            ]
            moved["gender"] = identity["gender"]
            moved["identifier"][0]["value"] = identity["mrn"]
            moved.pop("address", None)
            moved["birthDate"] = _shift(resource["birthDate"], days - age_days)
            out.append(moved)
            continue
        codes = _codes(resource)
        if drop_findings and any(s == ASSESSMENT_SYSTEM for s, _ in codes) and rng.random() < 0.5:
            continue
        moved = _rewrite(resource, ids, days)
        moved["id"] = ids[f"{resource['resourceType']}/{resource['id']}"].split("/", 1)[1]
        if moved["resourceType"] == "Observation":
            when = str(moved.get("effectiveDateTime", ""))[:10]
            recent = bool(when) and when > (anchor - timedelta(days=120)).isoformat()
            if drop_recent_labs and recent and codes & _LAB_CODES:
                continue
            if (LOINC, "29593-1") in codes:
                _vary_ki67(moved, rng)
            else:
                _vary_lab(moved, rng)
        out.append(moved)
    return out
