"""Load the demo patients into a FHIR server, in transactions the server accepts.

Every resource is written with ``PUT Type/id``, so seeding twice leaves the same
resources (no duplicates), and the demo ids (``demo-transplant`` ...) are the ids
the service and the README use.

Servers limit transactions (some to 50 or 100 entries, some by bytes), so the entries
go in transactions of at most ``batch_size`` (50), ordered so that a resource comes
after those it references (Patient, Condition, then Observation and Procedure): a
server that checks references on write finds them already stored. A transaction the
server refuses as a whole (400, 413, 422) is split in halves and sent again, down to
one entry; when a single entry is refused, seeding stops with :class:`SeedError`, whose
message carries the server's own words (its OperationOutcome) and the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from service.demo_store import DemoStore
from service.fhir import Allowlist, BearerToken, FhirClient, FhirError

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "SeedError",
    "SeedSummary",
    "demo_entries",
    "demo_transaction",
    "outcome_text",
    "seed_demo_patients",
]

DEFAULT_BATCH_SIZE = 50
_TYPE_ORDER = {"Patient": 0, "Condition": 1, "Observation": 2, "Procedure": 3}
_SPLIT_ON = frozenset({400, 413, 422})

Entry = dict[str, Any]


class SeedError(Exception):
    """Seeding stopped; the message says which entry and the server's reason."""


@dataclass(frozen=True)
class SeedSummary:
    """What a seed wrote: the patient ids, the number of resources and of transactions."""

    patients: tuple[str, ...]
    resources: int
    transactions: int = 1


def demo_entries(store: DemoStore) -> list[Entry]:
    """Return every demo resource as a transaction entry (PUT by id), referenced ones first."""
    entries: list[Entry] = []
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
    return sorted(entries, key=lambda e: _TYPE_ORDER.get(e["resource"]["resourceType"], 9))


def demo_transaction(store: DemoStore) -> dict[str, Any]:
    """Return one transaction Bundle holding every demo patient's resources (PUT by id)."""
    return _transaction(demo_entries(store))


def _transaction(entries: Sequence[Entry]) -> dict[str, Any]:
    cleaned = [{k: v for k, v in e.items() if v is not None} for e in entries]
    return {"resourceType": "Bundle", "type": "transaction", "entry": cleaned}


def outcome_text(error: FhirError) -> str:
    """Return the server's own words from an error's OperationOutcome (or its status)."""
    outcome = error.outcome if isinstance(error.outcome, dict) else {}
    texts: list[str] = []
    for issue in outcome.get("issue") or ():
        if not isinstance(issue, dict):
            continue
        details = issue.get("details")
        words = issue.get("diagnostics") or (
            details.get("text") if isinstance(details, dict) else None
        )
        if isinstance(words, str) and words.strip():
            texts.append(" ".join(words.split())[:300])
    if texts:
        return "; ".join(dict.fromkeys(texts))
    return f"HTTP {error.status}" if error.status else error.message


def send_in_batches(
    send: Callable[[dict[str, Any]], object], entries: Sequence[Entry], batch_size: int
) -> int:
    """Send ``entries`` as transactions of at most ``batch_size``; return how many were sent.

    A refused transaction (400/413/422) is split in two and each half sent again.
    Raises :class:`SeedError` when one entry alone is refused, :class:`FhirError` for
    any other failure (unreachable, credentials, 5xx).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    sent = 0
    pending = [list(entries[i : i + batch_size]) for i in range(0, len(entries), batch_size)]
    while pending:
        batch = pending.pop(0)
        try:
            send(_transaction(batch))
        except FhirError as error:
            if error.status not in _SPLIT_ON:
                raise
            if len(batch) == 1:
                where = batch[0]["request"]["url"]
                raise SeedError(
                    f"the server refused {where} ({error.status}): {outcome_text(error)}"
                ) from error
            half = len(batch) // 2
            pending[:0] = [batch[:half], batch[half:]]
            continue
        sent += 1
    return sent


def seed_demo_patients(
    base_url: str,
    *,
    token: str | None = None,
    timeout: tuple[float, float] = (3.05, 60.0),
    store: DemoStore | None = None,
    allow_http: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> SeedSummary:
    """PUT the demo patients into ``base_url``; raise :class:`SeedError` or ``FhirError``.

    The server named on the command line is the one allowed; nothing else is called.
    Plain http off loopback needs ``allow_http`` (e.g. inside a compose network).
    """
    demo = store or DemoStore.load()
    entries = demo_entries(demo)
    with FhirClient(
        base_url,
        allowlist=Allowlist([base_url], allow_http=allow_http),
        auth=BearerToken(token) if token else None,
        timeout=timeout,
    ) as client:
        transactions = send_in_batches(client.transaction, entries, batch_size)
    return SeedSummary(tuple(demo.patient_ids()), len(entries), transactions)
