"""Load the demo patients into a FHIR server as one transaction.

Every resource is written with ``PUT Type/id``, so seeding twice leaves the same
resources (no duplicates), and the demo ids (``demo-transplant`` ...) are the ids
the service and the README use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.demo_store import DemoStore
from service.fhir import Allowlist, BearerToken, FhirClient

__all__ = ["SeedSummary", "demo_transaction", "seed_demo_patients"]


@dataclass(frozen=True)
class SeedSummary:
    """What a seed wrote: the patient ids and the number of resources."""

    patients: tuple[str, ...]
    resources: int


def demo_transaction(store: DemoStore) -> dict[str, Any]:
    """Return one transaction Bundle holding every demo patient's resources (PUT by id)."""
    entries: list[dict[str, Any]] = []
    for patient_id in store.patient_ids():
        for entry in store.bundles[patient_id].get("entry", []):
            resource = entry["resource"]
            entries.append(
                {
                    "fullUrl": entry.get("fullUrl"),
                    "resource": resource,
                    "request": {
                        "method": "PUT",
                        "url": f"{resource['resourceType']}/{resource['id']}",
                    },
                }
            )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def seed_demo_patients(
    base_url: str,
    *,
    token: str | None = None,
    timeout: tuple[float, float] = (3.05, 60.0),
    store: DemoStore | None = None,
    allow_http: bool = False,
) -> SeedSummary:
    """POST the demo transaction to ``base_url``; raise a ``FhirError`` if it fails.

    The server named on the command line is the one allowed; nothing else is called.
    Plain http off loopback needs ``allow_http`` (e.g. inside a compose network).
    """
    demo = store or DemoStore.load()
    bundle = demo_transaction(demo)
    with FhirClient(
        base_url,
        allowlist=Allowlist([base_url], allow_http=allow_http),
        auth=BearerToken(token) if token else None,
        timeout=timeout,
    ) as client:
        client.transaction(bundle)
    return SeedSummary(tuple(demo.patient_ids()), len(bundle["entry"]))
