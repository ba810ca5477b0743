"""GET /criteria: the criteria documentation page, generated from the criteria."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from service.criteria import DEFAULT_SETS, EvaluationConfig
from service.criteria.documentation import rule_text
from service.criteria.sources import SOURCES, cite, full_citation
from tests.pages.helpers import AT, Node, fhir_app, make_app, parse_html

BARE_SEED = re.compile(r"\b00[0-4]\b")


@pytest.fixture
def client() -> FlaskClient:
    return make_app().test_client()


def page(client: FlaskClient) -> Node:
    response = client.get("/criteria")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return parse_html(response.get_data(as_text=True))


def test_the_page_carries_the_clinician_pages_security_headers(client: FlaskClient) -> None:
    response = client.get("/criteria")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "style-src 'self'" in csp
    assert "script-src" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_has_no_script_and_no_external_url(client: FlaskClient) -> None:
    tree = page(client)
    assert tree.find_all("script") == []
    for node in tree.iter():
        for name in ("href", "src", "action"):
            value = node.attrs.get(name)
            if value is not None:
                assert value.startswith(("/", "#")), f"<{node.tag} {name}={value!r}>"
        assert not any(name.startswith("on") for name in node.attrs), node.tag
    styles = [n.attrs["href"] for n in tree.find_all("link", rel="stylesheet")]
    assert styles == ["/pages/static/page.css", "/pages/static/criteria.css"]


def test_the_stylesheets_it_links_are_served(client: FlaskClient) -> None:
    for name in ("page.css", "criteria.css"):
        with client.get(f"/pages/static/{name}") as response:
            assert response.status_code == 200
            assert response.mimetype == "text/css"


def test_the_page_is_accessible_markup(client: FlaskClient) -> None:
    tree = page(client)
    html = tree.find_all("html")[0]
    assert html.attrs["lang"] == "en"
    assert len(tree.find_all("h1")) == 1
    assert tree.find_all("main")
    skip = tree.find_all("a", class_="skip-link")[0]
    assert tree.by_id(skip.attrs["href"].lstrip("#"))
    for section in tree.find_all("section") + tree.find_all("article"):
        label = section.attrs["aria-labelledby"]
        assert tree.by_id(label).text()
    for table in tree.find_all("table"):
        assert table.find_all("caption")
        assert all(th.attrs.get("scope") in ("col", "row") for th in table.find_all("th"))
    assert "supports, not replaces" in tree.find_all("p", class_="mdt-statement")[0].text()


def test_every_set_shows_its_version_pathway_and_every_criterion_with_its_rules(
    client: FlaskClient,
) -> None:
    tree = page(client)
    for criteria_set in DEFAULT_SETS:
        section = tree.by_id(criteria_set.id)
        assert section.find_all("h2")[0].text() == criteria_set.title
        meta = section.find_all("p", class_="set-meta")[0].text()
        assert f"{criteria_set.id} version {criteria_set.version}" in meta
        assert (
            "Liver transplantation" if criteria_set.pathway == "transplant" else "resection"
        ) in meta
        articles = section.find_all("article", class_="doc-criterion")
        assert [a.attrs["id"] for a in articles] == [
            f"{criteria_set.id}-{c.id}" for c in criteria_set.criteria
        ]
        for criterion, article in zip(criteria_set.criteria, articles, strict=True):
            text = article.text()
            assert criterion.label in text
            rules = rule_text(criterion)
            for rule in (rules.met, rules.not_met, rules.unknown, cite(criterion.rationale)):
                assert " ".join(rule.split()) in text
            for name in criterion.thresholds:
                assert name.replace("_", " ").replace("ki67", "Ki-67").lower() in text.lower()


def test_every_set_lists_full_citations_and_thirteen_source_attributes(
    client: FlaskClient,
) -> None:
    tree = page(client)
    for criteria_set in DEFAULT_SETS:
        section = tree.by_id(criteria_set.id)
        citations = [li.text() for li in section.find_all("ol", class_="citations")[0].children]
        assert citations
        assert all(c in {full_citation(s) for s in SOURCES} for c in citations)
        rows = section.find_all("table", class_="attributes")[0].find_all("tbody")[0].children
        numbers = [row.children[0].text() for row in rows]
        assert numbers == ["(1)", "(2)", "(3)", "(4)", "(4)", *(f"({n})" for n in range(5, 14))]
        attributes = {row.children[1].text(): row.children[2].text() for row in rows}
        assert attributes["Use of race"] == "Not used"
        expected_dob = criteria_set.pathway == "transplant"
        assert attributes["Use of date of birth"].startswith("Used" if expected_dob else "Not used")


def test_the_source_reviews_are_cited_in_full_with_incomplete_ones_marked(
    client: FlaskClient,
) -> None:
    tree = page(client)
    for seed, source in SOURCES.items():
        article = tree.by_id(f"source-{seed}")
        assert article.find_all("h3")[0].text() == source.short_name
        assert article.find_all("p", class_="citation")[0].text() == full_citation(
            seed, with_note=False
        )
        marked = article.find_all("p", class_="unverified")
        assert bool(marked) is not source.verified


def test_the_page_cites_reviews_by_name_never_by_file_number(client: FlaskClient) -> None:
    main = page(client).find_all("main")[0].text()
    assert not BARE_SEED.search(main.replace("10.5114", "")), BARE_SEED.findall(main)
    assert "Gut 2020" in main
    assert "Chan 2018" in main


def test_the_page_shows_the_settings_this_service_runs_with() -> None:
    client = make_app(
        MAX_ECOG_FOR_SURGERY=1, LAB_FRESHNESS_DAYS=30, BILIRUBIN_UPPER_LIMIT_MG_DL="1.0"
    ).test_client()
    text = page(client).text()
    assert "ECOG performance status of at most 1 " in text
    assert "from the last 30 days" in text
    assert "1 mg/dL (configurable default)" in text
    default = page(make_app().test_client()).text()
    assert "at most 2 " in default
    assert "from the last 90 days" in default
    assert EvaluationConfig().max_ecog_for_surgery == 2


def test_the_page_is_open_without_a_token_when_patients_come_from_a_fhir_server() -> None:
    client = fhir_app().test_client()
    response = client.get("/criteria")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public")


def test_the_clinician_page_links_to_the_criteria_page(client: FlaskClient) -> None:
    response = client.get(f"/patients/demo-transplant/evaluation?at={AT}")
    tree = parse_html(response.get_data(as_text=True))
    hrefs = [a.attrs.get("href") for a in tree.find_all("a")]
    assert "/criteria" in hrefs
    assert "/api/criteria-sets" not in hrefs


def test_the_clinician_page_cites_set_sources_by_short_name(client: FlaskClient) -> None:
    response = client.get(f"/patients/demo-transplant/evaluation?at={AT}")
    tree = parse_html(response.get_data(as_text=True))
    for node in tree.find_all("p", class_="set-source"):
        assert not BARE_SEED.search(node.text()), node.text()
    for note in tree.find_all("section", class_="notes")[0].find_all("li"):
        assert not BARE_SEED.search(note.text()), note.text()


def test_other_methods_are_refused(client: FlaskClient) -> None:
    response = client.post("/criteria")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_the_page_names_an_open_set_as_the_clinician_page_and_card_do(
    client: FlaskClient,
) -> None:
    """One word for an open set everywhere a clinician reads it: undecided."""
    text = page(client).text()
    assert "Undecided" in text
    assert "Indeterminate" not in text
    missing = client.get(f"/patients/demo-missing/evaluation?at={AT}").get_data(as_text=True)
    assert "Undecided" in missing
    # unknown also covers what only the MDT decides (resecting a G3 NET)
    assert "the decision is the MDT's" in text
