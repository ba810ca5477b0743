"""Primary tumour: portal drainage, resected, resected 6 months ago, resected or resectable,
and UNOS primary_and_extrahepatic_resected."""

from __future__ import annotations

from typing import Any

import pytest

from service.criteria.inputs import Finding, PrimarySite
from service.criteria.status import Status
from tests.unit.criteria.conftest import (
    MET,
    NOT_MET,
    UNKNOWN,
    ago,
    condition,
    finding,
    make_inputs,
    primary_site,
    procedure,
    refs,
    result_of,
    span,
    statuses_of,
)

ILEUM = primary_site("ileum", "portal", "2024-01-01", code="C7A.012")
RECTUM = primary_site("rectum", "not_portal", "2024-06-01", code="C7A.026")
UNSPECIFIED = primary_site("unspecified site", "undetermined", "2025-01-01", code="C7A.00")
LUNG = primary_site("lung/bronchus", "not_portal", "2023-01-01", code="C7A.090")
PANCREAS = primary_site("pancreas", "portal", "2025-06-01", code="C25.4")
UNKNOWN_PRIMARY = PrimarySite(
    "Condition/unknown-primary",
    span("2023-06-01"),
    "285613005",
    "NET primary, unknown primary",
    True,
    "not_portal",
    "unknown primary",
    unknown_primary=True,
)


def resected(value: bool | None, on: str | None = "2025-01-01") -> Finding[Any]:
    """Return the MDT assessment 'primary resected'."""
    return finding(value, on, ref="Observation/primary-resected")


def resectable(value: bool | None) -> Finding[Any]:
    """Return the MDT assessment 'primary resectable'."""
    return finding(value, ref="Observation/primary-resectable")


@pytest.mark.parametrize(
    ("sites", "expected", "deciding"),
    [
        pytest.param((ILEUM,), MET, ILEUM, id="ileum"),
        pytest.param((PANCREAS,), MET, PANCREAS, id="pancreas"),
        pytest.param((RECTUM,), NOT_MET, RECTUM, id="rectum"),
        pytest.param((LUNG,), NOT_MET, LUNG, id="lung"),
        pytest.param((UNSPECIFIED,), UNKNOWN, UNSPECIFIED, id="site not determinable"),
        pytest.param((), UNKNOWN, None, id="no primary site"),
        pytest.param((ILEUM, UNSPECIFIED), MET, ILEUM, id="older located beats newer unspecified"),
        pytest.param(
            (RECTUM, UNSPECIFIED), NOT_MET, RECTUM, id="older rectum beats newer unspecified"
        ),
        pytest.param((ILEUM, PANCREAS), MET, PANCREAS, id="agreeing portal sites, most recent"),
        pytest.param((LUNG, RECTUM), NOT_MET, RECTUM, id="agreeing not-portal, most recent"),
        pytest.param(
            (ILEUM, PANCREAS, UNSPECIFIED), MET, PANCREAS, id="agreeing and an unspecified one"
        ),
        pytest.param((UNKNOWN_PRIMARY,), NOT_MET, UNKNOWN_PRIMARY, id="unknown primary"),
        pytest.param(
            (UNKNOWN_PRIMARY, ILEUM), MET, ILEUM, id="a located primary supersedes unknown"
        ),
    ],
)
def test_portal_drainage_is_decided_by_the_most_recent_located_site(
    sites: tuple[PrimarySite, ...], expected: Status, deciding: PrimarySite | None
) -> None:
    inputs = make_inputs(primary_sites=sites)
    assert statuses_of(inputs, "portal_drained_primary") == {
        "milan-net": expected,
        "unos": expected,
    }
    result = result_of(inputs, "milan-net", "portal_drained_primary")
    assert refs(result) == ([] if deciding is None else [deciding.reference])


@pytest.mark.parametrize(
    ("sites", "named"),
    [
        pytest.param((ILEUM, RECTUM), (ILEUM, RECTUM), id="ileum then rectum"),
        pytest.param((LUNG, ILEUM), (ILEUM, LUNG), id="bronchus then a later ileum"),
        pytest.param((LUNG, RECTUM, PANCREAS), (PANCREAS, RECTUM), id="most recent of each"),
        pytest.param((ILEUM, LUNG, UNSPECIFIED), (ILEUM, LUNG), id="and an unspecified one"),
    ],
)
def test_disagreeing_primaries_are_unknown_and_ask_the_mdt_which_one(
    sites: tuple[PrimarySite, ...], named: tuple[PrimarySite, PrimarySite]
) -> None:
    inputs = make_inputs(primary_sites=sites)
    assert statuses_of(inputs, "portal_drained_primary") == {
        "milan-net": UNKNOWN,
        "unos": UNKNOWN,
    }
    result = result_of(inputs, "unos", "portal_drained_primary")
    portal, not_portal = named
    assert refs(result) == [portal.reference, not_portal.reference]
    assert f"primary in {portal.site} ({portal.code}" in result.reason
    assert f"primary in {not_portal.site} ({not_portal.code}" in result.reason
    assert result.needs == ("MDT decision on which primary tumour the liver metastases arise from",)


def test_a_rectal_primary_is_not_portal_drained_and_says_where_it_is() -> None:
    result = result_of(make_inputs(primary_sites=(RECTUM,)), "unos", "portal_drained_primary")
    assert result.status is NOT_MET
    assert "primary in rectum (C7A.026" in result.reason
    assert "not drained by the portal system" in result.reason


def test_a_gastric_primary_is_met_with_a_review_remark() -> None:
    stomach = primary_site("stomach", "portal", code="C7A.092")
    result = result_of(make_inputs(primary_sites=(stomach,)), "milan-net", "portal_drained_primary")
    assert result.status is MET
    assert "proximal gastric primaries need review" in result.reason


def test_an_undetermined_site_asks_for_the_site() -> None:
    inputs = make_inputs(primary_sites=(UNSPECIFIED,))
    result = result_of(inputs, "milan-net", "portal_drained_primary")
    assert "does not say where" in result.reason
    assert result.needs
    assert "primary tumour site" in result.needs[0]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"primary_resections": (procedure("2025-06-01"),)}, MET, id="dated resection"),
        pytest.param({"primary_resections": (procedure(None),)}, MET, id="undated resection"),
        pytest.param(
            {"primary_resections": (procedure(ago(3)),)}, MET, id="resection three days ago"
        ),
        pytest.param(
            {"primary_resections": (procedure(),), "primary_resected": resected(False)},
            MET,
            id="procedure beats a contradicting assessment",
        ),
        pytest.param({"primary_resected": resected(True)}, MET, id="assessment resected"),
        pytest.param({"primary_resected": resected(False)}, NOT_MET, id="assessment not resected"),
        pytest.param(
            {"primary_resected": resected(None)}, UNKNOWN, id="uninterpretable assessment"
        ),
        pytest.param({}, UNKNOWN, id="nothing recorded"),
    ],
)
def test_primary_resected_needs_a_procedure_or_an_assessment(
    fields: dict[str, object], expected: Status
) -> None:
    assert statuses_of(make_inputs(**fields), "primary_resected") == {"milan-net": expected}


def test_primary_resected_by_procedure_names_the_procedure() -> None:
    inputs = make_inputs(primary_resections=(procedure("2025-06-01"),))
    result = result_of(inputs, "milan-net", "primary_resected")
    assert "Excision of small intestine (2025-06-01)" in result.reason
    assert refs(result) == ["Procedure/resection"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"primary_resections": (procedure(ago(182)),)}, MET, id="exactly 182 days"),
        pytest.param({"primary_resections": (procedure(ago(181)),)}, NOT_MET, id="181 days"),
        pytest.param({"primary_resections": (procedure(ago(400)),)}, MET, id="400 days"),
        pytest.param({"primary_resections": (procedure(None),)}, UNKNOWN, id="undated procedure"),
        pytest.param({"primary_resections": (procedure("2026-04"),)}, MET, id="April 2026"),
        pytest.param(
            {"primary_resections": (procedure("2026-05"),)}, UNKNOWN, id="May 2026 straddles"
        ),
        pytest.param({"primary_resections": (procedure("2026-06"),)}, NOT_MET, id="June 2026"),
        pytest.param(
            {"primary_resections": (procedure(ago(400)), procedure(ago(100), ref="Procedure/2"))},
            NOT_MET,
            id="the most recent procedure is judged",
        ),
        pytest.param(
            {
                "primary_resections": (procedure(ago(100)),),
                "primary_resected": resected(True, ago(300)),
            },
            NOT_MET,
            id="a procedure beats an older assessment",
        ),
        pytest.param({"primary_resected": resected(True, ago(182))}, MET, id="assessment 182 days"),
        pytest.param({"primary_resected": resected(True, ago(181))}, UNKNOWN, id="assessment 181"),
        pytest.param({"primary_resected": resected(True, None)}, UNKNOWN, id="undated assessment"),
        pytest.param({"primary_resected": resected(True, "2025")}, MET, id="assessment in 2025"),
        pytest.param({"primary_resected": resected(False)}, NOT_MET, id="assessed not resected"),
        pytest.param({"primary_resected": resected(None)}, UNKNOWN, id="uninterpretable"),
        pytest.param({}, UNKNOWN, id="nothing recorded"),
    ],
)
def test_primary_resected_6_months_needs_a_resection_at_least_182_days_old(
    fields: dict[str, object], expected: Status
) -> None:
    assert statuses_of(make_inputs(**fields), "primary_resected_6_months") == {"enets": expected}


def test_an_undated_resection_is_unknown_for_6_months_and_asks_for_its_date() -> None:
    inputs = make_inputs(primary_resections=(procedure(None),))
    result = result_of(inputs, "enets", "primary_resected_6_months")
    assert result.status is UNKNOWN
    assert result.needs == ("date of the primary tumour resection",)
    assert refs(result) == ["Procedure/resection"]
    assert result_of(inputs, "milan-net", "primary_resected").status is MET


def test_a_resection_181_days_ago_is_too_recent_with_its_date_in_the_reason() -> None:
    inputs = make_inputs(primary_resections=(procedure(ago(181)),))
    result = result_of(inputs, "enets", "primary_resected_6_months")
    assert result.status is NOT_MET
    assert f"primary resected {ago(181)}" in result.reason
    assert "less than 182 days ago" in result.reason


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"primary_resections": (procedure(),)}, MET, id="resection procedure"),
        pytest.param({"primary_resected": resected(True)}, MET, id="assessed resected"),
        pytest.param(
            {"primary_resected": resected(False), "primary_resectable": resectable(True)},
            MET,
            id="not resected but resectable",
        ),
        pytest.param(
            {"primary_resected": resected(False)}, UNKNOWN, id="not resected does not decide"
        ),
        pytest.param({"primary_resectable": resectable(True)}, MET, id="resectable"),
        pytest.param({"primary_resectable": resectable(False)}, NOT_MET, id="not resectable"),
        pytest.param(
            {"primary_resected": resected(False), "primary_resectable": resectable(False)},
            NOT_MET,
            id="neither resected nor resectable",
        ),
        pytest.param(
            {"primary_resections": (procedure(),), "primary_resectable": resectable(False)},
            MET,
            id="a resection beats 'not resectable'",
        ),
        pytest.param({"primary_resectable": resectable(None)}, UNKNOWN, id="uninterpretable"),
        pytest.param({}, UNKNOWN, id="nothing recorded"),
    ],
)
def test_primary_resected_or_resectable_reads_procedure_then_assessments(
    fields: dict[str, object], expected: Status
) -> None:
    inputs = make_inputs(**fields)
    assert statuses_of(inputs, "primary_resected_or_resectable") == {"resection": expected}


def test_primary_not_resectable_names_the_assessment() -> None:
    inputs = make_inputs(primary_resectable=resectable(False))
    result = result_of(inputs, "resection", "primary_resected_or_resectable")
    assert "primary not resectable" in result.reason
    assert refs(result) == ["Observation/primary-resectable"]


STAGED_CLEAR = finding(False, ref="Observation/staging")
BONE = condition("C7B.03", ref="Condition/bone", display="Bone metastasis")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"primary_resections": (procedure(),), "extrahepatic_staging": STAGED_CLEAR},
            MET,
            id="resected and staged clear",
        ),
        pytest.param(
            {"primary_resected": resected(True), "extrahepatic_staging": STAGED_CLEAR},
            MET,
            id="assessed resected and staged clear",
        ),
        pytest.param(
            {"primary_resections": (procedure(),), "extrahepatic_metastases": (BONE,)},
            NOT_MET,
            id="resected but bone metastasis",
        ),
        pytest.param(
            {"primary_resected": resected(False), "extrahepatic_staging": STAGED_CLEAR},
            NOT_MET,
            id="not resected, staged clear",
        ),
        pytest.param({"primary_resected": resected(False)}, NOT_MET, id="not resected, no staging"),
        pytest.param({"primary_resections": (procedure(),)}, UNKNOWN, id="resected, no staging"),
        pytest.param({"extrahepatic_staging": STAGED_CLEAR}, UNKNOWN, id="staged, no resection"),
        pytest.param({}, UNKNOWN, id="nothing recorded"),
    ],
)
def test_primary_and_extrahepatic_resected_combines_both_parts(
    fields: dict[str, object], expected: Status
) -> None:
    inputs = make_inputs(**fields)
    assert statuses_of(inputs, "primary_and_extrahepatic_resected") == {"unos": expected}


def test_primary_and_extrahepatic_resected_uses_primary_resected_not_the_6_month_version() -> None:
    inputs = make_inputs(
        primary_resections=(procedure(ago(30)),), extrahepatic_staging=STAGED_CLEAR
    )
    assert result_of(inputs, "unos", "primary_and_extrahepatic_resected").status is MET
    assert result_of(inputs, "enets", "primary_resected_6_months").status is NOT_MET


def test_a_met_combination_keeps_the_evidence_of_both_parts() -> None:
    inputs = make_inputs(primary_resections=(procedure(),), extrahepatic_staging=STAGED_CLEAR)
    result = result_of(inputs, "unos", "primary_and_extrahepatic_resected")
    assert refs(result) == ["Procedure/resection", "Observation/staging"]
    assert "primary_resected:" in result.reason
    assert "no_extrahepatic_disease:" in result.reason


def test_a_not_met_combination_names_only_the_failing_part() -> None:
    inputs = make_inputs(primary_resected=resected(False), extrahepatic_staging=STAGED_CLEAR)
    result = result_of(inputs, "unos", "primary_and_extrahepatic_resected")
    assert result.reason.startswith("primary_resected: ")
    assert "no_extrahepatic_disease" not in result.reason
    assert refs(result) == ["Observation/primary-resected"]


def test_an_unknown_combination_asks_for_what_its_unknown_part_needs() -> None:
    inputs = make_inputs(primary_resections=(procedure(),))
    result = result_of(inputs, "unos", "primary_and_extrahepatic_resected")
    assert result.status is UNKNOWN
    assert any("staging" in need for need in result.needs)
    assert "Procedure/resection" in refs(result)
