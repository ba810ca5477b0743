"""Builders for small, valid FHIR R4 resources and Bundles (plain dicts).

Every test maps "as of" ``AT`` (2026-11-22) for the Patient ``Patient/p1`` unless it
says otherwise. A builder returns a plain dict, so a test can break it with ``|``
(``observation(...) | {"foo": 1}``) or leave an element out by passing ``None``.
This directory is a package (like ``tests/cli``) so the test modules import these
helpers as ``from .conftest import ...`` without clashing with other conftests.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from service.criteria.inputs import CriteriaInputs
from service.criteria.values import Interval
from service.mappers import DEFAULT_TERMINOLOGY, map_bundle
from service.mappers.codes import ASSESSMENT_SYSTEM, ICD10CM, LOINC, SNOMED, UCUM, Terminology
from service.mappers.json_text import HostileNumber

AT = date(2026, 11, 22)
PATIENT_ID = "p1"
PATIENT_REF = f"Patient/{PATIENT_ID}"
RECENT = "2026-11-01"
OLDER = "2026-10-01"
OLDEST = "2026-09-01"

KI67 = "29593-1"
KI67_BREAST = "85330-9"
BILI = "1975-2"
PLT = "777-3"
DISEASE_STATUS = "97509-4"
ECOG = "89247-1"
GRADE = "33732-9"

Code = str | tuple[str, str] | dict[str, Any]


def concept(code: Code, default_system: str) -> dict[str, Any]:
    """Return a CodeableConcept: a bare code in ``default_system``, a (system, code)
    pair, or a ready-made concept dict."""
    if isinstance(code, dict):
        return code
    system, value = (default_system, code) if isinstance(code, str) else code
    return {"coding": [{"system": system, "code": value}]}


def assessment(code: str) -> tuple[str, str]:
    """Return the (system, code) of one of the service's own assessment codes."""
    return ASSESSMENT_SYSTEM, code


def quantity(
    value: Any,
    unit: str | None = None,
    *,
    code: str | None = None,
    system: str | None = None,
    comparator: str | None = None,
) -> dict[str, Any]:
    """Return a Quantity; a ``code`` without ``system`` is given the UCUM system."""
    result: dict[str, Any] = {"value": value}
    if comparator is not None:
        result["comparator"] = comparator
    if unit is not None:
        result["unit"] = unit
    if code is not None:
        result["system"] = system or UCUM
        result["code"] = code
    return result


def _with(resource: dict[str, Any], elements: dict[str, Any]) -> dict[str, Any]:
    """Add ``elements`` to ``resource``, leaving out the ones given as ``None``."""
    resource.update({key: value for key, value in elements.items() if value is not None})
    return resource


def _subject(subject: str | None) -> dict[str, str] | None:
    return None if subject is None else {"reference": subject}


def observation(
    code: Code,
    *,
    id: str = "o1",
    status: str | None = "final",
    date: str | None = RECENT,
    subject: str | None = PATIENT_REF,
    **elements: Any,
) -> dict[str, Any]:
    """Return an Observation (code: a LOINC code unless told otherwise) dated by
    ``effectiveDateTime``; the value[x] and other elements come as keywords."""
    resource: dict[str, Any] = {"resourceType": "Observation", "id": id}
    return _with(
        resource,
        {
            "status": status,
            "code": concept(code, LOINC),
            "subject": _subject(subject),
            "effectiveDateTime": date,
            **elements,
        },
    )


def condition(
    code: Code,
    *,
    id: str = "c1",
    clinical: str | None = "active",
    verification: str | None = "confirmed",
    onset: str | None = "2025-01-01",
    subject: str | None = PATIENT_REF,
    **elements: Any,
) -> dict[str, Any]:
    """Return a Condition (code: ICD-10-CM unless told otherwise)."""
    resource: dict[str, Any] = {"resourceType": "Condition", "id": id}
    clinical_status = None
    if clinical is not None:
        clinical_status = concept(
            ("http://terminology.hl7.org/CodeSystem/condition-clinical", clinical), ""
        )
    verification_status = None
    if verification is not None:
        verification_status = concept(
            ("http://terminology.hl7.org/CodeSystem/condition-ver-status", verification), ""
        )
    return _with(
        resource,
        {
            "clinicalStatus": clinical_status,
            "verificationStatus": verification_status,
            "code": concept(code, ICD10CM),
            "subject": _subject(subject),
            "onsetDateTime": onset,
            **elements,
        },
    )


def procedure(
    code: Code,
    *,
    id: str = "pr1",
    status: str | None = "completed",
    performed: str | None = "2025-06-01",
    subject: str | None = PATIENT_REF,
    reasons: tuple[str, ...] = (),
    **elements: Any,
) -> dict[str, Any]:
    """Return a Procedure (code: SNOMED CT unless told otherwise)."""
    resource: dict[str, Any] = {"resourceType": "Procedure", "id": id}
    reason_reference = [{"reference": reason} for reason in reasons] or None
    return _with(
        resource,
        {
            "status": status,
            "code": concept(code, SNOMED),
            "subject": _subject(subject),
            "performedDateTime": performed,
            "reasonReference": reason_reference,
            **elements,
        },
    )


def patient(
    id: str = PATIENT_ID,
    birth_date: str | None = "1975-06-01",
    **elements: Any,
) -> dict[str, Any]:
    """Return a Patient."""
    return _with({"resourceType": "Patient", "id": id}, {"birthDate": birth_date, **elements})


def entry(resource: Any, full_url: str | None = None) -> dict[str, Any]:
    """Return a Bundle entry, with a ``fullUrl`` when given."""
    result: dict[str, Any] = {"resource": resource}
    if full_url is not None:
        result["fullUrl"] = full_url
    return result


def bundle(*resources: dict[str, Any], type: str = "collection") -> dict[str, Any]:
    """Return a Bundle of the resources; a dict without ``resourceType`` is taken as a
    ready-made entry (see :func:`entry`)."""
    entries = [item if "resourceType" not in item else entry(item) for item in resources]
    return {"resourceType": "Bundle", "type": type, "entry": entries}


def map_resources(
    *resources: dict[str, Any], terminology: Terminology | None = None
) -> CriteriaInputs:
    """Return the criteria inputs of ``patient()`` plus ``resources`` as of ``AT``."""
    the_bundle = bundle(patient(), *resources)
    return map_bundle(the_bundle, AT, terminology=terminology or DEFAULT_TERMINOLOGY)


def warned(inputs: CriteriaInputs, reference: str, *words: str) -> bool:
    """Say whether a warning names ``reference`` and mentions every one of ``words``."""
    return any(
        w.reference == reference and all(word in w.message for word in words)
        for w in inputs.warnings
    )


def warned_refs(inputs: CriteriaInputs) -> set[str | None]:
    """Return the references of every warning."""
    return {w.reference for w in inputs.warnings}


def point(value: str) -> Interval:
    """Return the exact interval holding only ``value``."""
    return Interval.point(Decimal(value))


def without_hostile_numbers(node: Any) -> Any:
    """Return ``node`` with every HostileNumber replaced by 0 (``node`` itself when it
    holds none): fhir.resources, the reference the structure walk is tested against,
    knows no HostileNumber."""
    if isinstance(node, HostileNumber):
        return Decimal(0)
    if isinstance(node, dict):
        changed = {k: without_hostile_numbers(v) for k, v in node.items()}
        same = all(changed[k] is v for k, v in node.items())
        return node if same else changed
    if isinstance(node, list):
        items = [without_hostile_numbers(v) for v in node]
        return node if all(a is b for a, b in zip(items, node, strict=True)) else items
    return node
