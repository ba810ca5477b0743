"""``--write-back``: a RiskAssessment for every screened patient with a NET liver metastasis.

The same resource as ``POST /api/patients/{id}/risk-assessment`` writes (built by
:func:`service.writeback.build_risk_assessment`, written with a PUT to the id derived
from the evaluation, through :class:`service.sources.FhirSource`): writing the same
evaluation again changes nothing, so a resumed or repeated run is safe. Patients whose
liver metastasis is not a present NET one get none, as they get no card; nor do patients
recorded as deceased on or before the evaluation date (criteria.md §7: no RiskAssessment
for a date after death; counted as ``deceased``). A failure for
one patient is counted (with the reason in words) and the others are still written.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from service.errors import ServiceError
from service.screening.store import Store
from service.sources import PatientSource
from service.writeback import WritebackError, build_risk_assessment, risk_assessment_id

__all__ = ["write_back"]


def write_back(store: Store, source: PatientSource) -> dict[str, Any]:
    """Write the RiskAssessments; return counts (``created``, ``unchanged``, ``failed``,
    ``deceased``: not written) and the first few failure reasons."""
    counts: Counter[str] = Counter()
    reasons: list[str] = []
    for _, body, summary_text in store.results():
        summary = json.loads(summary_text)
        if not body or not summary.get("net"):
            continue
        if summary.get("deceased"):
            counts["deceased"] += 1
            continue
        try:
            resource = build_risk_assessment(  # occurrence: the evaluation date (§5)
                json.loads(body),
                liver_metastasis_reference=summary.get("liverMetastasis"),
                code_names=summary.get("codeNames"),
            )
            resource["id"] = risk_assessment_id(resource)
            written = source.write_risk_assessment(resource)
        except (ServiceError, WritebackError) as exc:
            counts["failed"] += 1
            if len(reasons) < 10:
                reasons.append(f"{summary['patient']}: {exc}")
            continue
        counts["created" if written.created else "unchanged"] += 1
    counted = ("created", "unchanged", "failed", "deceased")
    return {**{k: counts[k] for k in counted}, "failures": reasons}
