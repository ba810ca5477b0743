"""The clinician page on the embedded demo store: content, structure, and safety."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import __version__
from service.criteria import DEFAULT_SETS
from service.criteria.notes import SUPPORT_NOTE
from service.engine import evaluate_record
from service.pages.links import PageLinks
from tests.pages.helpers import (
    AT,
    CRITERION_STATUS_TEXT,
    DEMO_PATIENTS,
    SELF,
    SET_STATUS_TEXT,
    expected,
    make_app,
    parse_html,
)

SET_IDS = [s.id for s in DEFAULT_SETS]


@pytest.fixture(scope="module")
def app() -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def page(client: FlaskClient, patient_id: str, query: str = f"at={AT}") -> tuple[int, str]:
    response = client.get(f"/patients/{patient_id}/evaluation?{query}")
    return response.status_code, response.get_data(as_text=True)


def demo_result(app: Flask, patient_id: str) -> dict[str, Any]:
    record = app.extensions["nelm_source"].record(patient_id)
    return evaluate_record(
        record,
        date.fromisoformat(AT),
        config=app.extensions["nelm_evaluation_config"],
        terminology=app.extensions["nelm_terminology"],
    )


# --- content -----------------------------------------------------------------------------


def test_there_are_demo_patients_to_check() -> None:
    assert len(DEMO_PATIENTS) >= 5


@pytest.mark.parametrize("patient_id", DEMO_PATIENTS)
def test_the_identity_header_names_the_patient_birth_age_sex_and_record_number(
    app: Flask, client: FlaskClient, patient_id: str
) -> None:
    tree = parse_html(page(client, patient_id)[1])
    record = app.extensions["nelm_source"].record(patient_id)
    patient = record.patient.resource
    header = tree.find_all("header", class_="identity")[0]
    name = patient["name"][0]
    assert header.find_all("p", class_="identity-name")[0].text() == (
        f"Patient: {name['family'].upper()}, {' '.join(name['given'])}"
    )
    facts = header.find_all("dl")[0].text()
    assert f"Born {patient['birthDate']} (" in facts
    assert " years)" in facts
    assert f"Sex {patient['gender'].capitalize()}" in facts
    assert f"Record no. {patient['identifier'][0]['value']}" in facts
    assert AT in header.text()
    assert patient_id not in tree.find_all("title")[0].text()
    assert name["family"].upper() in tree.find_all("title")[0].text()


@pytest.mark.parametrize("patient_id", DEMO_PATIENTS)
def test_one_sentence_per_pathway_in_clinical_words(
    app: Flask, client: FlaskClient, patient_id: str
) -> None:
    tree = parse_html(page(client, patient_id)[1])
    result = demo_result(app, patient_id)
    pathways = tree.find_all("li", class_="pathway")
    assert len(pathways) == 2
    want = expected(patient_id)["sets"]
    for item, pathway in zip(pathways, ("transplant", "resection"), strict=True):
        sentence = item.find_all("p", class_="pathway-sentence")[0].text()
        assert sentence.split(" ")[0] in ("Eligible", "Not", "Undecided")
        assert not re.search(r"\b[a-z0-9]+_[a-z0-9_]+\b", sentence), sentence  # no ids
        assert not re.search(r"\(\d{3}", sentence)  # no file numbers
        chips = item.find_all("span", class_="set-chip")
        sets = [a for a in result["assessments"] if a["pathway"] == pathway]
        assert len(chips) == len(sets)
        for chip, assessment in zip(chips, sets, strict=True):
            assert SET_STATUS_TEXT[want[assessment["criteriaSet"]]["status"]].lower() in (
                chip.text().replace("undecided", "indeterminate")
            )
    statement = tree.find_all("p", class_="mdt-statement")[0].text()
    assert "supports, not replaces, the multidisciplinary team (MDT)" in statement
    footer = tree.find_all("footer")[0].text()
    assert f"nelm-cds {__version__}" in footer
    for criteria_set in DEFAULT_SETS:
        assert criteria_set.version in footer


@pytest.mark.parametrize("patient_id", DEMO_PATIENTS)
def test_every_criterion_is_one_row_with_a_cell_per_set_and_its_details(
    app: Flask, client: FlaskClient, patient_id: str
) -> None:
    tree = parse_html(page(client, patient_id)[1])
    result = demo_result(app, patient_id)
    want = expected(patient_id)
    columns = [a["criteriaSet"] for a in result["assessments"]]
    ids = {c["id"] for a in result["assessments"] for c in a["criteria"]}
    rows = tree.find_all("tr", class_="row")
    assert sorted(r.attrs["id"] for r in rows) == sorted(f"criterion-{i}" for i in ids)
    for assessment in result["assessments"]:
        column = columns.index(assessment["criteriaSet"])
        for criterion in assessment["criteria"]:
            row = tree.by_id(f"criterion-{criterion['id']}")
            cell = row.find_all("td")[column]
            status = want["sets"][assessment["criteriaSet"]]["criteria"][criterion["id"]]
            assert CRITERION_STATUS_TEXT[status] in cell.text()
            details = row.find_all("details")[0].text()
            for evidence in criterion["evidence"]:
                assert evidence["reference"] in details
                if "date" in evidence:
                    assert evidence["date"][:10] in details
            if criterion["status"] == "unknown":
                assert "To record:" in details
            assert "Source:" in details
        for row in rows:
            if row.attrs["id"].removeprefix("criterion-") not in {
                c["id"] for c in assessment["criteria"]
            }:
                assert "not in this set" in row.find_all("td")[column].text()


@pytest.mark.parametrize("patient_id", DEMO_PATIENTS)
def test_notes_and_warnings_sections_are_shown(
    app: Flask, client: FlaskClient, patient_id: str
) -> None:
    tree = parse_html(page(client, patient_id)[1])
    result = demo_result(app, patient_id)
    notes = tree.find_all("section", class_="notes")[0]
    shown = [li.text() for li in notes.find_all("li")]
    assert len(shown) == len([n for n in result["notes"] if n != SUPPORT_NOTE])
    assert shown, "every demo patient has at least one note"
    warnings = tree.find_all("section", class_="warnings")[0]
    assert warnings.find_all("h2")[0].text() == "Data warnings"
    assert "None" in warnings.text()


@pytest.mark.parametrize("patient_id", DEMO_PATIENTS)
def test_what_would_change_the_verdict_is_the_result_s_ranking(
    app: Flask, client: FlaskClient, patient_id: str
) -> None:
    tree = parse_html(page(client, patient_id)[1])
    result = demo_result(app, patient_id)
    section = tree.by_id("next")
    ranked = [i["label"] for i in result["decisiveData"]["toRecord"]]
    lists = section.find_all("ol", class_="to-record")
    if not ranked:
        assert lists == []
    else:
        shown = [
            li.find_all("span", class_="item-label")[0].text() for li in lists[0].find_all("li")
        ]
        assert shown == ranked
    apart = [i["label"] for i in result["decisiveData"]["wouldNotChange"]]
    closed = section.find_all("details", class_="apart")
    if apart:
        assert "open" not in closed[0].attrs
        assert [li.text() for li in closed[0].find_all("li")] == apart
    else:
        assert closed == []


@pytest.mark.parametrize("patient_id", DEMO_PATIENTS)
def test_the_history_shows_four_timelines_with_their_values(
    client: FlaskClient, patient_id: str
) -> None:
    tree = parse_html(page(client, patient_id)[1])
    figures = tree.find_all("figure", class_="timeline")
    assert [f.attrs["id"] for f in figures] == [
        "timeline-ki67",
        "timeline-bilirubin",
        "timeline-platelets",
        "timeline-disease-status",
    ]
    for figure in figures:
        svgs = figure.find_all("svg")
        tables = figure.find_all("table")
        if svgs:
            assert svgs[0].attrs["role"] == "img"
            assert tables, "every chart has its values as a table"
        else:
            assert "No result recorded." in figure.text()


def test_the_evaluation_date_defaults_to_today(client: FlaskClient) -> None:
    from datetime import UTC, datetime

    status, html = page(client, "demo-transplant", query="")
    assert status == 200
    assert f'<time datetime="{datetime.now(UTC).date().isoformat()}">' in html


# --- structure and accessibility -----------------------------------------------------------


def test_the_page_is_semantic_html_in_english_with_one_h1(client: FlaskClient) -> None:
    html = page(client, "demo-g3")[1]
    tree = parse_html(html)
    assert tree.find_all("html")[0].attrs["lang"] == "en"
    assert "NELM eligibility" in tree.find_all("title")[0].text()
    assert len(tree.find_all("h1")) == 1
    assert len(tree.find_all("main")) == 1
    assert tree.find_all("header")
    assert len(tree.find_all("h2")) >= 4
    for section in tree.find_all("section"):
        labelled_by = section.attrs["aria-labelledby"]
        assert tree.by_id(labelled_by).tag in ("h1", "h2", "h3")
    headers = tree.find_all("th")
    assert headers
    assert all(th.attrs.get("scope") in ("col", "row", "rowgroup") for th in headers)
    assert tree.find_all("caption")
    assert "<script" not in html.lower()
    assert "style=" not in html  # every style in the stylesheet (the CSP allows no inline)


def test_ids_on_the_page_are_unique(client: FlaskClient) -> None:
    tree = parse_html(page(client, "demo-missing")[1])
    ids = [n.attrs["id"] for n in tree.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids))


def test_the_page_has_no_external_url_only_its_own_address(client: FlaskClient) -> None:
    html = page(client, "demo-resection")[1]
    html = html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a namespace, not a URL
    urls = re.findall(r"https?://[^\s\"'<>]+", html)
    assert urls, "the printed page names its own address"
    assert all(url.startswith(f"{SELF}/patients/demo-resection/evaluation") for url in urls)
    tree = parse_html(html)
    for node in tree.iter():
        for name in ("href", "src"):
            if name in node.attrs:
                assert node.attrs[name].startswith(("/", "#")), node.attrs[name]


def test_with_the_demo_store_references_are_text_not_links(client: FlaskClient) -> None:
    tree = parse_html(page(client, "demo-transplant")[1])
    references = tree.find_all(class_="reference")
    assert references
    assert all(node.tag in ("span", "td") for node in references)
    assert not any("href" in node.attrs for node in references)


def test_the_printed_address_carries_the_date_and_no_token(client: FlaskClient) -> None:
    tree = parse_html(page(client, "demo-g3", query=f"at={AT}&token=abc")[1])
    printed = tree.find_all(class_="page-url")[0].text()
    assert printed.startswith(f"Page: {SELF}/patients/demo-g3/evaluation?at={AT} ")
    assert "token" not in printed


def test_answers_carry_security_headers(client: FlaskClient) -> None:
    response = client.get(f"/patients/demo-g3/evaluation?at={AT}")
    assert response.mimetype == "text/html"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "style-src 'self'" in policy
    assert "script-src" not in policy  # none at all, by default-src


def test_the_stylesheets_are_served_by_the_page_and_load_nothing_else(client: FlaskClient) -> None:
    html = page(client, "demo-g3")[1]
    links = [n for n in parse_html(html).find_all("link") if n.attrs.get("rel") == "stylesheet"]
    assert [n.attrs["href"] for n in links] == [
        "/pages/static/page.css",
        "/pages/static/evaluation.css",
    ]
    for link in links:
        response = client.get(link.attrs["href"])
        assert response.status_code == 200
        assert response.mimetype == "text/css"
        css = response.get_data(as_text=True)
        response.close()
        assert "http" not in css
        assert "@import" not in css
        assert "url(" not in css
        assert css.count("{") == css.count("}")
        assert "@media print" in css


# --- errors ------------------------------------------------------------------------------


def test_an_unknown_demo_patient_is_a_404_page(client: FlaskClient) -> None:
    status, html = page(client, "nobody")
    assert status == 404
    assert "Error 404" in parse_html(html).text()


@pytest.mark.parametrize("query", ["at=2026-13-01", "at=yesterday", "at=1899-12-31"])
def test_a_bad_evaluation_date_is_a_400_page(client: FlaskClient, query: str) -> None:
    status, html = page(client, "demo-g3", query=query)
    assert status == 400
    assert "parameter &#39;at&#39;" in html


def test_a_bad_patient_id_is_a_400_page(client: FlaskClient) -> None:
    status, html = page(client, "a" * 65)
    assert status == 400
    assert "<h1>" in html


def test_a_missing_stylesheet_is_a_404_page_not_a_500(client: FlaskClient) -> None:
    response = client.get("/pages/static/nothing.css")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_an_unexpected_failure_is_a_plain_500_page_without_details(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("secret detail Patient/demo-g3")

    monkeypatch.setattr("service.pages.routes.run_evaluation", broken)
    status, html = page(client, "demo-g3")
    assert status == 500
    assert "secret detail" not in html
    assert "Error 500" in parse_html(html).text()


def test_with_the_demo_store_the_secret_is_random_per_process() -> None:
    first, second = make_app(), make_app()
    links_1: PageLinks = first.extensions["nelm_page_links"]
    links_2: PageLinks = second.extensions["nelm_page_links"]
    assert links_1.secret != links_2.secret
    assert not links_1.required
    assert links_1.token_for_card("demo-g3") is None
