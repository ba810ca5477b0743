"""Discovery templates filled and answered from the embedded demo patients."""

from __future__ import annotations

import pytest

from service.cdsclient.prefetch import (
    DemoBundleSource,
    PrefetchError,
    build_prefetch,
    fill_template,
)

CONTEXT = {"patientId": "demo-transplant", "userId": "Practitioner/p1"}


def test_context_and_user_tokens_are_filled() -> None:
    assert fill_template("Patient/{{context.patientId}}", CONTEXT) == "Patient/demo-transplant"
    assert fill_template("Practitioner/{{userPractitionerId}}", CONTEXT) == "Practitioner/p1"


def test_an_unknown_token_is_refused() -> None:
    with pytest.raises(PrefetchError, match="context.encounterId"):
        fill_template("Encounter/{{context.encounterId}}", CONTEXT)


def test_a_read_and_searches_are_answered_from_the_demo_patients() -> None:
    templates = {
        "patient": "Patient/{{context.patientId}}",
        "labs": "Observation?patient={{context.patientId}}&code=http://loinc.org|777-3",
        "all": "Observation?patient={{context.patientId}}",
        "none": "Observation?patient={{context.patientId}}&code=http://loinc.org|0000-0",
    }
    prefetch = build_prefetch(templates, CONTEXT, DemoBundleSource())
    assert prefetch["patient"] is not None
    assert prefetch["patient"]["id"] == "demo-transplant"
    labs = [e["resource"] for e in prefetch["labs"]["entry"]]
    assert labs
    assert all(any(c["code"] == "777-3" for c in r["code"]["coding"]) for r in labs)
    assert all(r["subject"]["reference"] == "Patient/demo-transplant" for r in labs)
    assert len(prefetch["all"]["entry"]) > len(labs)
    assert prefetch["none"]["entry"] == []


def test_a_code_without_system_and_escaped_commas_are_understood() -> None:
    source = DemoBundleSource()
    both = source.search("Observation", [("patient", "demo-transplant"), ("code", "777-3,x\\,y")])
    assert both["entry"]
    assert all(
        any(c["code"] == "777-3" for c in e["resource"]["code"]["coding"]) for e in both["entry"]
    )


def test_an_unknown_patient_reads_as_null() -> None:
    prefetch = build_prefetch(
        {"patient": "Patient/{{context.patientId}}"}, {"patientId": "nobody"}, DemoBundleSource()
    )
    assert prefetch == {"patient": None}


def test_a_search_parameter_the_demo_cannot_answer_is_refused_not_ignored() -> None:
    with pytest.raises(PrefetchError, match="'date'.*--fhir-server"):
        DemoBundleSource().search("Observation", [("patient", "x"), ("date", "ge2020")])
