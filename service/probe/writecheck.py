"""The RiskAssessment write check (opt-in: ``--write-check``): can the service write back?

The service writes with ``PUT RiskAssessment/{id}`` (:mod:`service.writeback`). The probe
does the same with a resource built to leave nothing a clinician would see:

- id ``nelm-probe-<random>``, never an id the service uses (``nelm-<hex>``);
- ``status: entered-in-error``, which FHIR defines as "this should not have existed" and
  EHRs leave out of the chart; its note says it is an onboarding write check;
- ``subject`` the sampled patient (RiskAssessment.subject is required), no prediction;

then reads it back and **deletes** it. If the server refuses the delete, the report
says so and names the id: the resource stays, as entered-in-error. Without
``--write-check`` only the CapabilityStatement is consulted: no write is made.
"""

from __future__ import annotations

import secrets
from typing import Any

from service.fhir import FhirClient, FhirError
from service.probe.checks import Check

__all__ = ["probe_resource", "write_check"]

NOTE = (
    "NELM-CDS onboarding probe: write check. Not a clinical assessment; written as "
    "entered-in-error and deleted at once."
)


def probe_resource(patient: str) -> dict[str, Any]:
    """Return the throw-away RiskAssessment of the write check."""
    return {
        "resourceType": "RiskAssessment",
        "id": f"nelm-probe-{secrets.token_hex(8)}",
        "status": "entered-in-error",
        "subject": {"reference": f"Patient/{patient}"},
        "note": [{"text": NOTE}],
    }


def write_check(client: FhirClient, patient: str) -> list[Check]:
    """Write, read back and delete a throw-away RiskAssessment; return what happened."""
    resource = probe_resource(patient)
    where = f"RiskAssessment/{resource['id']}"
    try:
        client.update(resource)
    except FhirError as exc:
        return [Check("RiskAssessment write (PUT)", "fail", f"refused: {exc}")]
    checks = [Check("RiskAssessment write (PUT)", "ok", f"{where} written (entered-in-error)")]
    try:
        stored = client.read("RiskAssessment", resource["id"])
        same = stored.get("status") == "entered-in-error"
        checks.append(
            Check(
                "RiskAssessment read back",
                "ok" if same else "warning",
                "read back as written" if same else "read back with another status",
            )
        )
    except FhirError as exc:
        checks.append(Check("RiskAssessment read back", "fail", f"{exc}"))
    try:
        client.delete("RiskAssessment", resource["id"])
        checks.append(Check("clean-up (DELETE)", "ok", f"{where} deleted"))
    except FhirError as exc:
        checks.append(
            Check(
                "clean-up (DELETE)",
                "warning",
                f"the server refused to delete {where} ({exc}); it stays as entered-in-error",
            )
        )
    return checks
