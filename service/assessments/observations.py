"""The Observation one recorded MDT finding becomes (terminology.md, assessment codes).

- ``code``: the service's CodeSystem code (what the service itself reads back);
- ``status`` ``final``; ``category`` ``exam``; ``subject`` the patient;
- ``effectiveDateTime`` and ``issued``: the moment it was recorded (UTC);
- ``performer``: the clinician who recorded it (the launch's ``fhirUser``), when known;
- the value: ``valueQuantity`` in UCUM ``%``, ``valueBoolean``, or ``valueCodeableConcept``
  with the Frilling type from the same CodeSystem;
- an ``identifier`` made of the form submission and the code, so the same submission
  can be written again (a retry, a double click) without a second Observation: the
  caller creates it with ``If-None-Exist`` on that identifier.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from service.assessments.fields import PATTERNS, Answer, Field
from service.mappers.codes import ASSESSMENT_SYSTEM

__all__ = ["SUBMISSION_SYSTEM", "assessment_observation", "submission_identifier"]

SUBMISSION_SYSTEM = "https://nelm-cds.github.io/fhir/sid/mdt-assessment-submission"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def submission_identifier(submission: str, code: str) -> str:
    """Return the identifier value of ``code`` recorded by form ``submission``."""
    return f"{submission}-{code}"


def _value(field: Field, answer: Answer) -> dict[str, Any]:
    if field.kind == "percent" and isinstance(answer, Decimal):
        return {
            "valueQuantity": {
                "value": int(answer) if answer == answer.to_integral_value() else float(answer),
                "unit": "%",
                "system": UCUM,
                "code": "%",
            }
        }
    if field.kind == "yes-no" and isinstance(answer, bool):
        return {"valueBoolean": answer}
    names = dict(PATTERNS)
    return {
        "valueCodeableConcept": {
            "coding": [
                {"system": ASSESSMENT_SYSTEM, "code": str(answer), "display": names[str(answer)]}
            ],
            "text": f"Frilling {names[str(answer)]}",
        }
    }


def assessment_observation(
    field: Field,
    answer: Answer,
    *,
    patient: str,
    performer: str | None,
    recorded_at: datetime,
    submission: str,
) -> dict[str, Any]:
    """Return the Observation for one answer (see the module text)."""
    when = recorded_at.isoformat(timespec="seconds")
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [
            {"system": SUBMISSION_SYSTEM, "value": submission_identifier(submission, field.code)}
        ],
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "exam"}]}],
        "code": {
            "coding": [{"system": ASSESSMENT_SYSTEM, "code": field.code}],
            "text": field.question,
        },
        "subject": {"reference": patient},
        "effectiveDateTime": when,
        "issued": when,
        **_value(field, answer),
    }
    if performer is not None:
        resource["performer"] = [{"reference": performer}]
    return resource
