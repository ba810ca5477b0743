"""The MDT assessment form as a FHIR R4 ``Questionnaire``, for EHRs that render their own.

Built from the same :data:`~service.assessments.fields.FIELDS` as the HTML form, so the
two cannot drift. Each item's ``linkId`` is the assessment code and its ``code`` the
service's CodeSystem concept; answers map to Observations as the service writes them
(SDC observation-based extraction is flagged on every item). Percentages are ``decimal``
items in UCUM ``%`` with 0-100 limits; yes/no findings ``boolean``; the Frilling pattern a
``choice`` among its three codes.
"""

from __future__ import annotations

from typing import Any

from service.assessments.fields import FIELDS, PATTERNS, Field
from service.mappers.codes import ASSESSMENT_SYSTEM

__all__ = ["QUESTIONNAIRE_ID", "QUESTIONNAIRE_URL", "questionnaire"]

QUESTIONNAIRE_ID = "nelm-mdt-assessment"
QUESTIONNAIRE_URL = f"https://nelm-cds.github.io/fhir/Questionnaire/{QUESTIONNAIRE_ID}"
_SDC_EXTRACT = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-observationExtract"
_UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
_MIN = "http://hl7.org/fhir/StructureDefinition/minValue"
_MAX = "http://hl7.org/fhir/StructureDefinition/maxValue"


def _item(field: Field) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": field.code,
        "code": [{"system": ASSESSMENT_SYSTEM, "code": field.code}],
        "text": field.question,
        "extension": [{"url": _SDC_EXTRACT, "valueBoolean": True}],
    }
    if field.kind == "percent":
        item["type"] = "decimal"
        item["extension"] += [
            {"url": _UNIT, "valueCoding": {"system": "http://unitsofmeasure.org", "code": "%"}},
            {"url": _MIN, "valueDecimal": 0},
            {"url": _MAX, "valueDecimal": 100},
        ]
    elif field.kind == "yes-no":
        item["type"] = "boolean"
    else:
        item["type"] = "choice"
        item["answerOption"] = [
            {"valueCoding": {"system": ASSESSMENT_SYSTEM, "code": code, "display": display}}
            for code, display in PATTERNS
        ]
    return item


def questionnaire(version: str) -> dict[str, Any]:
    """Return the Questionnaire resource (``version``: the service's version)."""
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": QUESTIONNAIRE_URL,
        "version": version,
        "name": "NelmMdtAssessment",
        "title": "NELM MDT assessment (liver metastases of neuroendocrine tumours)",
        "status": "active",
        "subjectType": ["Patient"],
        "description": (
            "The multidisciplinary team's findings that the NELM eligibility criteria read: "
            "tumour burden, extrahepatic disease, Frilling pattern, resectability of the "
            "liver disease and of the primary, primary resected, refractory hormonal "
            "syndrome, major hepatectomy planned and future liver remnant."
        ),
        "item": [_item(field) for field in FIELDS],
    }
