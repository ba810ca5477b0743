"""Choose the patients to survey and fetch everything the survey reads about them.

Patients given by id are taken as they are. Otherwise the probe looks for patients with
a liver-metastasis Condition: first by the codes the service reads
(``Condition?code=...``), then, when that finds fewer than asked for, by reading
Conditions page by page (at most ``scan_limit`` resources) and keeping those whose
*text* says liver metastasis under a code the service does not read: exactly the
patients a site's local codes hide from the service.

Per patient the probe fetches the Patient and **every** Observation, Condition and
Procedure (no code filter, unlike the service, and by the typed ``patient=Patient/<id>``
that every server understands), so local codes show up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from service.fhir import FhirClient, FhirError
from service.fhir.queries import escape_search_value
from service.mappers.codes import Terminology
from service.probe.inventory import is_read
from service.probe.suggest import suggest

__all__ = ["Sample", "fetch_records", "find_patients", "richest_record"]

PAGE_SIZE = 200


@dataclass
class Sample:
    """The patients chosen, how each was found, and patients that could not be read."""

    patients: list[str] = field(default_factory=list)
    how: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def _patient_id(resource: dict[str, Any]) -> str | None:
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if not isinstance(reference, str) or "Patient/" not in reference:
        return None
    return reference.rsplit("Patient/", 1)[1].split("/")[0] or None


def _add(sample: Sample, ids: Iterable[str | None], how: str, wanted: int) -> None:
    for patient in ids:
        if patient is not None and patient not in sample.how and len(sample.patients) < wanted:
            sample.patients.append(patient)
            sample.how[patient] = how


def find_patients(
    client: FhirClient, terminology: Terminology, wanted: int, *, scan_limit: int = 2000
) -> Sample:
    """Return up to ``wanted`` patients with a liver-metastasis Condition (see module notes)."""
    sample = Sample()
    codes = sorted(terminology.conditions["liver_metastasis"].exact)
    tokens = ",".join(f"{escape_search_value(s)}|{escape_search_value(c)}" for s, c in codes)
    for page in client.search_pages("Condition", [("code", tokens), ("_count", str(PAGE_SIZE))]):
        _add(sample, (_patient_id(r) for r in page), "liver-metastasis code", wanted)
        if len(sample.patients) >= wanted:
            return sample
    scanned = 0
    for page in client.search_pages("Condition", [("_count", str(PAGE_SIZE))]):
        for resource in page:
            scanned += 1
            if is_read(resource, terminology):
                continue
            concept = resource.get("code")
            texts = [concept.get("text")] if isinstance(concept, dict) else []
            for coding in concept.get("coding") or () if isinstance(concept, dict) else ():
                if isinstance(coding, dict):
                    texts.append(coding.get("display"))
            text = " ".join(t for t in texts if isinstance(t, str))
            hint = suggest("Condition", text, terminology)
            if hint is not None and hint.name == "liver_metastasis":
                _add(sample, [_patient_id(resource)], "liver metastasis in local-code text", wanted)
        if len(sample.patients) >= wanted or scanned >= scan_limit:
            break
    return sample


def fetch_records(client: FhirClient, sample: Sample) -> dict[str, list[dict[str, Any]]]:
    """Return every sampled patient's Patient, Observations, Conditions and Procedures.

    A patient who cannot be fetched is left out, with the reason in ``sample.problems``.
    """
    records: dict[str, list[dict[str, Any]]] = {}
    for patient in sample.patients:
        try:
            resources = [client.read("Patient", patient)]
            for resource_type in ("Observation", "Condition", "Procedure"):
                # The typed reference is valid FHIR on every server (the search checks
                # test the plain id the service sends): the survey is about the data.
                resources += client.search(
                    resource_type, [("patient", f"Patient/{patient}"), ("_count", str(PAGE_SIZE))]
                )
        except (FhirError, ValueError) as exc:
            sample.problems[patient] = str(exc)
            continue
        records[patient] = resources
    return records


def richest_record(records: dict[str, list[dict[str, Any]]], patients: list[str]) -> str:
    """Return the patient (of ``patients``, all in ``records``) whose record holds the
    most of Observation, Condition and Procedure, then the most resources; the first on a
    tie. The search checks use this patient: a check on a type the patient has none of
    proves nothing (both forms of ``patient=`` find nothing)."""

    def richness(patient: str) -> tuple[int, int]:
        kinds = {r.get("resourceType") for r in records[patient]}
        return len(kinds & {"Observation", "Condition", "Procedure"}), len(records[patient])

    return max(patients, key=richness)  # max keeps the first of equals
