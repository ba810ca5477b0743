"""Reading rules added in criteria 1.1 (criteria.md §7 "Reading resources").

Ki-67 in a ``component``; ``contained`` Observations warned on their container;
OperationOutcomes in the data as warnings; deceased patients; resources about other
patients counted.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.fhir.queries import observation_code_param
from service.mappers import map_bundle
from service.mappers.site_codes import terminology_from_mapping

from .conftest import (
    AT,
    KI67,
    LOINC,
    bundle,
    entry,
    map_resources,
    observation,
    patient,
    point,
    quantity,
    warned,
)

PANEL = (LOINC, "60568-3")  # a pathology synoptic report panel: not a code the service reads


def ki67_component(value: Any, code: str = KI67) -> dict[str, Any]:
    """Return a component carrying a Ki-67 (or another) code with a value in %."""
    return {
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "valueQuantity": quantity(value, "%", code="%"),
    }


def panel(id: str = "panel", date: str = "2026-10-01", **elements: Any) -> dict[str, Any]:
    """Return a pathology panel Observation without a value of its own."""
    components = elements.pop("component", [ki67_component(30)])
    return observation(PANEL, id=id, date=date, component=components, **elements)


# ------------------------------------------------------------------ components


def test_a_ki67_in_a_panel_component_is_a_ki67_result() -> None:
    inputs = map_resources(panel())
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/panel"
    assert inputs.ki67.value == point("30")
    assert inputs.ki67.component == KI67
    evidence = inputs.ki67.evidence()
    assert (evidence.reference, evidence.component, evidence.date) == (
        "Observation/panel",
        KI67,
        "2026-10-01",
    )


@pytest.mark.parametrize(
    ("top_date", "expected"),
    [
        pytest.param("2026-09-01", "Observation/panel", id="component newer than top-level"),
        pytest.param("2026-11-01", "Observation/top", id="top-level newer than component"),
    ],
)
def test_the_most_recent_across_top_level_and_component_results_wins(
    top_date: str, expected: str
) -> None:
    top = observation(KI67, id="top", date=top_date, valueQuantity=quantity(4, "%"))
    inputs = map_resources(top, panel())
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == expected


@pytest.mark.parametrize(
    "elements",
    [
        pytest.param({"status": "preliminary"}, id="preliminary parent"),
        pytest.param({"date": "2026-12-01"}, id="parent dated after the evaluation date"),
        pytest.param(
            {"component": [{"code": {"coding": [{"system": LOINC, "code": KI67}]}}]},
            id="component without a value",
        ),
        pytest.param({"component": [ki67_component(30, "85319-2")]}, id="HER2 component"),
        pytest.param({"subject": "Patient/someone-else"}, id="parent about another patient"),
    ],
)
def test_a_component_takes_the_parent_s_status_date_and_subject(elements: dict[str, Any]) -> None:
    inputs = map_resources(panel(**elements))
    assert inputs.ki67 is None


def test_an_uninterpretable_component_value_stays_the_latest_without_fall_back() -> None:
    older = observation(KI67, id="older", date="2026-01-01", valueQuantity=quantity(4, "%"))
    odd = {"code": {"coding": [{"system": LOINC, "code": KI67}]}, "valueString": "ca. 30 %"}
    inputs = map_resources(older, panel(component=[odd]))
    assert inputs.ki67 is not None
    assert (inputs.ki67.reference, inputs.ki67.value) == ("Observation/panel", None)
    assert warned(inputs, "Observation/panel")


def test_an_unreadable_parent_is_skipped_with_a_warning() -> None:
    inputs = map_resources(panel(status=None))
    assert inputs.ki67 is None
    assert warned(inputs, "Observation/panel", "status")


# ------------------------------------------------------------------ contained


def contained_ki67() -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "k",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": KI67}]},
        "valueQuantity": quantity(30, "%"),
    }


def report(*contained: dict[str, Any], subject: str = "Patient/p1") -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": "report",
        "status": "final",
        "code": {"text": "Liver biopsy"},
        "subject": {"reference": subject},
        "contained": list(contained),
        "result": [{"reference": "#k"}],
    }


def test_a_contained_ki67_is_not_read_and_its_container_is_warned() -> None:
    inputs = map_resources(report(contained_ki67()))
    assert inputs.ki67 is None
    assert warned(inputs, "DiagnosticReport/report", "Ki-67", "not read")


def test_a_contained_panel_with_a_ki67_component_is_warned_too() -> None:
    inner = contained_ki67() | {"code": {"coding": [{"system": PANEL[0], "code": PANEL[1]}]}}
    inner["component"] = [ki67_component(30)]
    del inner["valueQuantity"]
    inputs = map_resources(report(inner))
    assert warned(inputs, "DiagnosticReport/report", "Ki-67")


@pytest.mark.parametrize(
    "contained",
    [
        pytest.param({"resourceType": "Observation", "code": {"text": "Ki-67"}}, id="text only"),
        pytest.param({"resourceType": "Practitioner", "id": "pr"}, id="a Practitioner"),
    ],
)
def test_contained_resources_the_service_would_not_read_are_not_warned(
    contained: dict[str, Any],
) -> None:
    inputs = map_resources(report(contained))
    assert inputs.warnings == ()


def test_a_container_about_another_patient_is_not_looked_into() -> None:
    inputs = map_resources(report(contained_ki67(), subject="Patient/other"))
    assert not warned(inputs, "DiagnosticReport/report", "Ki-67")


# ------------------------------------------------------------------ OperationOutcome


def outcome(*issues: tuple[str, str], id: str = "oo") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "id": id,
        "issue": [
            {"severity": severity, "code": "incomplete", "diagnostics": text}
            for severity, text in issues
        ],
    }


def test_each_warning_error_or_fatal_issue_becomes_a_warning() -> None:
    the_outcome = outcome(
        ("warning", "some results were not returned"),
        ("information", "search took 3 ms"),
        ("error", "Condition search failed"),
        ("fatal", "server shutting down"),
    )
    the_bundle = bundle(patient(), {"resource": the_outcome, "search": {"mode": "outcome"}})
    inputs = map_bundle(the_bundle, AT)
    messages = [w.message for w in inputs.warnings if w.reference == "OperationOutcome/oo"]
    assert messages == [
        "the FHIR server reported: some results were not returned (warning)",
        "the FHIR server reported: Condition search failed (error)",
        "the FHIR server reported: server shutting down (fatal)",
    ]


def test_an_operation_outcome_entry_without_search_mode_is_reported_too() -> None:
    inputs = map_resources(outcome(("warning", "partial data")))
    assert warned(inputs, "OperationOutcome/oo", "the FHIR server reported: partial data")


def test_an_issue_without_diagnostics_is_named_by_its_details_or_code() -> None:
    the_outcome = {
        "resourceType": "OperationOutcome",
        "id": "oo",
        "issue": [
            {"severity": "warning", "code": "incomplete", "details": {"text": "truncated"}},
            {"severity": "warning", "code": "too-costly"},
        ],
    }
    inputs = map_resources(the_outcome)
    assert warned(inputs, "OperationOutcome/oo", "truncated")
    assert warned(inputs, "OperationOutcome/oo", "too-costly")


def test_a_transaction_response_outcome_is_reported() -> None:
    the_bundle = bundle(
        patient(),
        {"response": {"status": "200 OK", "outcome": outcome(("warning", "stored partly"))}},
        type="transaction-response",
    )
    inputs = map_bundle(the_bundle, AT)
    assert warned(inputs, "Bundle.entry[1]", "the FHIR server reported: stored partly")


# ------------------------------------------------------------------ deceased


def deceased(**elements: Any) -> Any:
    return map_bundle(bundle(patient(**elements)), AT)


@pytest.mark.parametrize(
    ("elements", "label"),
    [
        pytest.param({"deceasedBoolean": True}, "no date given", id="deceasedBoolean true"),
        pytest.param({"deceasedDateTime": "2026-05-01"}, "2026-05-01", id="before"),
        pytest.param({"deceasedDateTime": "2026-11-22"}, "2026-11-22", id="on the day"),
        pytest.param(
            {"deceasedDateTime": "2026-11-22T23:30:00+01:00"}, "2026-11-22", id="on the day, time"
        ),
        pytest.param({"deceasedDateTime": "2026-11"}, "2026-11", id="partial, may be before"),
        pytest.param({"deceasedDateTime": "22/11/2026"}, "no date given", id="unreadable date"),
    ],
)
def test_a_patient_deceased_on_or_before_the_evaluation_date_is_recorded_and_warned(
    elements: dict[str, Any], label: str
) -> None:
    inputs = deceased(**elements)
    assert inputs.deceased is not None
    assert inputs.deceased.label == label
    assert warned(inputs, "Patient/p1", "the patient is recorded as deceased")
    if label != "no date given":
        assert warned(inputs, "Patient/p1", f"deceased on {label}")


@pytest.mark.parametrize(
    "elements",
    [
        pytest.param({"deceasedBoolean": False}, id="deceasedBoolean false"),
        pytest.param({"deceasedDateTime": "2026-11-23"}, id="the day after"),
        pytest.param({"deceasedDateTime": "2027"}, id="a later year"),
        pytest.param({}, id="nothing recorded"),
    ],
)
def test_a_patient_alive_on_the_evaluation_date_is_not_deceased(elements: dict[str, Any]) -> None:
    inputs = deceased(**elements)
    assert inputs.deceased is None
    assert not warned(inputs, "Patient/p1", "deceased")


# ------------------------------------------------------------------ other patients


def test_resources_about_another_patient_are_counted_in_the_warnings() -> None:
    mine = observation(KI67, id="mine", valueQuantity=quantity(5, "%"))
    theirs = [
        observation(
            KI67, id=f"theirs-{n}", subject="Patient/other", valueQuantity=quantity(40, "%")
        )
        for n in range(3)
    ]
    inputs = map_resources(mine, *theirs)
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/mine"
    for n in range(3):
        assert warned(inputs, f"Observation/theirs-{n}", "3 resources about another patient")


@pytest.mark.parametrize(
    ("patient_url", "entry_url", "subject", "kept"),
    [
        pytest.param(
            "https://ehr.example.org/fhir/Patient/p1",
            None,
            "https://ehr.example.org/fhir/Patient/p1",
            True,
            id="the Patient's fullUrl",
        ),
        pytest.param(
            "https://ehr.example.org/fhir/Patient/p1",
            "https://ehr.example.org/fhir/Observation/o1",
            "https://other.example.org/fhir/Patient/p1",
            False,
            id="same id on another server",
        ),
        pytest.param(
            None,
            "https://ehr.example.org/fhir/Observation/o1",
            "https://ehr.example.org/fhir/Patient/p1",
            True,
            id="the referring entry's base",
        ),
        pytest.param(
            None,
            "https://ehr.example.org/fhir/Observation/o1",
            "https://other.example.org/fhir/Patient/p1",
            False,
            id="another base than the entry's",
        ),
    ],
)
def test_an_absolute_subject_is_the_patient_s_only_on_a_known_base(
    patient_url: str | None, entry_url: str | None, subject: str, kept: bool
) -> None:
    ki67 = observation(KI67, subject=subject, valueQuantity=quantity(5, "%"))
    the_bundle = bundle(entry(patient(), patient_url), entry(ki67, entry_url))
    inputs = map_bundle(the_bundle, AT)
    assert (inputs.ki67 is not None) is kept


def test_a_site_mapped_panel_is_searched_for_and_only_its_component_is_read() -> None:
    terminology = terminology_from_mapping(
        {"observations": {"ki67_panel": [{"system": PANEL[0], "code": PANEL[1]}]}}
    )
    param = observation_code_param(terminology)
    assert param is not None
    assert f"{PANEL[0]}|{PANEL[1]}" in param.split(",")
    with_value = panel() | {"valueString": "see components"}
    inputs = map_resources(with_value, terminology=terminology)
    assert inputs.ki67 is not None
    assert (inputs.ki67.component, inputs.ki67.value) == (KI67, point("30"))


def test_oldest_first_puts_undated_results_first_then_orders_by_date_updated_and_id() -> None:
    import random
    from datetime import UTC, datetime

    from service.criteria.values import parse_fhir_date
    from service.mappers.reading import Dated, Entry, oldest_first

    rng = random.Random(5)
    days = [None, "2025", "2025-06", "2025-06-01", "2025-06-01T10:00:00Z", "2026-01-15"]
    candidates = []
    for number in range(300):
        day = rng.choice(days)
        updated = datetime(2026, 1, rng.randint(1, 3), tzinfo=UTC)
        entry = Entry({"resourceType": "Observation"}, f"Observation/o{rng.randint(0, 9)}")
        span = None if day is None else parse_fhir_date(day)
        candidates.append(Dated(entry, span, updated, ("s", str(number))))
    ordered = oldest_first(candidates)
    undated = sorted(
        (c for c in candidates if c.date is None), key=lambda c: (c.last_updated, c.entry.id)
    )
    dated = sorted(
        (c for c in candidates if c.date is not None),
        key=lambda c: (c.date.earliest, c.date.latest, c.last_updated, c.entry.id),  # type: ignore[union-attr]
    )
    assert ordered == [*undated, *dated]


def test_is_fhir_id_answers_as_fhirs_id_pattern() -> None:
    import random
    import re

    from service.mappers.reading import is_fhir_id

    rng = random.Random(8)
    alphabet = "aZ09-./_ \n\u00e9\u0660x"
    texts = ["", ".", "..", "...", "a" * 64, "a" * 65, "id\n", "-", "é", "\u0661"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(5000)]
    for text in texts:
        expected = re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", text) is not None and text not in (
            ".",
            "..",
        )
        assert is_fhir_id(text) is expected, repr(text)
    assert not is_fhir_id(7)
    assert not is_fhir_id(None)


def test_a_urn_uuid_with_a_final_newline_does_not_name_the_resource() -> None:
    from service.mappers.reading import make_entry

    observation = {"resourceType": "Observation"}
    assert make_entry(observation, "urn:uuid:abc-1", 3).reference == "Observation/abc-1"
    assert make_entry(observation, "urn:uuid:abc-1\n", 3).reference == "Observation/entry-3"
