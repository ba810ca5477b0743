"""Which statuses make a resource usable (criteria.md §3, §7 "Reading resources").

Observations: only final / amended / corrected; the other codes are ignored silently;
a missing or invalid status is unreadable (warning, an older result takes its
place). Conditions: present when clinicalStatus is active / recurrence / relapse or
absent, unless refuted or entered-in-error; the primary site and a neuroendocrine
carcinoma are read whatever the clinicalStatus. Procedures: only completed.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.mappers.codes import SNOMED

from .conftest import (
    KI67,
    OLDER,
    condition,
    map_resources,
    observation,
    point,
    procedure,
    quantity,
    warned,
)

USABLE = ["final", "amended", "corrected"]
IGNORED = ["preliminary", "registered", "cancelled", "entered-in-error", "unknown"]


def ki67_pair(newer_status: Any) -> list[dict[str, Any]]:
    """Return an older final Ki-67 of 5 % and a newer one of 30 % with ``newer_status``."""
    return [
        observation(KI67, id="old", date=OLDER, valueQuantity=quantity(5, "%")),
        observation(KI67, id="new", status=newer_status, valueQuantity=quantity(30, "%")),
    ]


@pytest.mark.parametrize("status", USABLE)
def test_final_amended_and_corrected_observations_are_used(status: str) -> None:
    inputs = map_resources(*ki67_pair(status))
    assert inputs.ki67 is not None
    assert inputs.ki67.value == point("30")
    assert inputs.warnings == ()


@pytest.mark.parametrize("status", IGNORED)
def test_other_observation_statuses_are_ignored_silently(status: str) -> None:
    inputs = map_resources(*ki67_pair(status))
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/old"
    assert inputs.warnings == ()


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(None, id="missing"),
        pytest.param("done", id="not a status code"),
        pytest.param("Final", id="wrong case"),
        pytest.param(1, id="not a string"),
    ],
)
def test_a_missing_or_invalid_status_is_unreadable_and_an_older_result_takes_its_place(
    status: Any,
) -> None:
    inputs = map_resources(*ki67_pair(status))
    assert inputs.ki67 is not None
    assert inputs.ki67.reference == "Observation/old"
    assert warned(inputs, "Observation/new", "status")


def test_an_observation_with_only_an_ignored_status_gives_no_result() -> None:
    inputs = map_resources(observation(KI67, status="preliminary", valueQuantity=quantity(5, "%")))
    assert inputs.ki67 is None


CIRRHOSIS = "K74.60"


@pytest.mark.parametrize("clinical", ["active", "recurrence", "relapse", None])
def test_a_condition_is_present_when_active_recurrent_relapsed_or_without_clinical_status(
    clinical: str | None,
) -> None:
    inputs = map_resources(condition(CIRRHOSIS, clinical=clinical))
    assert [fact.reference for fact in inputs.cirrhosis] == ["Condition/c1"]
    assert inputs.cirrhosis[0].present


@pytest.mark.parametrize("clinical", ["inactive", "remission", "resolved"])
def test_an_inactive_remitted_or_resolved_condition_is_not_present(clinical: str) -> None:
    inputs = map_resources(
        condition(CIRRHOSIS, clinical=clinical),
        condition("C7B.03", id="bone", clinical=clinical),
        condition("E34.01", id="heart", clinical=clinical),
    )
    assert inputs.cirrhosis == ()
    assert inputs.extrahepatic_metastases == ()
    assert inputs.carcinoid_heart_disease == ()
    assert inputs.warnings == ()


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_a_refuted_or_entered_in_error_condition_is_ignored(verification: str) -> None:
    inputs = map_resources(
        condition(CIRRHOSIS, verification=verification),
        condition("C25.4", id="primary", verification=verification, clinical="resolved"),
        condition("C7A.1", id="nec", verification=verification),
    )
    assert inputs.cirrhosis == ()
    assert inputs.primary_sites == ()
    assert inputs.neuroendocrine_carcinoma == ()


@pytest.mark.parametrize(
    "verification", ["unconfirmed", "provisional", "differential", "confirmed", None]
)
def test_other_verification_statuses_leave_the_condition_present(
    verification: str | None,
) -> None:
    inputs = map_resources(condition(CIRRHOSIS, verification=verification))
    assert len(inputs.cirrhosis) == 1


@pytest.mark.parametrize("clinical", ["active", "inactive", "remission", "resolved", None])
def test_the_primary_site_is_read_whatever_the_clinical_status(clinical: str | None) -> None:
    inputs = map_resources(condition("C7A.012", id="primary", clinical=clinical))
    assert [(s.reference, s.site, s.drainage) for s in inputs.primary_sites] == [
        ("Condition/primary", "ileum", "portal")
    ]
    assert inputs.primary_sites[0].present == (clinical in ("active", None))


@pytest.mark.parametrize("clinical", ["active", "resolved", "remission"])
def test_a_neuroendocrine_carcinoma_is_read_whatever_the_clinical_status(clinical: str) -> None:
    inputs = map_resources(condition("C7A.1", id="nec", clinical=clinical))
    assert [fact.reference for fact in inputs.neuroendocrine_carcinoma] == ["Condition/nec"]


@pytest.mark.parametrize(
    "clinical_status",
    [
        pytest.param({"coding": [{"code": "cured"}]}, id="unknown code"),
        pytest.param({"text": "active"}, id="text only"),
        pytest.param("active", id="a string"),
    ],
)
def test_an_unreadable_clinical_status_is_reported_and_the_condition_not_used(
    clinical_status: Any,
) -> None:
    resource = condition(CIRRHOSIS, clinical=None) | {"clinicalStatus": clinical_status}
    inputs = map_resources(resource)
    assert inputs.cirrhosis == ()
    assert warned(inputs, "Condition/c1", "clinicalStatus")


RESECTION = "116241004"


def test_a_completed_procedure_is_used() -> None:
    inputs = map_resources(procedure(RESECTION))
    assert [(p.reference, p.code) for p in inputs.primary_resections] == [
        ("Procedure/pr1", RESECTION)
    ]


@pytest.mark.parametrize(
    "status",
    [
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "entered-in-error",
        "unknown",
    ],
)
def test_a_procedure_that_is_not_completed_is_not_used(status: str) -> None:
    inputs = map_resources(
        procedure(RESECTION, status=status),
        procedure((SNOMED, "18027006"), id="lt", status=status),
    )
    assert inputs.primary_resections == ()
    assert inputs.liver_transplants == ()
    assert inputs.warnings == ()


@pytest.mark.parametrize("status", [None, "done"])
def test_a_procedure_with_a_missing_or_invalid_status_is_reported(status: str | None) -> None:
    inputs = map_resources(procedure(RESECTION, status=status))
    assert inputs.primary_resections == ()
    assert warned(inputs, "Procedure/pr1", "status")
