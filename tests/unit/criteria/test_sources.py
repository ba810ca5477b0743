"""The source reviews as bibliographic data: short names, full citations, citing seed ids."""

from __future__ import annotations

import re

import pytest

from service.criteria import DEFAULT_SETS
from service.criteria.notes import (
    ABLATION_NOTE,
    ELTR_NOTE,
    FAVOURABLE_NOTE,
    FRENCH_NOTE,
    FRILLING_II_NOTE,
)
from service.criteria.sources import (
    SOURCES,
    UnknownSourceError,
    cite,
    full_citation,
    seeds_in,
    short_citation,
)

BARE_SEED = re.compile(r"\b00[0-4]\b")


def test_the_five_reviews_are_the_five_seed_files() -> None:
    assert list(SOURCES) == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize(
    ("seed", "short"),
    [
        ("000", "Gut 2020"),
        ("001", "Machairas et al."),
        ("002", "HPB 2015 review"),
        ("003", "Chan 2018"),
        ("004", "Alagusundaramoorthy 2014"),
    ],
)
def test_each_review_has_a_short_name_for_cards_and_pages(seed: str, short: str) -> None:
    assert short_citation(seed) == short


def test_a_confirmed_citation_has_authors_title_journal_year_volume_pages_and_doi() -> None:
    assert full_citation("003") == (
        "Chan MY, Ma KW, Chan A. Surgical management of neuroendocrine tumor-associated "
        "liver metastases: a review. Gland Surgery. 2018;7(1):28-35. "
        "doi:10.21037/gs.2017.11.16."
    )
    assert full_citation("000").endswith("2020;15(3):207-214. doi:10.5114/pg.2020.91501.")


def test_verified_reviews_have_every_field_and_no_note() -> None:
    for source in SOURCES.values():
        if source.verified:
            assert source.authors
            assert source.year
            assert source.volume
            assert source.pages
            assert source.doi
            assert source.doi_url == f"https://doi.org/{source.doi}"
            assert source.note == ""
            assert "(" not in full_citation(source.seed).rsplit("doi:", 1)[1]


def test_an_unconfirmed_citation_leaves_out_what_is_missing_and_says_so() -> None:
    machairas = full_citation("001")
    assert machairas.startswith("Machairas N, Daskalakis K, Felekouras E, Alexandraki KI")
    assert "doi:" not in machairas
    assert "could not be confirmed" in machairas
    hpb = full_citation("002")
    assert hpb.startswith("Authors not confirmed. When should a liver resection be performed")
    assert "doi:10.1111/hpb.12225" in hpb
    assert "could not be confirmed" in hpb
    assert "could not be confirmed" not in full_citation("002", with_note=False)


def test_every_review_says_how_it_was_identified() -> None:
    for source in SOURCES.values():
        assert len(source.identified_by) > 40
        assert source.verified or source.note


def test_cite_replaces_seed_ids_in_project_text_with_short_names() -> None:
    assert cite("001 Table 2 (Milan); 004 (Mazzaferro criteria)") == (
        "Machairas et al. Table 2 (Milan); Alagusundaramoorthy 2014 (Mazzaferro criteria)"
    )
    assert cite("(000, 001, 004)") == "(Gut 2020, Machairas et al., Alagusundaramoorthy 2014)"
    assert cite("needs MDT judgement, 002/004") == (
        "needs MDT judgement, HPB 2015 review/Alagusundaramoorthy 2014"
    )


def test_cite_leaves_numbers_that_are_not_seed_ids_alone() -> None:
    for text in (
        "0.001 mg/dL",
        "Observation/001",
        "Condition/obs-001",
        "urn:uuid:1234-004-ab",
        "001.5",
        "1.0.0",
        "2004",
        "0045",
        "005",
        "003a",
    ):
        assert cite(text) == text


def test_cite_is_idempotent() -> None:
    once = cite("(000, 001, 002, 003, 004)")
    assert cite(once) == once


def test_seeds_in_lists_each_cited_review_once_in_seed_order() -> None:
    assert seeds_in(["004 and 001", "001 Fig. 2; 003"]) == ("001", "003", "004")
    assert seeds_in(["no review here"]) == ()


def test_an_unknown_seed_id_is_refused() -> None:
    with pytest.raises(UnknownSourceError):
        short_citation("005")
    with pytest.raises(UnknownSourceError):
        full_citation("1")


def test_every_seed_id_the_criteria_cite_is_a_known_review() -> None:
    texts = [s.source for s in DEFAULT_SETS]
    texts += [c.source for s in DEFAULT_SETS for c in (*s.criteria, *s.helpers)]
    cited = seeds_in(texts)
    assert set(cited) == set(SOURCES)
    for text in texts:
        assert not BARE_SEED.search(cite(text)), text


@pytest.mark.parametrize(
    "note", [ELTR_NOTE, FRENCH_NOTE, FAVOURABLE_NOTE, FRILLING_II_NOTE, ABLATION_NOTE]
)
def test_notes_cite_the_reviews_by_short_name_never_by_file_number(note: str) -> None:
    assert not BARE_SEED.search(note), note
    assert any(source.short_name in note for source in SOURCES.values())
