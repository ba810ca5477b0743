"""From a Bundle (or a list of resources) to one patient's record.

The envelope is read by hand rather than validated as a whole, so that one
unreadable resource becomes a warning instead of failing the evaluation; each
resource that matters is validated on its own later.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from service.criteria.inputs import Warning
from service.mappers.errors import BundleError
from service.mappers.json_text import JsonTextError, parse_json
from service.mappers.outcomes import is_outcome_entry, outcome_warnings
from service.mappers.reading import Entry, make_entry
from service.records import Struct

__all__ = ["PatientRecord", "load_bundle_json", "record_from_bundle", "record_from_resources"]

CLINICAL_TYPES = frozenset({"Observation", "Condition", "Procedure"})


class PatientRecord(Struct, frozen=True):
    """One patient's resources, ready for mapping, and warnings found so far."""

    patient: Entry
    resources: tuple[Entry, ...]
    warnings: tuple[Warning, ...]


def load_bundle_json(text: str | bytes) -> Any:
    """Parse JSON with :func:`~service.mappers.json_text.parse_json` (exact decimals,
    hostile numbers kept as such); raise :class:`BundleError` on invalid JSON."""
    try:
        return parse_json(text)
    except JsonTextError as exc:
        raise BundleError(str(exc)) from exc


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
        if type(raw) is dict and "response" not in raw and "search" not in raw:
            # The common entry (a collection's, or a search's without a mode): a resource
            # with a type that is not an OperationOutcome; everything else, below.
            resource = raw.get("resource")
            if type(resource) is dict:
                kind = resource.get("resourceType")
                if type(kind) is str and kind != "OperationOutcome":
                    entries.append(make_entry(resource, raw.get("fullUrl"), index, kind))
                    continue
        resource = raw.get("resource") if isinstance(raw, dict) else None
        response = raw.get("response") if isinstance(raw, dict) else None
        if isinstance(response, dict) and "outcome" in response:
            warnings.extend(outcome_warnings(response["outcome"], f"Bundle.entry[{index}]"))
        if is_outcome_entry(raw):
            name = make_entry(resource, None, index).reference if resource else None
            warnings.extend(outcome_warnings(resource, name or f"Bundle.entry[{index}]"))
            continue
        if resource is None and isinstance(response, dict):
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
    # record_from_resources leaves the Patients out itself
    return record_from_resources(patient, entries, single_patient=single, warnings=warnings)


def _subject_reference(entry: Entry) -> str | None | bool:
    """Return the subject reference, ``None`` if there is no subject, ``False`` if the
    subject cannot be resolved to a reference (identifier or display only)."""
    subject = entry.resource.get("subject")
    if subject is None:
        return None
    if isinstance(subject, dict) and isinstance(subject.get("reference"), str):
        return str(subject["reference"])
    return False


def _base(url: str | None) -> str | None:
    """Return the server base of an absolute ``[base]/Type/id`` URL, else ``None``."""
    if url is None or "://" not in url:
        return None
    parts = url.split("/_history/", 1)[0].rsplit("/", 2)
    return parts[0] if len(parts) == 3 else None


def _own_names(patient: Entry) -> frozenset[str]:
    """Return the names that are exactly the patient's: ``Patient/<id>`` and its fullUrl."""
    return patient.aliases() | {f"Patient/{patient.id}"}


def _refers_to(reference: str, patient: Entry, entry: Entry) -> bool:
    """Say whether a subject reference is the patient's own (criteria.md §7).

    ``Patient/<id>``, the Patient's ``fullUrl`` (``urn:uuid:`` included), or an absolute
    URL of ``Patient/<id>`` whose base is the referring entry's or the Patient's own (a
    server's base). An absolute URL on another server is not the patient's; when neither
    entry has an absolute ``fullUrl`` (a collection of relative resources) no base is
    known, and the URL is taken to be on the Bundle's own server.
    """
    bare = reference.split("/_history/", 1)[0]
    if bare in _own_names(patient):
        return True
    if not bare.endswith(f"/Patient/{patient.id}"):
        return False
    known = {base for base in (_base(patient.full_url), _base(entry.full_url)) if base}
    return not known or _base(bare) in known


def record_from_resources(
    patient: Entry,
    resources: Iterable[Entry],
    *,
    single_patient: bool = True,
    warnings: Iterable[Warning] = (),
) -> PatientRecord:
    """Keep the resources that belong to ``patient`` (any type but Patient; the mappers
    read the types they know, and look into every resource for ``contained`` ones).

    A resource whose subject is another patient is not used, and a warning says how many
    were left out: with one Patient in the input each one is named (it should not be
    there); otherwise (several Patients, a FHIR server's answer) one warning gives the
    count without naming them. Without a subject a resource belongs to the patient only
    when the input holds one Patient; a clinical one is reported otherwise.
    """
    kept: list[Entry] = []
    others: list[Entry] = []
    notes = list(warnings)
    own = _own_names(patient)
    for entry in resources:
        if entry.resource_type == "Patient":
            continue
        subject = entry.resource.get("subject")
        if type(subject) is dict:
            reference = subject.get("reference")
            if type(reference) is str and reference in own:  # the usual case: no more to do
                kept.append(entry)
                continue
        subject = _subject_reference(entry)
        if subject is None or subject is False:
            if single_patient:
                kept.append(entry)
            elif entry.resource_type in CLINICAL_TYPES:
                notes.append(Warning(entry.reference, "no subject: cannot tell whose it is"))
            continue
        if _refers_to(str(subject), patient, entry):
            kept.append(entry)
        else:
            others.append(entry)
    notes.extend(_left_out(others, named=single_patient))
    return PatientRecord(patient, tuple(kept), tuple(notes))


def _left_out(others: list[Entry], *, named: bool) -> list[Warning]:
    """Return the warnings saying how many resources about other patients were left out."""
    count = len(others)
    if not count:
        return []
    what = f"{count} resource{'s' if count != 1 else ''} about another patient or subject"
    if not named:
        return [Warning(None, f"{what} left out (not used)")]
    return [
        Warning(entry.reference, f"about another patient; not used ({what} left out)")
        for entry in others
    ]
