"""A hospital that codes locally: the demo patients re-coded with a site's own codes.

Every Observation, Condition and Procedure code the service reads is replaced by a local
code (system ``urn:oid:1.2.826.0.1.999999.<n>``) with the display a local system would
show, so the service reads none of them until a site-codes file maps them. Ids get a
``site-`` prefix so the set lives beside the demo patients on one server. Added noise:
codes the service must not read (a direct bilirubin, a mean platelet volume, creatinine),
which the probe must not propose for the criteria.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from service.demo_store import DemoStore
from service.fhir.answers import json_default

__all__ = ["LOCAL_LAB", "LOCAL_DX", "NOISE", "local_site_bundles", "local_transaction"]

LOCAL_LAB = "urn:oid:1.2.826.0.1.999999.1"
LOCAL_DX = "urn:oid:1.2.826.0.1.999999.2"
LOCAL_PX = "urn:oid:1.2.826.0.1.999999.3"
LOCAL_MDT = "urn:oid:1.2.826.0.1.999999.4"

RECODE: dict[tuple[str, str], tuple[str, str, str]] = {
    ("http://loinc.org", "1975-2"): (LOCAL_LAB, "BILI-T", "Bilirubin, total (local 1234)"),
    ("http://loinc.org", "14631-6"): (LOCAL_LAB, "BILI-T-SI", "Bilirubin total umol/L"),
    ("http://loinc.org", "777-3"): (LOCAL_LAB, "PLT", "Platelet count"),
    ("http://loinc.org", "29593-1"): (LOCAL_LAB, "KI67", "Ki-67 proliferation index"),
    ("http://loinc.org", "33732-9"): (LOCAL_LAB, "GRADE", "Tumour grade (WHO)"),
    ("http://loinc.org", "89247-1"): (LOCAL_LAB, "ECOG", "ECOG performance status"),
    ("http://loinc.org", "97509-4"): (LOCAL_LAB, "DZSTAT", "Disease status (RECIST)"),
    **{
        ("https://nelm-cds.github.io/fhir/CodeSystem/nelm-assessment", code): (
            LOCAL_MDT,
            f"MDT-{index}",
            display,
        )
        for index, (code, display) in enumerate(
            [
                ("extrahepatic-disease", "MDT staging: extrahepatic disease present"),
                ("future-liver-remnant", "Future liver remnant (%)"),
                ("hepatic-disease-resectable", "MDT: all liver metastases resectable"),
                ("hepatic-tumour-burden", "Hepatic tumour burden (% of liver)"),
                ("metastatic-pattern", "Metastatic pattern (Frilling)"),
                ("primary-resectable", "MDT: primary tumour resectable"),
                ("refractory-hormonal-syndrome", "Refractory hormonal syndrome"),
            ]
        )
    },
    ("http://hl7.org/fhir/sid/icd-10-cm", "C25.4"): (LOCAL_DX, "PNET", "Pancreatic NET"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "C78.7"): (LOCAL_DX, "LIVMET", "Liver metastases"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "C7B.02"): (
        LOCAL_DX,
        "NETLIV",
        "Metastatic neuroendocrine tumour to liver",
    ),
    ("http://hl7.org/fhir/sid/icd-10-cm", "C7A.011"): (LOCAL_DX, "NET-JEJ", "NET of jejunum"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "C7A.012"): (
        LOCAL_DX,
        "NET-ILE",
        "Neuroendocrine tumour of ileum",
    ),
    ("http://hl7.org/fhir/sid/icd-10-cm", "C7A.019"): (
        LOCAL_DX,
        "NET-SI",
        "Neuroendocrine tumour, small bowel",
    ),
    ("http://hl7.org/fhir/sid/icd-10-cm", "C7B.03"): (LOCAL_DX, "BONEMET", "Bone metastases"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "E34.00"): (LOCAL_DX, "CARC-SYN", "Carcinoid syndrome"),
    ("http://snomed.info/sct", "107938000"): (LOCAL_PX, "SB-RES", "Small bowel resection"),
}
"""Shipped code → (local system, local code, local display)."""

NOISE = (
    (LOCAL_LAB, "BILI-D", "Bilirubin, direct", 0.2, "mg/dL"),
    (LOCAL_LAB, "MPV", "Mean platelet volume", 10.1, "fL"),
    (LOCAL_LAB, "CREA", "Creatinine", 0.9, "mg/dL"),
)
"""Local labs the service must not read (system, code, display, value, unit)."""


def _recode(resource: dict[str, Any]) -> None:
    concept = resource.get("code")
    if not isinstance(concept, dict):
        return
    for coding in concept.get("coding", []):
        local = RECODE.get((coding.get("system"), coding.get("code")))
        if local is not None:
            system, code, display = local
            concept["coding"] = [{"system": system, "code": code, "display": display}]
            concept.pop("text", None)
            return


def _prefix(value: Any, old: str, new: str) -> Any:
    text = json.dumps(value, default=json_default)
    return json.loads(text.replace(f'"Patient/{old}"', f'"Patient/{new}"'))


def local_site_bundles(store: DemoStore | None = None) -> dict[str, dict[str, Any]]:
    """Return the demo patients re-coded locally, by their ``site-`` patient id."""
    store = store or DemoStore.load()
    bundles: dict[str, dict[str, Any]] = {}
    for patient_id in store.patient_ids():
        bundle = _prefix(copy.deepcopy(store.bundles[patient_id]), patient_id, f"site-{patient_id}")
        entries = bundle["entry"]
        for entry in entries:
            resource = entry["resource"]
            resource["id"] = f"site-{resource['id']}"
            entry.pop("fullUrl", None)
            entry.pop("request", None)
            _recode(resource)
            for field in ("reasonReference",):
                for reference in resource.get(field, []):
                    ref = reference.get("reference", "")
                    kind, _, rid = ref.partition("/")
                    if rid and not rid.startswith("site-"):
                        reference["reference"] = f"{kind}/site-{rid}"
        for number, (system, code, display, value, unit) in enumerate(NOISE):
            entries.append(
                {
                    "resource": {
                        "resourceType": "Observation",
                        "id": f"site-{patient_id}-noise-{number}",
                        "status": "final",
                        "code": {"coding": [{"system": system, "code": code, "display": display}]},
                        "subject": {"reference": f"Patient/site-{patient_id}"},
                        "effectiveDateTime": "2026-01-05",
                        "valueQuantity": {"value": value, "unit": unit},
                    }
                }
            )
        bundles[f"site-{patient_id}"] = bundle
    return bundles


def local_transaction(bundles: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Return one transaction Bundle that PUTs every resource of ``bundles``."""
    entries = [
        {
            "resource": entry["resource"],
            "request": {
                "method": "PUT",
                "url": f"{entry['resource']['resourceType']}/{entry['resource']['id']}",
            },
        }
        for bundle in bundles.values()
        for entry in bundle["entry"]
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
