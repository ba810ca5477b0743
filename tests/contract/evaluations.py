"""Evaluation results to write back: real evaluations of small synthetic patients.

Each story is a Bundle evaluated in-process by the engine, so the RiskAssessment tests
see exactly what the service produces. ``all_eligible`` is the one synthetic result:
no real patient can be eligible for everything (UNOS needs bilobar *unresectable*
disease, resection needs resectable disease), but the writeback must handle it.
"""

from __future__ import annotations

import copy
from typing import Any

from service.engine import evaluate_bundle
from tests.fixtures import fhir_builders as fb

Result = dict[str, Any]

LIVER_METASTASIS = "Condition/liver-mets"


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": resource} for resource in resources],
    }


def _liver_metastasis() -> dict[str, Any]:
    code = fb.icd("C7B.02", "Secondary carcinoid tumors of liver")
    return fb.condition("liver-mets", code, onset=fb.days_before(800))


def transplant_candidate() -> Result:
    """Return a documented 50-year-old: transplant sets eligible, resection ineligible."""
    primary = fb.icd("C7A.012", "Malignant carcinoid tumor of the ileum")
    resection = fb.sct("107938000", "Excision of small intestine")
    bundle = _bundle(
        fb.patient("1976-05-01", family="Candidate", given="Tess"),
        fb.condition("primary", primary, clinical="resolved", onset=fb.days_before(900)),
        _liver_metastasis(),
        fb.procedure(
            "resection", resection, performed=fb.days_before(700), reason="Condition/primary"
        ),
        fb.ki67_pct("ki67", fb.days_before(720), 4),
        fb.disease_status("course-1", fb.days_before(400), "stable"),
        fb.disease_status("course-2", fb.days_before(30), "improved"),
        fb.assessment("burden", "hepatic-tumour-burden", fb.days_before(40), fb.v_quantity(30)),
        fb.assessment("staging", "extrahepatic-disease", fb.days_before(40), fb.v_bool(False)),
        fb.pattern("pattern", fb.days_before(40), "type-iii"),
        fb.assessment(
            "resectable", "hepatic-disease-resectable", fb.days_before(40), fb.v_bool(False)
        ),
        fb.assessment("flr", "future-liver-remnant", fb.days_before(40), fb.v_quantity(35)),
        fb.bilirubin_mg("bili", fb.days_before(10), 0.6),
        fb.platelets("plt", fb.days_before(10), 180),
        fb.ecog("ecog", fb.days_before(40), 1),
    )
    return evaluate_bundle(bundle, fb.EVALUATION_DATE)


def older_with_missing_data() -> Result:
    """Return a 56-year-old with little recorded: transplant ineligible, resection open.

    The platelet count carries a unit nobody recognises, so the result has a warning.
    """
    odd_unit = {"valueQuantity": {"value": 150, "unit": "cells*x_per [field]"}}
    bundle = _bundle(
        fb.patient("1970-01-01", family="Older", given="Otto"),
        _liver_metastasis(),
        fb.ki67_pct("ki67", "2026-01-10", 8),
        fb.platelets("plt", fb.days_before(5), None, value=odd_unit),
    )
    return evaluate_bundle(bundle, fb.EVALUATION_DATE)


def young_undocumented() -> Result:
    """Return a 40-year-old with only the liver metastases recorded: every set open."""
    bundle = _bundle(fb.patient("1986-03-03", family="Young", given="Yara"), _liver_metastasis())
    return evaluate_bundle(bundle, fb.EVALUATION_DATE)


def all_eligible() -> Result:
    """Return the transplant candidate with every criterion of every set met (synthetic)."""
    result = copy.deepcopy(transplant_candidate())
    for assessment in result["assessments"]:
        assessment["status"] = "eligible"
        assessment["summary"] = f"{assessment['title']}: eligible."
        for criterion in assessment["criteria"]:
            criterion["status"] = "met"
            criterion["needs"] = []
    return result


STORIES = {
    "transplant_candidate": transplant_candidate,
    "older_with_missing_data": older_with_missing_data,
    "young_undocumented": young_undocumented,
    "all_eligible": all_eligible,
}
