"""Recording the MDT's findings from the page, against a real FHIR server (sekmet): the
form appears only in a SMART launch that may create Observations, is pre-filled from the
record, writes only what changed, once, and the evaluation changes as the spec says."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.assessments.fields import FIELDS, parse_submission
from service.assessments.questionnaire import questionnaire
from service.fhir import Allowlist, FhirClient
from service.pages import access
from service.pages.recording import can_record
from service.seed import seed_demo_patients
from tests.contract.conftest import fhir  # noqa: F401 - the FHIR R4 schema fixture
from tests.contract.fhir_schema import FhirValidator
from tests.integration.sekmet import FhirServer, running_sekmet
from tests.pages.helpers import SECRET, make_app, parse_html

PATIENT = "demo-transplant"
SESSION = "s" * 43
WRITE = "launch openid fhirUser patient/Patient.rs patient/Observation.rs patient/Observation.c"


@dataclass(frozen=True)
class Launch:
    patient_id: str
    fhir_base_url: str
    access_token: str = field(repr=False)
    scope: str | None = WRITE
    fhir_user: str | None = "Practitioner/dr-hepatology"
    need_patient_banner: bool = True
    style: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    with running_sekmet(tmp_path_factory.mktemp("sekmet-recording")) as fhir_server:
        seed_demo_patients(fhir_server.base_url)
        yield fhir_server


@pytest.fixture
def app(server: FhirServer) -> Flask:
    return make_app(
        FHIR_BASE_URL=server.base_url,
        FHIR_ALLOWLIST=server.base_url,
        PAGE_LINK_SECRET=SECRET,
        AUDIT_HMAC_KEY="a" * 40,
        API_AUTH="none",
    )


def launched(
    monkeypatch: pytest.MonkeyPatch, server: FhirServer, app: Flask, **kw: Any
) -> FlaskClient:
    context = Launch(PATIENT, server.base_url, "user-token", **kw)
    monkeypatch.setattr(access, "current_smart_context", lambda patient_id=None: context)
    client = app.test_client()
    client.set_cookie("nelm_smart", SESSION)
    return client


def page(client: FlaskClient) -> tuple[int, Any]:
    response = client.get(f"/patients/{PATIENT}/evaluation")
    return response.status_code, parse_html(response.get_data(as_text=True))


def form_data(tree: Any, **answers: str) -> dict[str, str]:
    data = {"submission": tree.find_all("input", name="submission")[0].attrs["value"]}
    for node in tree.find_all("input"):
        name = node.attrs.get("name")
        if name == "submission" or name is None:
            continue
        if node.attrs.get("type") == "radio":
            if "checked" in node.attrs:
                data[name] = node.attrs["value"]
        else:
            data[name] = node.attrs.get("value", "")
    data.update(answers)
    return data


def observations(server: FhirServer, code: str) -> list[dict[str, Any]]:
    client = FhirClient(server.base_url, allowlist=Allowlist([server.base_url]))
    with client:
        found = client.search("Observation", {"patient": PATIENT})
    return [
        r for r in found if any(c.get("code") == code for c in r.get("code", {}).get("coding", []))
    ]


def set_chip(tree: Any, name: str) -> str:
    chips = [c.text() for c in tree.find_all("span", class_="set-chip")]
    return next(chip for chip in chips if chip.startswith(name))


# --- who sees the form ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "allowed"),
    [
        ("patient/Observation.c", True),
        ("patient/Observation.cruds", True),
        ("patient/Observation.rs", False),
        ("patient/Observation.write", True),
        ("patient/*.*", True),
        ("user/Observation.cu", True),
        ("patient/Condition.c", False),
        (None, False),
    ],
)
def test_recording_needs_a_scope_that_creates_observations(
    scope: str | None, allowed: bool
) -> None:
    assert can_record(scope) is allowed


def test_without_write_scope_the_page_has_no_form_and_a_post_is_refused(
    monkeypatch: pytest.MonkeyPatch, server: FhirServer, app: Flask
) -> None:
    client = launched(monkeypatch, server, app, scope="launch patient/*.rs")
    status, tree = page(client)
    assert status == 200
    assert tree.find_all("form") == []
    answer = client.post(f"/patients/{PATIENT}/assessments", data={"submission": "x" * 43})
    assert answer.status_code == 403


def test_without_a_launch_a_post_is_401(app: Flask) -> None:
    answer = app.test_client().post(f"/patients/{PATIENT}/assessments", data={})
    assert answer.status_code == 401


# --- the form ----------------------------------------------------------------------------------


def test_the_form_is_prefilled_from_the_record(
    monkeypatch: pytest.MonkeyPatch, server: FhirServer, app: Flask
) -> None:
    status, tree = page(launched(monkeypatch, server, app))
    assert status == 200
    form = tree.find_all("form")[0]
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == f"/patients/{PATIENT}/assessments"
    burden = tree.by_id("field-hepatic-tumour-burden").attrs["value"]
    recorded = observations(server, "hepatic-tumour-burden")[-1]["valueQuantity"]["value"]
    assert burden == str(recorded)
    checked = {
        n.attrs["name"]: n.attrs["value"]
        for n in form.find_all("input")
        if n.attrs.get("type") == "radio" and "checked" in n.attrs
    }
    assert checked["extrahepatic-disease"] == "no"
    assert checked["metastatic-pattern"] == "type-iii"
    assert "Practitioner/dr-hepatology" in tree.by_id("record").text()


def test_sending_the_prefilled_form_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, server: FhirServer, app: Flask
) -> None:
    client = launched(monkeypatch, server, app)
    before = len(observations(server, "hepatic-tumour-burden"))
    _, tree = page(client)
    answer = client.post(f"/patients/{PATIENT}/assessments", data=form_data(tree))
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("evaluation?recorded=0")
    assert len(observations(server, "hepatic-tumour-burden")) == before


def test_a_recorded_finding_is_written_once_and_changes_the_evaluation(
    monkeypatch: pytest.MonkeyPatch,
    server: FhirServer,
    app: Flask,
    fhir: FhirValidator,  # noqa: F811
) -> None:
    client = launched(monkeypatch, server, app)
    _, tree = page(client)
    assert "eligible" in set_chip(tree, "Milan-NET")
    data = form_data(tree, **{"hepatic-tumour-burden": "55"})
    first = client.post(f"/patients/{PATIENT}/assessments", data=data)
    assert first.status_code == 303
    assert first.headers["Location"].endswith("evaluation?recorded=1")
    again = client.post(f"/patients/{PATIENT}/assessments", data=data)  # double submit
    assert again.status_code == 303
    assert again.headers["Location"].endswith("evaluation?repeat=1")
    written = [
        o
        for o in observations(server, "hepatic-tumour-burden")
        if o.get("valueQuantity", {}).get("value") == 55
    ]
    assert len(written) == 1
    observation = written[0]
    assert fhir.errors(observation) == []
    assert observation["status"] == "final"
    assert observation["performer"] == [{"reference": "Practitioner/dr-hepatology"}]
    assert observation["subject"] == {"reference": f"Patient/{PATIENT}"}
    effective = datetime.fromisoformat(observation["effectiveDateTime"])
    assert abs((datetime.now(UTC) - effective).total_seconds()) < 300
    # burden 55 % is 50 % or more: Milan-NET and UNOS now not eligible (criteria.md §4)
    status, tree = page(client)
    assert status == 200
    assert "not eligible" in set_chip(tree, "Milan-NET")
    assert "not eligible" in set_chip(tree, "UNOS")
    assert tree.by_id("field-hepatic-tumour-burden").attrs["value"] == "55"


def test_invalid_answers_are_shown_in_the_form_and_nothing_is_written(
    monkeypatch: pytest.MonkeyPatch, server: FhirServer, app: Flask
) -> None:
    client = launched(monkeypatch, server, app)
    before = len(observations(server, "future-liver-remnant"))
    _, tree = page(client)
    data = form_data(tree, **{"future-liver-remnant": "135", "hepatic-tumour-burden": "abc"})
    answer = client.post(f"/patients/{PATIENT}/assessments", data=data)
    assert answer.status_code == 400
    shown = parse_html(answer.get_data(as_text=True))
    assert "Enter a number from 0 to 100." in shown.by_id("error-future-liver-remnant").text()
    assert shown.by_id("field-future-liver-remnant").attrs["value"] == "135"
    assert shown.by_id("field-future-liver-remnant").attrs["aria-invalid"] == "true"
    assert "2 answers to correct" in shown.text()
    assert len(observations(server, "future-liver-remnant")) == before
    # the corrected form can be sent
    fixed = form_data(shown, **{"future-liver-remnant": "35", "hepatic-tumour-burden": "20"})
    assert client.post(f"/patients/{PATIENT}/assessments", data=fixed).status_code == 303


def test_a_form_from_another_session_is_not_acted_on(
    monkeypatch: pytest.MonkeyPatch, server: FhirServer, app: Flask
) -> None:
    client = launched(monkeypatch, server, app)
    before = len(observations(server, "primary-resectable"))
    _, tree = page(client)
    data = form_data(tree, **{"primary-resectable": "no"})
    client.set_cookie("nelm_smart", "t" * 43)  # another browser's session
    answer = client.post(f"/patients/{PATIENT}/assessments", data=data)
    assert answer.status_code == 200
    assert "expired; nothing was recorded" in answer.get_data(as_text=True)
    assert len(observations(server, "primary-resectable")) == before


# --- the same form as a Questionnaire -------------------------------------------------------


def test_the_form_is_published_as_a_valid_questionnaire(
    app: Flask,
    fhir: FhirValidator,  # noqa: F811
) -> None:
    answer = app.test_client().get("/fhir/Questionnaire/nelm-mdt-assessment")
    assert answer.status_code == 200
    assert answer.mimetype == "application/fhir+json"
    resource = answer.get_json()
    assert fhir.errors(resource) == []
    assert [item["linkId"] for item in resource["item"]] == [f.code for f in FIELDS]
    types = {item["linkId"]: item["type"] for item in resource["item"]}
    assert types["hepatic-tumour-burden"] == "decimal"
    assert types["metastatic-pattern"] == "choice"
    assert types["primary-resected"] == "boolean"
    assert resource == questionnaire(resource["version"])


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("35", None),
        ("35.5", None),
        ("35.55", "Use at most one decimal place."),
        ("-1", "Enter a number from 0 to 100."),
        ("1e2", None),
        ("NaN", "Enter a number from 0 to 100."),
        ("thirty", "Enter a number from 0 to 100 (for example 35)."),
    ],
)
def test_percentages_are_checked(typed: str, error: str | None) -> None:
    sent = parse_submission({"future-liver-remnant": typed}, {})
    assert sent.errors.get("future-liver-remnant") == error


def test_only_changed_answers_are_written() -> None:
    from decimal import Decimal

    sent = parse_submission(
        {"hepatic-tumour-burden": "30", "primary-resected": "yes", "metastatic-pattern": "type-ii"},
        {"hepatic-tumour-burden": Decimal(30), "primary-resected": True},
    )
    assert dict(sent.changes) == {"metastatic-pattern": "type-ii"}
    assert not re.search("x", "")
