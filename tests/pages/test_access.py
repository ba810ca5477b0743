"""Who may open the page when patients come from a FHIR server (``responses`` plays it):
a signed link for that patient, or a SMART launch for that patient; nobody else, and a
refusal says nothing about the patient."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient

from service.pages import access
from service.pages.links import sign_page_link
from service.settings import SettingError
from tests.conftest import AUDIT_HMAC_KEY
from tests.pages.helpers import AT, FHIR_BASE, SECRET, SELF, fhir_app, make_app, parse_html

EVIL = "<script>alert('x')</script>"
SMART_BASE = "https://smart.example.test/fhir"


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }


def ki67(resource_id: str, when: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": resource_id,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29593-1", "display": EVIL}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": when,
        **value,
    }


PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "birthDate": "1980-01-01",
    "name": [{"text": EVIL}],
}
OBSERVATIONS = searchset(
    ki67("ki67-1", "2026-10-01", valueQuantity={"value": 5, "unit": EVIL}),
    ki67("ki67-2", "2026-11-01", valueString=EVIL),
    ki67("ki67-bad", EVIL, valueQuantity={"value": 5, "unit": "%"}),
)
CONDITIONS = searchset(
    {
        "resourceType": "Condition",
        "id": "primary",
        "code": {
            "coding": [
                {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C7A.012", "display": EVIL}
            ],
            "text": EVIL,
        },
        "subject": {"reference": "Patient/p1"},
        "onsetDateTime": "2024-01-01",
    }
)


def serve_patient(mock: responses.RequestsMock, base: str = FHIR_BASE) -> None:
    mock.add(responses.GET, f"{base}/Patient/p1", json=PATIENT)
    mock.add(responses.GET, f"{base}/Observation", json=OBSERVATIONS)
    mock.add(responses.GET, f"{base}/Condition", json=CONDITIONS)
    mock.add(responses.GET, f"{base}/Procedure", json=searchset())


@pytest.fixture
def fhir() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def app() -> Flask:
    return fhir_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def open_page(client: FlaskClient, patient_id: str, token: str | None) -> tuple[int, str]:
    query = f"at={AT}" + (f"&token={token}" if token is not None else "")
    response = client.get(f"/patients/{patient_id}/evaluation?{query}")
    return response.status_code, response.get_data(as_text=True)


# --- signed links ---------------------------------------------------------------------------


def test_a_valid_signed_link_opens_the_page_with_links_to_the_fhir_server(
    client: FlaskClient, fhir: responses.RequestsMock
) -> None:
    serve_patient(fhir)
    status, html = open_page(client, "p1", sign_page_link("p1", SECRET, 900))
    assert status == 200
    tree = parse_html(html)
    assert "Record no." in tree.find_all("header", class_="identity")[0].text()
    links = {a.attrs["href"] for a in tree.find_all("a", class_="reference")}
    assert f"{FHIR_BASE}/Observation/ki67-2" in links
    assert all(a.attrs["rel"] == "noreferrer" for a in tree.find_all("a", class_="reference"))


def test_record_values_are_escaped_never_markup(
    client: FlaskClient, fhir: responses.RequestsMock
) -> None:
    serve_patient(fhir)
    status, html = open_page(client, "p1", sign_page_link("p1", SECRET, 900))
    assert status == 200
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html  # the hostile value is shown, as text
    tree = parse_html(html)
    warnings = tree.find_all("section", class_="warnings")[0]
    assert "Observation/ki67-bad" in warnings.text()
    assert "<script>" in warnings.text()  # decoded text, i.e. it was escaped in the HTML
    # the patient's name (hostile here) is shown in the identity header, as text
    assert EVIL in tree.find_all("header", class_="identity")[0].text()
    assert len(warnings.find_all("li")) == 2
    evidence = tree.by_id("criterion-low_grade").find_all("ul", class_="evidence")[0]
    (item,) = evidence.find_all("li")
    assert item.text().endswith("2026-11-01 · Observation/ki67-2")


def test_the_only_urls_are_the_fhir_server_and_the_page_itself(
    client: FlaskClient, fhir: responses.RequestsMock
) -> None:
    import re

    serve_patient(fhir)
    html = open_page(client, "p1", sign_page_link("p1", SECRET, 900))[1]
    for url in re.findall(r"https?://[^\s\"'<>]+", html):
        assert url.startswith((f"{FHIR_BASE}/", f"{SELF}/patients/p1/evaluation?at=")), url


def test_no_token_is_401_and_nothing_is_fetched(
    client: FlaskClient, fhir: responses.RequestsMock
) -> None:
    serve_patient(fhir)
    status, html = open_page(client, "p1", None)
    assert status == 401
    assert len(fhir.calls) == 0
    assert "p1" not in html
    assert "Patient/" not in html
    text = parse_html(html).text()
    assert "Open this page from the patient's chart" in text
    assert "card" in text
    assert "SMART" in text


def test_a_refusal_is_the_same_whether_or_not_the_patient_exists(
    client: FlaskClient, fhir: responses.RequestsMock
) -> None:
    serve_patient(fhir)
    known = client.get(f"/patients/p1/evaluation?at={AT}")
    unknown = client.get(f"/patients/nobody/evaluation?at={AT}")
    assert known.status_code == unknown.status_code == 401
    assert known.data == unknown.data
    assert known.headers["WWW-Authenticate"].startswith("Bearer")
    assert known.headers["Referrer-Policy"] == "no-referrer"
    assert known.headers["Cache-Control"] == "no-store"
    assert len(fhir.calls) == 0


def test_another_patients_token_is_401(client: FlaskClient, fhir: responses.RequestsMock) -> None:
    serve_patient(fhir)
    status, html = open_page(client, "p1", sign_page_link("p2", SECRET, 900))
    assert status == 401
    assert "p1" not in html
    assert len(fhir.calls) == 0


def test_an_expired_token_is_401(client: FlaskClient, fhir: responses.RequestsMock) -> None:
    serve_patient(fhir)
    issued = time.time() - 901
    status, _ = open_page(client, "p1", sign_page_link("p1", SECRET, 900, now=issued))
    assert status == 401
    fresh = time.time() - 60
    assert open_page(client, "p1", sign_page_link("p1", SECRET, 900, now=fresh))[0] == 200


def test_a_token_issued_for_no_time_at_all_is_expired_once_a_second_passes(
    client: FlaskClient, fhir: responses.RequestsMock
) -> None:
    serve_patient(fhir)
    token = sign_page_link("p1", SECRET, 0, now=time.time() - 2)
    assert open_page(client, "p1", token)[0] == 401


def test_the_configured_lifetime_bounds_every_token(fhir: responses.RequestsMock) -> None:
    serve_patient(fhir)
    client = fhir_app(PAGE_LINK_MAX_AGE_SECONDS=60).test_client()
    token = sign_page_link("p1", SECRET, 3600, now=time.time() - 120)
    assert open_page(client, "p1", token)[0] == 401


def flip(token: str, index: int) -> str:
    """Return ``token`` with the character at ``index`` changed."""
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        # The first character of a base64 part carries six significant bits (the last
        # one may carry padding bits only, so changing it could change nothing).
        pytest.param(lambda t: flip(t, t.rindex(".") + 1), id="signature"),
        pytest.param(lambda t: flip(t, t.index(".") + 1), id="timestamp"),
        pytest.param(lambda t: flip(t, 0), id="payload"),
        pytest.param(lambda t: t + "x", id="appended"),
        pytest.param(lambda t: t.split(".")[0], id="truncated"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: "x" * 2000, id="huge"),
    ],
)
def test_a_tampered_token_is_401(
    client: FlaskClient, fhir: responses.RequestsMock, tamper: Any
) -> None:
    serve_patient(fhir)
    token = tamper(sign_page_link("p1", SECRET, 900))
    assert open_page(client, "p1", token)[0] == 401
    assert len(fhir.calls) == 0


def test_a_token_signed_with_another_secret_is_401(
    client: FlaskClient, fhir: responses.RequestsMock
) -> None:
    serve_patient(fhir)
    other = "another-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
    assert open_page(client, "p1", sign_page_link("p1", other, 900))[0] == 401


def test_a_valid_token_for_an_unknown_patient_is_404(
    client: FlaskClient, fhir: responses.RequestsMock
) -> None:
    fhir.add(responses.GET, f"{FHIR_BASE}/Patient/p9", status=404)
    for kind in ("Observation", "Condition", "Procedure"):
        fhir.add(responses.GET, f"{FHIR_BASE}/{kind}", json=searchset())
    status, html = open_page(client, "p9", sign_page_link("p9", SECRET, 900))
    assert status == 404
    assert "Error 404" in parse_html(html).text()


def test_a_failing_fhir_server_is_a_502_page(
    client: FlaskClient, fhir: responses.RequestsMock
) -> None:
    fhir.add(responses.GET, f"{FHIR_BASE}/Patient/p1", status=500)
    for kind in ("Observation", "Condition", "Procedure"):
        fhir.add(responses.GET, f"{FHIR_BASE}/{kind}", json=searchset())
    status, html = open_page(client, "p1", sign_page_link("p1", SECRET, 900))
    assert status == 502
    assert html.startswith("<!doctype html>")


# --- SMART launch ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeSmartContext:
    patient_id: str
    fhir_base_url: str
    access_token: str = field(repr=False)
    scope: str | None = None
    fhir_user: str | None = None
    need_patient_banner: bool = True
    style: dict[str, str] = field(default_factory=dict)


def smart_app() -> Flask:
    return fhir_app(FHIR_ALLOWLIST=f"{FHIR_BASE},{SMART_BASE}")


def test_a_smart_launch_for_the_patient_reads_its_own_fhir_server_with_its_token(
    fhir: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_patient(fhir, SMART_BASE)
    context = FakeSmartContext("p1", SMART_BASE, "launch-access-token")
    monkeypatch.setattr(access, "current_smart_context", lambda patient_id=None: context)
    status, html = open_page(smart_app().test_client(), "p1", None)
    assert status == 200
    assert fhir.calls
    for call in fhir.calls:
        assert call.request.url.startswith(SMART_BASE)
        assert call.request.headers["Authorization"] == "Bearer launch-access-token"
    assert f'href="{SMART_BASE}/Observation/ki67-2"' in html
    assert "launch-access-token" not in html


def test_a_smart_launch_for_another_patient_opens_nothing(
    fhir: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_patient(fhir)
    context = FakeSmartContext("p2", SMART_BASE, "launch-access-token")
    monkeypatch.setattr(access, "current_smart_context", lambda patient_id=None: context)
    assert open_page(smart_app().test_client(), "p1", None)[0] == 401
    assert len(fhir.calls) == 0


def test_a_smart_launch_on_a_server_off_the_allowlist_is_refused_before_any_call(
    fhir: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = FakeSmartContext("p1", "https://elsewhere.example.test/fhir", "tok")
    monkeypatch.setattr(access, "current_smart_context", lambda patient_id=None: context)
    status, html = open_page(smart_app().test_client(), "p1", None)
    assert status == 502
    assert "tok" not in html
    assert len(fhir.calls) == 0


def test_without_smart_support_installed_there_is_no_smart_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(access, "SMART_CONTEXT_MODULE", "service.no_smart_here.context")
    access._smart_module.cache_clear()
    try:
        assert access._smart_module() is None
        with make_app().test_request_context("/"):
            assert access.current_smart_context() is None
    finally:
        access._smart_module.cache_clear()


def test_a_broken_smart_module_is_not_mistaken_for_a_missing_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "nelm_broken_smart_context.py").write_text(
        "import nelm_no_such_dependency\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(access, "SMART_CONTEXT_MODULE", "nelm_broken_smart_context")
    access._smart_module.cache_clear()
    try:
        with pytest.raises(ModuleNotFoundError, match="nelm_no_such_dependency"):
            access._smart_module()
    finally:
        access._smart_module.cache_clear()


# --- settings --------------------------------------------------------------------------------


def test_a_fhir_server_without_a_page_link_secret_fails_at_start_up_in_production() -> None:
    # Outside production a secret is generated instead: tests/config/test_development_secrets.py
    with pytest.raises(SettingError, match="NELM_CDS_PAGE_LINK_SECRET"):
        make_app(
            FHIR_BASE_URL=FHIR_BASE,
            AUDIT_HMAC_KEY=AUDIT_HMAC_KEY,
            API_AUTH="none",
            ENV="production",
        )


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("PAGE_LINK_SECRET", "too-short"),
        ("PAGE_LINK_MAX_AGE_SECONDS", 0),
        ("PAGE_LINK_MAX_AGE_SECONDS", "soon"),
        ("PAGE_LINK_MAX_AGE_SECONDS", True),
    ],
)
def test_bad_page_link_settings_fail_at_start_up_naming_the_setting(
    setting: str, value: Any
) -> None:
    with pytest.raises(SettingError, match=f"NELM_CDS_{setting}"):
        fhir_app(**{setting: value})


def test_a_token_the_ehr_no_longer_accepts_says_to_reopen_the_page_from_the_ehr(
    fhir: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an expired or revoked token: the FHIR server answers 401
    fhir.add(responses.GET, f"{SMART_BASE}/Patient/p1", status=401, json={})
    for kind in ("Observation", "Condition", "Procedure"):
        fhir.add(responses.GET, f"{SMART_BASE}/{kind}", status=401, json={})
    context = FakeSmartContext("p1", SMART_BASE, "revoked-token")
    monkeypatch.setattr(access, "current_smart_context", lambda patient_id=None: context)
    status, html = open_page(smart_app().test_client(), "p1", None)
    assert status == 401
    assert "Open this page again from the patient&#39;s chart in the EHR" in html
    assert "FHIR server failed" not in html
    assert "revoked-token" not in html


def test_when_the_ehr_shows_its_own_banner_the_identity_is_for_paper_only(
    fhir: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_patient(fhir, SMART_BASE)
    context = FakeSmartContext("p1", SMART_BASE, "tok", need_patient_banner=False)
    monkeypatch.setattr(access, "current_smart_context", lambda patient_id=None: context)
    status, html = open_page(smart_app().test_client(), "p1", None)
    assert status == 200
    header = parse_html(html).find_all("header", class_="identity")[0]
    assert "identity--print-only" in header.attrs["class"].split()
    shown = FakeSmartContext("p1", SMART_BASE, "tok")
    monkeypatch.setattr(access, "current_smart_context", lambda patient_id=None: shown)
    html = open_page(smart_app().test_client(), "p1", None)[1]
    header = parse_html(html).find_all("header", class_="identity")[0]
    assert header.attrs["class"] == "identity"


def test_the_ehr_s_style_settings_are_linked_as_the_launch_s_stylesheet(
    fhir: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_patient(fhir, SMART_BASE)
    context = FakeSmartContext("p1", SMART_BASE, "tok", style={"color_highlight": "#69b5ce"})
    monkeypatch.setattr(access, "current_smart_context", lambda patient_id=None: context)
    html = open_page(smart_app().test_client(), "p1", None)[1]
    links = [n.attrs["href"] for n in parse_html(html).find_all("link")]
    assert "/smart/style.css?patient=p1" in links
