"""Which Procedure resects the primary (terminology.md "Procedures", criteria.md §7, v1.1).

Its ``reasonReference`` points to a primary-tumour Condition; or it has a primary-
resection code whose organ holds a recorded primary site (or no primary site is
recorded) and no ``reasonReference`` points to a Condition that is not a primary tumour.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.mappers.codes import SNOMED
from service.mappers.site_codes import terminology_from_mapping

from .conftest import condition, map_resources, procedure

LOBECTOMY = "173171007"
SMALL_BOWEL = "107938000"
WHIPPLE = "116241004"
APPENDECTOMY = "80146002"
LOCAL = "https://ehr.example.org/fhir/CodeSystem/procedures"

ILEUM = condition("C7A.012", id="ileum", clinical="resolved")
LUNG = condition("C7A.090", id="lung")
DUODENUM = condition("C7A.010", id="duodenum")
PANCREAS = condition((SNOMED, "93843007"), id="pancreas")
APPENDIX = condition("C7A.020", id="appendix")
MIDGUT = condition("C7A.095", id="midgut")
UNSPECIFIED = condition("C7A.00", id="unspecified")
UNKNOWN_PRIMARY = condition((SNOMED, "285613005"), id="unknown-primary")
LUNG_METASTASIS = condition("C78.00", id="lung-metastasis")
LIVER_METASTASIS = condition("C7B.02", id="liver-metastasis")


def resected(*resources: dict[str, Any], **options: Any) -> bool:
    """Say whether the record's Procedure ``pr1`` counts as a primary resection."""
    inputs = map_resources(*resources, **options)
    return [p.reference for p in inputs.primary_resections] == ["Procedure/pr1"]


@pytest.mark.parametrize(
    ("primaries", "code", "expected"),
    [
        pytest.param([LUNG], LOBECTOMY, True, id="lobectomy, lung primary"),
        pytest.param([ILEUM], LOBECTOMY, False, id="lobectomy, ileal primary"),
        pytest.param([ILEUM], SMALL_BOWEL, True, id="small-bowel excision, ileal primary"),
        pytest.param([MIDGUT], SMALL_BOWEL, True, id="small-bowel excision, midgut primary"),
        pytest.param([DUODENUM], SMALL_BOWEL, True, id="small-bowel excision, duodenal"),
        pytest.param([LUNG], SMALL_BOWEL, False, id="small-bowel excision, lung primary"),
        pytest.param([PANCREAS], WHIPPLE, True, id="Whipple, pancreatic primary"),
        pytest.param([DUODENUM], WHIPPLE, True, id="Whipple, duodenal primary"),
        pytest.param([ILEUM], WHIPPLE, False, id="Whipple, ileal primary"),
        pytest.param([APPENDIX], APPENDECTOMY, True, id="appendectomy, appendiceal primary"),
        pytest.param([ILEUM], APPENDECTOMY, False, id="appendectomy, ileal primary"),
        pytest.param([ILEUM, LUNG], LOBECTOMY, True, id="lobectomy, ileal and lung primaries"),
        pytest.param([], LOBECTOMY, True, id="lobectomy, no primary site recorded"),
        pytest.param([UNSPECIFIED], LOBECTOMY, False, id="lobectomy, site not determinable"),
        pytest.param([UNKNOWN_PRIMARY], SMALL_BOWEL, False, id="excision, unknown primary"),
        pytest.param(
            [condition("C7A.090", id="lung", verification="refuted"), ILEUM],
            LOBECTOMY,
            False,
            id="a refuted lung primary locates nothing",
        ),
    ],
)
def test_a_resection_code_counts_only_when_its_organ_holds_a_recorded_primary(
    primaries: list[dict[str, Any]], code: str, expected: bool
) -> None:
    assert resected(*primaries, procedure(code)) is expected


def test_a_lung_metastasectomy_coded_as_lobectomy_is_not_the_ileal_resection() -> None:
    assert not resected(
        ILEUM,
        LUNG_METASTASIS,
        procedure(LOBECTOMY, reasons=("Condition/lung-metastasis",)),
    )


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param(LUNG_METASTASIS, id="lung metastasis"),
        pytest.param(LIVER_METASTASIS, id="liver metastasis"),
        pytest.param(condition("K57.30", id="diverticulitis"), id="an unrecognised Condition"),
    ],
)
def test_a_reason_that_is_not_a_primary_tumour_excludes_even_a_fitting_code(
    reason: dict[str, Any],
) -> None:
    reference = f"Condition/{reason['id']}"
    assert not resected(ILEUM, reason, procedure(SMALL_BOWEL, reasons=(reference,)))
    assert not resected(reason, procedure(SMALL_BOWEL, reasons=(reference,)))


def test_a_reason_to_the_primary_counts_whatever_the_code_or_organ() -> None:
    assert resected(ILEUM, procedure(LOBECTOMY, reasons=("Condition/ileum",)))
    assert resected(
        ILEUM,
        LUNG_METASTASIS,
        procedure(SMALL_BOWEL, reasons=("Condition/ileum", "Condition/lung-metastasis")),
    )


def test_a_reason_outside_the_record_does_not_exclude_a_fitting_code() -> None:
    assert resected(ILEUM, procedure(SMALL_BOWEL, reasons=("Condition/elsewhere",)))


@pytest.mark.parametrize(
    ("entry", "primaries", "expected"),
    [
        pytest.param({}, [ILEUM], True, id="local code without an organ counts as before"),
        pytest.param({"organ": "lung"}, [ILEUM], False, id="local lung code, ileal primary"),
        pytest.param({"organ": "lung"}, [LUNG], True, id="local lung code, lung primary"),
        pytest.param(
            {"organ": ["colon", "small intestine"]},
            [ILEUM],
            True,
            id="local right hemicolectomy, ileal primary",
        ),
        pytest.param({"organ": "colon"}, [], True, id="local colon code, no primary recorded"),
    ],
)
def test_site_mapped_resection_codes_may_name_their_organ(
    entry: dict[str, Any], primaries: list[dict[str, Any]], expected: bool
) -> None:
    terminology = terminology_from_mapping(
        {"procedures": {"primary_resection": [{"system": LOCAL, "code": "RHC", **entry}]}}
    )
    code = (LOCAL, "RHC")
    assert resected(*primaries, procedure(code), terminology=terminology) is expected


def test_a_site_mapped_primary_site_may_name_its_organ() -> None:
    terminology = terminology_from_mapping(
        {
            "primary_sites": [
                {
                    "system": LOCAL,
                    "code": "ILEUM-NET",
                    "site": "ileum",
                    "drainage": "portal",
                    "organ": "small intestine",
                }
            ]
        }
    )
    local_primary = condition((LOCAL, "ILEUM-NET"), id="local")
    assert resected(local_primary, procedure(SMALL_BOWEL), terminology=terminology)
    assert not resected(local_primary, procedure(LOBECTOMY), terminology=terminology)


def test_a_reason_to_an_unspecified_primary_still_counts() -> None:
    assert resected(UNSPECIFIED, procedure(LOBECTOMY, reasons=("Condition/unspecified",)))


def test_a_site_mapped_primary_without_an_organ_constrains_nothing() -> None:
    terminology = terminology_from_mapping(
        {"primary_sites": [{"system": LOCAL, "code": "NET", "site": "ileum", "drainage": "portal"}]}
    )
    local_primary = condition((LOCAL, "NET"), id="local")
    assert resected(local_primary, procedure(LOBECTOMY), terminology=terminology)
