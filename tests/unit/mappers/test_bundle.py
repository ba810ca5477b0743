"""The Bundle envelope and whose resources are used (criteria.md §7 "Reading resources").

An input that is not a Bundle, holds no Patient, or holds several without one being
chosen raises :class:`BundleError`; a bad entry is only a warning. A resource whose
subject is another patient is not used (reported when the Bundle holds one Patient);
with one Patient a resource without subject belongs to it. References resolve through
``urn:uuid`` fullUrls and absolute URLs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from service.mappers import BundleError, load_bundle_json, map_bundle, record_from_bundle

from .conftest import (
    AT,
    KI67,
    bundle,
    condition,
    entry,
    map_resources,
    observation,
    patient,
    procedure,
    quantity,
    warned,
)

UUID = "urn:uuid:9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"


def ki67(subject: str | None, id: str = "o1") -> dict[str, Any]:
    """Return a final Ki-67 of 5 % about ``subject``."""
    return observation(KI67, id=id, subject=subject, valueQuantity=quantity(5, "%"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param([], "JSON object", id="a list"),
        pytest.param("Bundle", "JSON object", id="a string"),
        pytest.param(None, "JSON object", id="null"),
        pytest.param(patient(), "resourceType is 'Patient'", id="a Patient"),
        pytest.param({"entry": []}, "resourceType is None", id="no resourceType"),
        pytest.param({"resourceType": "Bundle", "entry": {}}, "not a list", id="entry not a list"),
        pytest.param(bundle(ki67(None)), "no Patient", id="no Patient"),
        pytest.param({"resourceType": "Bundle"}, "no Patient", id="no entry"),
        pytest.param(bundle(patient("a"), patient("b")), "2 Patients", id="two Patients"),
    ],
)
def test_an_unusable_input_raises_a_bundle_error(value: Any, message: str) -> None:
    with pytest.raises(BundleError, match=message):
        map_bundle(value, AT)


def test_a_patient_id_that_is_not_in_the_bundle_raises_a_bundle_error() -> None:
    with pytest.raises(BundleError, match="'c'"):
        map_bundle(bundle(patient("a"), patient("b")), AT, patient_id="c")


def test_invalid_json_raises_a_bundle_error() -> None:
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle_json("{")


def test_json_numbers_are_read_as_exact_decimals() -> None:
    text = (
        '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", '
        '"id": "p1"}}, {"resource": {"resourceType": "Observation", "id": "b", '
        '"status": "final", "code": {"coding": [{"system": "http://loinc.org", '
        '"code": "1975-2"}]}, "effectiveDateTime": "2026-11-01", '
        '"valueQuantity": {"value": 20.5248, "unit": "umol/L"}}}]}'
    )
    inputs = map_bundle(load_bundle_json(text), AT)
    assert inputs.bilirubin is not None
    assert inputs.bilirubin.value is not None
    assert str(inputs.bilirubin.value.low) == "1.2"


def test_choosing_one_of_two_patients_uses_only_their_resources() -> None:
    the_bundle = bundle(
        patient("a"), patient("b"), ki67("Patient/a", id="for-a"), ki67("Patient/b", id="for-b")
    )
    inputs = map_bundle(the_bundle, AT, patient_id="b")
    assert inputs.patient == "Patient/b"
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/for-b"
    # criteria.md §7 (v1.1): the warnings say how many were left out, naming none of them
    [warning] = inputs.warnings
    assert warning.reference is None
    assert warning.message.startswith("1 resource about another patient")


def test_a_resource_for_another_patient_is_not_used_and_reported() -> None:
    inputs = map_resources(ki67("Patient/someone-else"))
    assert inputs.ki67 is None
    assert warned(inputs, "Observation/o1", "another patient")


def test_conditions_and_procedures_for_another_patient_are_not_used() -> None:
    other = "Patient/someone-else"
    inputs = map_resources(condition("K74.60", subject=other), procedure("80146002", subject=other))
    assert inputs.cirrhosis == ()
    assert inputs.primary_resections == ()
    assert warned(inputs, "Condition/c1", "another patient")
    assert warned(inputs, "Procedure/pr1", "another patient")


def test_with_one_patient_a_resource_without_subject_belongs_to_it() -> None:
    inputs = map_resources(ki67(None))
    assert inputs.ki67 is not None
    assert inputs.warnings == ()


def test_with_one_patient_conditions_and_procedures_without_subject_belong_to_it() -> None:
    # R4 makes their subject 1..1, but criteria.md §7 decides whose a resource is.
    inputs = map_resources(condition("K74.60", subject=None), procedure("80146002", subject=None))
    assert [fact.reference for fact in inputs.cirrhosis] == ["Condition/c1"]
    assert [p.reference for p in inputs.primary_resections] == ["Procedure/pr1"]
    assert inputs.warnings == ()


def test_a_condition_without_subject_is_still_validated_otherwise() -> None:
    inputs = map_resources(condition("K74.60", subject=None) | {"foo": 1})
    assert inputs.cirrhosis == ()
    assert warned(inputs, "Condition/c1", "foo")


def test_with_several_patients_a_resource_without_subject_is_not_used_and_reported() -> None:
    inputs = map_bundle(bundle(patient("a"), patient("b"), ki67(None)), AT, patient_id="a")
    assert inputs.ki67 is None
    assert warned(inputs, "Observation/o1", "no subject")


@pytest.mark.parametrize(
    "subject",
    [
        pytest.param("Patient/p1", id="relative"),
        pytest.param("https://ehr.example.org/fhir/R4/Patient/p1", id="absolute URL"),
        pytest.param("Patient/p1/_history/3", id="versioned"),
        pytest.param("https://ehr.example.org/fhir/Patient/p1/_history/3", id="absolute versioned"),
    ],
)
def test_references_to_the_patient_resolve(subject: str) -> None:
    inputs = map_resources(ki67(subject))
    assert inputs.ki67 is not None
    assert inputs.warnings == ()


@pytest.mark.parametrize(
    "subject",
    [
        "Patient/p10",
        "Patient/xp1",
        "https://ehr.example.org/fhir/Patient/p10",
        "Group/p1",
        "urn:uuid:p1",
    ],
)
def test_references_that_only_resemble_the_patient_do_not_resolve(subject: str) -> None:
    inputs = map_resources(ki67(subject))
    assert inputs.ki67 is None
    assert warned(inputs, "Observation/o1")


def test_urn_uuid_references_resolve_in_a_transaction_bundle() -> None:
    the_patient = patient()
    del the_patient["id"]
    the_bundle = bundle(entry(the_patient, UUID), entry(ki67(UUID)), type="transaction")
    inputs = map_bundle(the_bundle, AT)
    assert inputs.patient == f"Patient/{UUID.removeprefix('urn:uuid:')}"
    assert inputs.ki67 is not None
    assert inputs.warnings == ()


def test_a_urn_uuid_reference_resolves_to_a_patient_that_also_has_an_id() -> None:
    the_bundle = bundle(entry(patient(), UUID), ki67(UUID), type="transaction")
    inputs = map_bundle(the_bundle, AT)
    assert inputs.patient == "Patient/p1"
    assert inputs.ki67 is not None


def test_a_patient_can_be_chosen_by_its_full_url() -> None:
    the_bundle = bundle(entry(patient("a"), UUID), patient("b"), ki67(UUID))
    inputs = map_bundle(the_bundle, AT, patient_id=UUID)
    assert inputs.patient == "Patient/a"
    assert inputs.ki67 is not None


@pytest.mark.parametrize(
    "bad_entry",
    [
        pytest.param({"fullUrl": "urn:uuid:x"}, id="no resource"),
        pytest.param({"resource": "Observation/1"}, id="resource is a string"),
        pytest.param({"resource": {"id": "x"}}, id="no resourceType"),
        pytest.param(5, id="entry is a number"),
    ],
)
def test_an_entry_without_a_readable_resource_is_a_warning_not_a_failure(bad_entry: Any) -> None:
    the_bundle = bundle(patient(), ki67("Patient/p1"))
    the_bundle["entry"].insert(1, bad_entry)
    inputs = map_bundle(the_bundle, AT)
    assert inputs.ki67 is not None
    assert warned(inputs, "Bundle.entry[1]", "no readable resource")


def test_a_transaction_response_entry_without_a_resource_is_skipped_silently() -> None:
    the_bundle = bundle(patient(), {"response": {"status": "201 Created"}})
    assert map_bundle(the_bundle, AT).warnings == ()


def test_record_from_bundle_keeps_the_patient_and_their_clinical_resources() -> None:
    the_bundle = bundle(
        patient(),
        ki67("Patient/p1", id="mine"),
        ki67("Patient/other", id="theirs"),
        {"resourceType": "Encounter", "id": "e1"},
    )
    record = record_from_bundle(the_bundle)
    assert record.patient.reference == "Patient/p1"
    # every type is kept (the mappers look into any resource for contained Observations)
    assert [e.reference for e in record.resources] == ["Observation/mine", "Encounter/e1"]
    assert [w.reference for w in record.warnings] == ["Observation/theirs"]


def test_a_resource_without_an_id_is_reported_by_its_position() -> None:
    resource = ki67("Patient/p1") | {"valueQuantity": quantity("abc", "%")}
    del resource["id"]
    inputs = map_bundle(bundle(patient(), resource), AT)
    assert warned(inputs, "Observation/entry-1")


@pytest.mark.parametrize(
    ("birth_date", "earliest", "latest"),
    [
        ("1971-03-04", date(1971, 3, 4), date(1971, 3, 4)),
        ("1971-03", date(1971, 3, 1), date(1971, 3, 31)),
        ("1971", date(1971, 1, 1), date(1971, 12, 31)),
    ],
)
def test_the_birth_date_is_read_as_a_span(birth_date: str, earliest: date, latest: date) -> None:
    inputs = map_bundle(bundle(patient(birth_date=birth_date)), AT)
    assert inputs.birth_date is not None
    assert (inputs.birth_date.earliest, inputs.birth_date.latest) == (earliest, latest)


@pytest.mark.parametrize("birth_date", ["1971-02-30", "1971-03-04T10:00:00Z", "old", 1971])
def test_an_unreadable_birth_date_is_reported_and_not_used(birth_date: Any) -> None:
    inputs = map_bundle(bundle(patient(birth_date=birth_date)), AT)
    assert inputs.birth_date is None
    assert warned(inputs, "Patient/p1", "birth date")


def test_the_inputs_name_the_patient_and_the_evaluation_date() -> None:
    inputs = map_resources()
    assert (inputs.patient, inputs.evaluation_date) == ("Patient/p1", AT)


@pytest.mark.parametrize("bad_id", ["p1\n", ".", "..", "a/b", "", "x" * 65])
def test_an_id_that_is_not_a_fhir_id_is_never_used_as_the_reference(bad_id: str) -> None:
    from service.mappers.reading import is_fhir_id, make_entry

    assert not is_fhir_id(bad_id)
    entry = make_entry({"resourceType": "Patient", "id": bad_id}, None, 3)
    assert entry.reference == "Patient/entry-3"


def test_an_entry_can_be_copied_with_a_field_changed() -> None:
    from service.mappers.reading import Entry
    from service.records import replace

    entry = Entry({"resourceType": "Observation", "id": "o1"}, "Observation/o1")
    moved = replace(entry, reference="Observation/o2")
    assert (moved.reference, moved.resource_type, moved.full_url) == (
        "Observation/o2",
        "Observation",
        None,
    )
