"""From a Bundle (or a list of resources) to one patient's record.

The envelope is read by hand rather than validated as a whole, so that one
unreadable resource becomes a warning instead of failing the evaluation; each
resource that matters is validated on its own later.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from service.criteria.inputs import Warning
from service.mappers.errors import BundleError
from service.mappers.reading import Entry, make_entry

__all__ = ["PatientRecord", "load_bundle_json", "record_from_bundle", "record_from_resources"]

CLINICAL_TYPES = frozenset({"Observation", "Condition", "Procedure"})


@dataclass(frozen=True)
class PatientRecord:
    """One patient's resources, ready for mapping, and warnings found so far."""

    patient: Entry
    resources: tuple[Entry, ...]
    warnings: tuple[Warning, ...]


def load_bundle_json(text: str | bytes) -> Any:
    """Parse JSON with exact decimals; raise :class:`BundleError` on invalid JSON."""
    try:
        return json.loads(text, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"the input is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise BundleError("the input is nested too deeply") from exc


def _bundle_entries(bundle: Any) -> tuple[list[Entry], list[Warning]]:
    if not isinstance(bundle, dict):
        raise BundleError("the input is not a FHIR Bundle (expected a JSON object)")
    resource_type = bundle.get("resourceType")
    if resource_type != "Bundle":
        raise BundleError(f"the input is not a FHIR Bundle (resourceType is {resource_type!r})")
    raw_entries = bundle.get("entry", [])
    if not isinstance(raw_entries, list):
        raise BundleError("Bundle.entry is not a list")
    entries: list[Entry] = []
    warnings: list[Warning] = []
    for index, raw in enumerate(raw_entries):
        resource = raw.get("resource") if isinstance(raw, dict) else None
        if resource is None and isinstance(raw, dict) and "response" in raw:
            continue  # a transaction-response entry without a resource carries no data
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            warnings.append(Warning(f"Bundle.entry[{index}]", "entry has no readable resource"))
            continue
        full_url = raw.get("fullUrl") if isinstance(raw, dict) else None
        entries.append(make_entry(resource, full_url, index))
    return entries, warnings


def _choose_patient(patients: list[Entry], patient_id: str | None) -> Entry:
    if not patients:
        raise BundleError("the Bundle holds no Patient resource")
    if patient_id is not None:
        for entry in patients:
            if patient_id in (entry.id, entry.resource.get("id"), entry.full_url):
                return entry
        raise BundleError(f"the Bundle holds no Patient with id '{patient_id}'")
    distinct = {entry.reference for entry in patients}
    if len(distinct) > 1:
        raise BundleError(
            f"the Bundle holds {len(distinct)} Patients; choose one with --patient ID"
        )
    return patients[-1]


def record_from_bundle(bundle: Any, patient_id: str | None = None) -> PatientRecord:
    """Return the record of the Bundle's patient (``patient_id`` picks one of several).

    Raises :class:`BundleError` when the input is not a Bundle, holds no Patient, or
    holds several Patients and none was chosen.
    """
    entries, warnings = _bundle_entries(bundle)
    patients = [e for e in entries if e.resource_type == "Patient"]
    patient = _choose_patient(patients, patient_id)
    single = len({p.reference for p in patients}) == 1
    others = [e for e in entries if e.resource_type != "Patient"]
    return record_from_resources(patient, others, single_patient=single, warnings=warnings)


def _subject_reference(entry: Entry) -> str | None | bool:
    """Return the subject reference, ``None`` if there is no subject, ``False`` if the
    subject cannot be resolved to a reference (identifier or display only)."""
    subject = entry.resource.get("subject")
    if subject is None:
        return None
    if isinstance(subject, dict) and isinstance(subject.get("reference"), str):
        return str(subject["reference"])
    return False


def _refers_to(reference: str, patient: Entry) -> bool:
    bare = reference.split("/_history/", 1)[0]
    if bare in patient.aliases():
        return True
    return bare.endswith(f"/Patient/{patient.id}") or bare == f"Patient/{patient.id}"


def record_from_resources(
    patient: Entry,
    resources: Iterable[Entry],
    *,
    single_patient: bool = True,
    warnings: Iterable[Warning] = (),
) -> PatientRecord:
    """Keep the clinical resources that belong to ``patient``.

    A resource whose subject is another patient is not used (with one Patient in the
    input, it is reported); without a subject it belongs to the patient only when the
    input holds one Patient.
    """
    kept: list[Entry] = []
    notes = list(warnings)
    for entry in resources:
        if entry.resource_type not in CLINICAL_TYPES:
            continue
        subject = _subject_reference(entry)
        if subject is None or subject is False:
            if single_patient:
                kept.append(entry)
            else:
                notes.append(Warning(entry.reference, "no subject: cannot tell whose it is"))
            continue
        if _refers_to(str(subject), patient):
            kept.append(entry)
        elif single_patient:
            notes.append(
                Warning(entry.reference, f"subject {subject} is another patient; not used")
            )
    return PatientRecord(patient, tuple(kept), tuple(notes))
