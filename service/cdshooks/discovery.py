"""The ``nelm-eligibility`` CDS Service described as data: discovery entry and prefetch.

Each prefetch template is a :class:`PrefetchTemplate`, used twice: rendered into the
discovery response for the CDS client, and turned into the same FHIR request when the
service fetches a key the client did not prefetch (the CDS Hooks rule: prefetched data
must equal what the service would get by calling the FHIR server with the template).

The definition carries one ``extension`` (CDS Hooks 2.0 reserves ``extension`` for
this; its property is named in reverse-domain notation, :data:`SOURCE_ATTRIBUTES_EXTENSION`):
the HTI-1 source attributes of every criteria set, 45 CFR 170.315(b)(11)(iv)(A), and the
address of the criteria documentation (:mod:`service.criteria.transparency`).

Templates keep to the CDS Hooks prefetch query restrictions: an instance read of the
Patient, and type-level searches by ``patient={{context.patientId}}`` with token
equality on ``code`` only. Observations are narrowed to the codes the mappers read
(:func:`service.fhir.queries.observation_code_param`, site mapping included);
Conditions and Procedures are not narrowed, because the mappers match code families by
prefix (C77.x, C79.x, K71.x) and recognise a resection by its ``reasonReference``,
which a token search cannot express.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.criteria import DEFAULT_SETS
from service.criteria.transparency import REGULATION, source_attributes_json
from service.fhir.queries import observation_code_param
from service.mappers.codes import Terminology

__all__ = [
    "HOOK",
    "PATIENT_TOKEN",
    "PREFETCH_KEYS",
    "SERVICE_ID",
    "SOURCE_ATTRIBUTES_EXTENSION",
    "PrefetchTemplate",
    "discovery_response",
    "prefetch_templates",
    "service_definition",
]

SERVICE_ID = "nelm-eligibility"
HOOK = "patient-view"
PATIENT_TOKEN = "{{context.patientId}}"
PREFETCH_KEYS = ("patient", "observations", "conditions", "procedures")
SOURCE_ATTRIBUTES_EXTENSION = "io.github.nelm-cds.dsi-source-attributes"

TITLE = "NELM transplant and resection eligibility"
DESCRIPTION = (
    "For a patient with liver metastases of a neuroendocrine tumour (NELM), evaluates "
    "eligibility for liver transplantation (Milan-NET, ENETS 2016, OPTN/UNOS "
    "MELD-exception criteria) and for curative-intent hepatic resection, with three-"
    "valued logic: each criteria set is eligible, not eligible or undecided, and an "
    "undecided set names the data to record. Returns no card for patients without a "
    "NET liver-metastasis Condition. Decision support for the multidisciplinary team "
    "(MDT): it supports, and does not replace, the MDT."
)
USAGE_REQUIREMENTS = (
    "Reads Patient, Observation, Condition and Procedure: prefetched, or fetched from "
    "fhirServer with fhirAuthorization (patient/*.rs or user/*.rs scopes for these "
    "types). fhirServer must be on the service's FHIR allowlist."
)


@dataclass(frozen=True)
class PrefetchTemplate:
    """One prefetch key: a read of ``resource_type`` by the patient id, or a search.

    ``params`` are the search parameters besides ``patient`` (already escaped as FHIR
    search values require); a read has none.
    """

    key: str
    resource_type: str
    read: bool = False
    params: tuple[tuple[str, str], ...] = ()

    def render(self) -> str:
        """Return the template as the discovery response states it."""
        if self.read:
            return f"{self.resource_type}/{PATIENT_TOKEN}"
        query = "&".join(f"{name}={value}" for name, value in self.search_params(PATIENT_TOKEN))
        return f"{self.resource_type}?{query}"

    def search_params(self, patient_id: str) -> list[tuple[str, str]]:
        """Return the search parameters for ``patient_id`` (unencoded pairs)."""
        return [("patient", patient_id), *self.params]


def prefetch_templates(terminology: Terminology) -> tuple[PrefetchTemplate, ...]:
    """Return the service's four prefetch templates for the code sets in force."""
    codes = observation_code_param(terminology)
    observation_params = (("code", codes),) if codes is not None else ()
    return (
        PrefetchTemplate("patient", "Patient", read=True),
        PrefetchTemplate("observations", "Observation", params=observation_params),
        PrefetchTemplate("conditions", "Condition"),
        PrefetchTemplate("procedures", "Procedure"),
    )


def source_attributes_extension(documentation_url: str | None = None) -> dict[str, Any]:
    """Return the value of the :data:`SOURCE_ATTRIBUTES_EXTENSION` extension property."""
    value: dict[str, Any] = {
        "regulation": REGULATION,
        "interventionType": "evidence-based",
        "criteriaSets": source_attributes_json(DEFAULT_SETS),
    }
    if documentation_url is not None:
        value["documentation"] = documentation_url
    return value


def service_definition(
    terminology: Terminology, documentation_url: str | None = None
) -> dict[str, Any]:
    """Return the discovery entry of ``nelm-eligibility``; ``documentation_url`` is the
    absolute address of ``GET /criteria``."""
    return {
        "hook": HOOK,
        "title": TITLE,
        "description": DESCRIPTION,
        "id": SERVICE_ID,
        "prefetch": {t.key: t.render() for t in prefetch_templates(terminology)},
        "usageRequirements": USAGE_REQUIREMENTS,
        "extension": {SOURCE_ATTRIBUTES_EXTENSION: source_attributes_extension(documentation_url)},
    }


def discovery_response(
    terminology: Terminology, documentation_url: str | None = None
) -> dict[str, Any]:
    """Return the body of ``GET /cds-services``."""
    return {"services": [service_definition(terminology, documentation_url)]}
