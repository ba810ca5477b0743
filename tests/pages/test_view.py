"""What the page shows, from a result and the patient's record: identity, readable
evidence (as recorded = normalised), the criteria matrix, the timelines."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from service.criteria import Evaluation
from service.engine import run_evaluation
from service.mappers import DEFAULT_TERMINOLOGY, PatientRecord, record_from_bundle
from service.pages.identity import patient_identity
from service.pages.view import PageView, page_view, reference_href
from service.result_json import evaluation_to_json
from tests.fixtures import fhir_builders as fb

AT = date(2026, 11, 22)
BASE = "https://fhir.example.test/r4"
ILEUM = fb.concept(fb.coding("http://hl7.org/fhir/sid/icd-10-cm", "C7A.012"))
LIVER_METS = fb.icd("C7B.02", "Secondary carcinoid tumors of liver")


def record_of(*resources: dict[str, Any], person: dict[str, Any] | None = None) -> PatientRecord:
    patient = person or fb.patient(
        "1977-04-18", family="Lindqvist", given="Maria Elin", gender="female", mrn="MRN-1"
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (patient, *resources)],
    }
    return record_from_bundle(bundle)


def view_of(*resources: dict[str, Any], **kw: Any) -> tuple[PageView, Evaluation]:
    record = record_of(*resources, **kw)
    evaluation = run_evaluation(record, AT)
    view = page_view(
        evaluation_to_json(evaluation),
        record=record,
        evaluation=evaluation,
        terminology=DEFAULT_TERMINOLOGY,
    )
    return view, evaluation


def evidence_text(view: PageView, criterion_id: str) -> list[str]:
    for group in view.matrix.groups:
        for row in group.rows:
            if row.id == criterion_id:
                return [
                    f"{e.what}: {e.value}" if e.what and e.value else str(e.what or e.value)
                    for d in row.details
                    for e in d.evidence
                ]
    raise KeyError(criterion_id)


# --- identity ----------------------------------------------------------------------------


def test_the_identity_names_the_patient_as_wards_write_it() -> None:
    person = fb.patient(
        "1977-04-18", family="Lindqvist", given="Maria Elin", gender="female", mrn="MRN-4820175"
    )
    identity = patient_identity(person, AT)
    assert identity.name == "LINDQVIST, Maria Elin"
    assert (identity.birth_date, identity.age, identity.sex) == ("1977-04-18", "49 years", "Female")
    assert identity.record_number == "MRN-4820175"
    assert identity.deceased is None


def test_a_partial_birth_date_gives_an_age_range_and_missing_parts_say_so() -> None:
    person = {
        "resourceType": "Patient",
        "id": "p",
        "birthDate": "1971",
        "name": [{"text": "J. Doe"}],
    }
    identity = patient_identity(person, AT)
    assert identity.age == "54-55 years"
    assert identity.name == "J. Doe"
    assert identity.sex == "not recorded"
    assert identity.record_number == "not recorded"


def test_a_record_number_is_taken_only_from_an_mr_identifier() -> None:
    person = {
        "resourceType": "Patient",
        "identifier": [
            {"system": "urn:ssn", "value": "123-45-6789"},
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "value": "H-77",
            },
        ],
    }
    assert patient_identity(person, AT).record_number == "H-77"


@pytest.mark.parametrize(
    ("deceased", "shown"),
    [
        ({"deceasedBoolean": True}, "Deceased"),
        ({"deceasedDateTime": "2026-10-01"}, "Deceased 2026-10-01"),
        ({"deceasedDateTime": "2027-01-01"}, None),
        ({"deceasedBoolean": False}, None),
        # as the evaluation reads it (card suppressed): recorded as dead, date unreadable
        ({"deceasedDateTime": 20261001}, "Deceased"),
        ({"deceasedDateTime": "first of October"}, "Deceased (first of October)"),
    ],
)
def test_a_death_on_or_before_the_evaluation_date_is_shown(
    deceased: dict[str, Any], shown: str | None
) -> None:
    assert patient_identity({"resourceType": "Patient", **deceased}, AT).deceased == shown


def test_odd_patient_shapes_never_stop_the_identity() -> None:
    person = {"resourceType": "Patient", "name": "x", "identifier": [1], "birthDate": "soon"}
    identity = patient_identity(person, AT)
    assert identity.age == "not recorded"
    assert identity.record_number == "not recorded"


# --- readable evidence ---------------------------------------------------------------------


def test_a_bilirubin_in_umol_per_litre_is_shown_as_recorded_with_its_conversion() -> None:
    view, _ = view_of(fb.bilirubin_umol("bili", "2026-11-01", 10))
    assert evidence_text(view, "low_bilirubin") == [
        "Bilirubin.total [Moles/volume] in Serum or Plasma: 10 µmol/L = 0.58 mg/dL"
    ]


def test_a_value_recorded_in_the_normalised_unit_is_shown_once() -> None:
    view, _ = view_of(fb.bilirubin_mg("bili", "2026-11-01", 1))
    assert evidence_text(view, "low_bilirubin")[0].endswith(": 1 mg/dL")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (fb.v_quantity(220, "10*3/uL"), "220 ×10⁹/L"),
        (fb.v_unit_text(220, "K/uL"), "220 ×10⁹/L"),
        (fb.v_quantity(220000, "/uL"), "220000 /µL = 220 ×10⁹/L"),
    ],
)
def test_platelets_have_one_unit_spelling(value: dict[str, Any], shown: str) -> None:
    view, _ = view_of(fb.platelets("plt", "2026-11-01", None, value=value))
    assert evidence_text(view, "no_portal_hypertension")[0].endswith(f": {shown}")


def test_a_condition_shows_its_display_text_with_its_code() -> None:
    coded = fb.icd("C7A.012", "Malignant carcinoid tumor of the ileum")
    view, _ = view_of(fb.condition("primary", coded), fb.condition("mets", LIVER_METS))
    assert evidence_text(view, "portal_drained_primary") == [
        "Malignant carcinoid tumor of the ileum (C7A.012)"
    ]


def test_a_code_without_display_is_named_as_the_evaluation_read_it() -> None:
    view, _ = view_of(fb.condition("primary", ILEUM), fb.condition("mets", LIVER_METS))
    assert evidence_text(view, "portal_drained_primary") == ["NET primary, ileum (C7A.012)"]


def test_the_verdict_sentence_names_a_code_as_the_record_does() -> None:
    bone = fb.icd("C7B.03", "Secondary carcinoid tumors of bone")
    coded = fb.icd("C7A.012", "Malignant carcinoid tumor of the ileum")
    view, _ = view_of(
        fb.condition("primary", coded),
        fb.condition("mets", LIVER_METS),
        fb.condition("bone", bone),
    )
    transplant = view.verdicts[0]
    assert transplant.status == "ineligible"
    assert "(Secondary carcinoid tumors of bone, C7B.03)" in transplant.because
    assert "(C7B.03)" not in transplant.sentence


def test_a_code_without_display_stays_a_code_in_the_verdict() -> None:
    bone = fb.concept(fb.coding("http://hl7.org/fhir/sid/icd-10-cm", "C7B.03"))
    view, _ = view_of(
        fb.condition("primary", ILEUM), fb.condition("mets", LIVER_METS), fb.condition("bone", bone)
    )
    # the name the evaluation gave it is already the sentence's: not repeated
    assert view.verdicts[0].because == "extrahepatic metastasis recorded (C7B.03)."


@pytest.mark.parametrize(
    ("base", "reference", "href"),
    [
        (BASE, "Observation/ki67-1", f"{BASE}/Observation/ki67-1"),
        (f"{BASE}/", "Condition/c.1", f"{BASE}/Condition/c.1"),
        (None, "Observation/ki67-1", None),
        (BASE, "https://other.example/Observation/1", None),
        (BASE, "javascript:alert(1)", None),
    ],
)
def test_references_are_linked_only_as_plain_type_and_id_under_a_fhir_base(
    base: str | None, reference: str, href: str | None
) -> None:
    assert reference_href(base, reference) == href


# --- the matrix ----------------------------------------------------------------------------


def test_every_criterion_is_one_row_and_shared_results_are_explained_once() -> None:
    view, evaluation = view_of(fb.condition("mets", LIVER_METS))
    ids = [row.id for group in view.matrix.groups for row in group.rows]
    every = {r.id for s in evaluation.set_results for r in s.results}
    assert sorted(ids) == sorted(every)
    assert [name for _, name in view.matrix.columns] == ["Milan-NET", "ENETS", "UNOS", "Resection"]
    age = next(r for g in view.matrix.groups for r in g.rows if r.id == "age_under_55")
    assert [c.status for c in age.cells] == ["met", "met", "met", None]
    (detail,) = age.details
    assert detail.sets == "Milan-NET, ENETS, UNOS"
    assert age.source is not None
    assert "00" not in age.source  # cited by name, not by file number


def test_unknown_criteria_name_what_to_record_by_data_item() -> None:
    view, _ = view_of(fb.condition("mets", LIVER_METS))
    burden = next(
        r for g in view.matrix.groups for r in g.rows if r.id == "liver_involvement_under_50"
    )
    assert burden.worst == "unknown"
    assert burden.details[0].to_record == ("Hepatic tumour burden (% of liver)",)


# --- timelines -----------------------------------------------------------------------------


def test_the_ki67_history_shows_an_older_result_beside_todays() -> None:
    view, _ = view_of(
        fb.ki67_pct("ki67-old", "2024-03-01", 9), fb.ki67_pct("ki67-new", "2026-10-01", 28)
    )
    ki67 = view.timelines[0]
    assert ki67.key == "ki67"
    assert [(r.day, r.value) for r in ki67.rows] == [("2024-03-01", "9 %"), ("2026-10-01", "28 %")]
    assert ki67.svg is not None
    assert "20 % (G3 above)" in ki67.svg
    assert "<script" not in ki67.svg
    assert "style=" not in ki67.svg


def test_lab_timelines_draw_the_freshness_window_and_list_what_cannot_be_drawn() -> None:
    view, _ = view_of(
        fb.platelets("plt-1", "2026-01-10", 180),
        fb.platelets("plt-2", "2026-11-01", None, value=fb.v_unit_text(95, "foo")),
        fb.platelets("plt-3", None, 150),
    )
    platelets = view.timelines[2]
    assert platelets.svg is not None
    assert "fresh: last 90 days" in platelets.svg
    notes = {r.reference: (r.value, r.note) for r in platelets.rows}
    assert notes["Observation/plt-1"] == ("180 ×10⁹/L", "")
    assert notes["Observation/plt-2"][0] == "not interpretable"
    assert notes["Observation/plt-3"] == ("150 ×10⁹/L", "undated: not drawn")


def test_the_disease_status_is_drawn_as_categories_with_the_six_month_window() -> None:
    view, _ = view_of(
        fb.disease_status("s1", "2026-01-10", "stable"),
        fb.disease_status("s2", "2026-10-10", "worsened"),
    )
    course = view.timelines[3]
    assert [r.value for r in course.rows] == ["stable", "progressing"]
    assert course.svg is not None
    assert "last 6 months" in course.svg
    assert ">progressing<" in course.svg


def test_an_empty_history_draws_nothing() -> None:
    view, _ = view_of()
    assert [t.svg for t in view.timelines] == [None, None, None, None]
    assert all(t.rows == () for t in view.timelines)


def test_without_the_record_the_page_still_shows_the_result() -> None:
    record = record_of(fb.condition("mets", LIVER_METS))
    result = evaluation_to_json(run_evaluation(record, AT))
    view = page_view(result)
    assert view.identity is None
    assert view.timelines == ()
    assert len(view.verdicts) == 2
