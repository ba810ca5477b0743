"""HTI-1 source attributes (45 CFR 170.315(b)(11)(iv)(A)) of every criteria set."""

from __future__ import annotations

from datetime import date

import pytest

from service.criteria import DEFAULT_SETS
from service.criteria.inputs import INPUT_NAMES
from service.criteria.model import CriteriaSet
from service.criteria.sources import full_citation
from service.criteria.transparency import (
    DATA_ATTRIBUTES,
    INPUT_ATTRIBUTES,
    RELEASES,
    TransparencyError,
    source_attributes,
    source_attributes_json,
)
from service.records import replace

SETS = {s.id: s for s in DEFAULT_SETS}
NEVER_USED = (
    "race",
    "ethnicity",
    "language",
    "sexualOrientation",
    "genderIdentity",
    "sex",
    "socialDeterminantsOfHealth",
)


def uses(set_id: str) -> dict[str, bool]:
    attributes = source_attributes(SETS[set_id], DEFAULT_SETS)
    return {use.key: use.used for use in attributes.data_use}


def test_every_criteria_input_is_classified_under_one_attribute_or_none() -> None:
    """A new input must say whether it is race, sex, date of birth, …: add it to
    INPUT_ATTRIBUTES in service/criteria/transparency.py."""
    assert sorted(INPUT_NAMES - set(INPUT_ATTRIBUTES)) == []
    for attribute in INPUT_ATTRIBUTES.values():
        assert attribute is None or attribute[0] in DATA_ATTRIBUTES


def test_the_nine_data_attributes_are_those_of_the_rule_in_its_order() -> None:
    assert list(DATA_ATTRIBUTES) == [
        "race",
        "ethnicity",
        "language",
        "sexualOrientation",
        "genderIdentity",
        "sex",
        "dateOfBirth",
        "socialDeterminantsOfHealth",
        "healthStatusAssessments",
    ]


@pytest.mark.parametrize("set_id", ["milan-net", "enets", "unos"])
def test_transplant_sets_use_the_date_of_birth_for_their_age_criterion(set_id: str) -> None:
    assert uses(set_id)["dateOfBirth"] is True


def test_the_resection_set_has_no_age_criterion_and_does_not_use_the_date_of_birth() -> None:
    assert uses("resection")["dateOfBirth"] is False


def test_the_resection_set_uses_a_health_status_assessment_the_ecog() -> None:
    attributes = source_attributes(SETS["resection"], DEFAULT_SETS)
    ecog = next(use for use in attributes.data_use if use.key == "healthStatusAssessments")
    assert ecog.used
    assert any("ECOG" in how for how in ecog.how)


@pytest.mark.parametrize("set_id", list(SETS))
def test_no_set_uses_race_ethnicity_language_sexual_orientation_gender_identity_sex_or_sdoh(
    set_id: str,
) -> None:
    used = uses(set_id)
    assert [key for key in NEVER_USED if used[key]] == []


def test_unos_reads_only_the_resection_remnant_so_it_does_not_use_the_ecog() -> None:
    """bilobar_unresectable reads adequate_future_liver_remnant of the resection set
    (criteria.md 1.1), not its fitness criterion."""
    assert uses("unos")["healthStatusAssessments"] is False
    attributes = source_attributes(SETS["unos"], DEFAULT_SETS)
    assert attributes.data_use == source_attributes(SETS["milan-net"], DEFAULT_SETS).data_use


def test_a_rule_not_saying_what_it_reads_of_another_set_inherits_the_whole_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("service.criteria.transparency.DEPENDENCY_READS", {})
    assert uses("unos")["healthStatusAssessments"] is True


def test_a_set_that_starts_reading_an_input_reports_it() -> None:
    resection = SETS["resection"]
    age = SETS["milan-net"].criterion("age_under_55")
    with_age = replace(resection, criteria=(*resection.criteria, age))
    attributes = source_attributes(with_age, (*DEFAULT_SETS[:3], with_age))
    assert {u.key: u.used for u in attributes.data_use}["dateOfBirth"] is True


def test_an_unclassified_input_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    trimmed = {k: v for k, v in INPUT_ATTRIBUTES.items() if k != "ecog"}
    monkeypatch.setattr("service.criteria.transparency.INPUT_ATTRIBUTES", trimmed)
    with pytest.raises(TransparencyError, match=r"\['ecog'\] are not classified"):
        source_attributes(SETS["resection"], DEFAULT_SETS)


def test_citations_are_the_full_citations_of_every_review_the_set_cites() -> None:
    milan = source_attributes(SETS["milan-net"], DEFAULT_SETS)
    assert milan.citations == tuple(full_citation(seed) for seed in ("001", "003", "004"))
    resection = source_attributes(SETS["resection"], DEFAULT_SETS)
    assert full_citation("002") in resection.citations
    assert full_citation("000") in resection.citations


def test_release_and_revision_dates_follow_the_set_version() -> None:
    for criteria_set in DEFAULT_SETS:
        attributes = source_attributes(criteria_set, DEFAULT_SETS)
        assert attributes.released == date(2026, 11, 22)
        assert attributes.released_version == "1.0.0"
        if criteria_set.version == "1.0.0":
            assert attributes.revised is None
        else:
            assert attributes.revised == RELEASES[criteria_set.version]


def test_a_revised_version_reports_its_revision_date() -> None:
    revised: CriteriaSet = replace(SETS["enets"], version="1.1.0")
    attributes = source_attributes(revised, DEFAULT_SETS)
    assert attributes.revised == date(2026, 11, 25)
    assert attributes.to_json()["revisionDate"] == "2026-11-25"


def test_a_version_without_a_release_date_is_refused() -> None:
    with pytest.raises(TransparencyError, match="version 9.9.9 has no release date"):
        source_attributes(replace(SETS["enets"], version="9.9.9"), DEFAULT_SETS)


def test_the_json_carries_all_thirteen_attributes_for_every_set() -> None:
    listed = source_attributes_json(DEFAULT_SETS)
    assert [item["criteriaSet"] for item in listed] == [s.id for s in DEFAULT_SETS]
    for item in listed:
        assert item["bibliographicCitation"]
        assert item["developer"]
        assert item["fundingSource"]
        assert item["releaseDate"] == "2026-11-22"
        assert "revisionDate" in item
        data_use = item["dataUse"]
        assert isinstance(data_use, dict)
        assert list(data_use) == list(DATA_ATTRIBUTES)
        for use in data_use.values():
            assert use["used"] is bool(use["how"])
