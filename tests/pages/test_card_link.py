"""From the CDS Hooks card to the page: with a FHIR server configured, the card's link
carries a fresh signed token that opens that patient's page, and only that one."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from flask import Flask

from service.pages.links import PageLinks
from tests.cdshooks.conftest import demo_resources, full_prefetch, hook_body, searchset
from tests.cdshooks.jwt_factory import SigningKey, jwks, new_ec_key, sign
from tests.conftest import FHIR_SERVICE_SETTINGS
from tests.pages.helpers import SECRET, make_app

SELF = "http://localhost"
ISSUER = "https://ehr.example.org"
FHIR = "https://ehr.example.org/fhir"
SERVICE = "/cds-services/nelm-eligibility"
PATIENT = "demo-transplant"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_ec_key("ehr-pages")


def cds_app(key: SigningKey, **config: object) -> Flask:
    return make_app(
        PUBLIC_BASE_URL=SELF,
        CDS_ISSUERS=json.dumps({ISSUER: {"jwks": jwks(key)}}),
        FHIR_RETRIES=0,
        **config,
    )


def card_link(app: Flask, key: SigningKey) -> str:
    token = sign(key, iss=ISSUER, aud=SELF + SERVICE)
    response = app.test_client().post(
        SERVICE,
        json=hook_body(PATIENT, full_prefetch(PATIENT)),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    url: str = response.get_json()["cards"][0]["links"][0]["url"]
    return url


def serve_demo_patient(mock: responses.RequestsMock) -> None:
    resources = demo_resources(PATIENT)
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    mock.add(responses.GET, f"{FHIR}/Patient/{PATIENT}", json=patient)
    for kind in ("Observation", "Condition", "Procedure"):
        found = [r for r in resources if r["resourceType"] == kind]
        mock.add(responses.GET, f"{FHIR}/{kind}", json=searchset(found))


def test_with_a_fhir_server_the_card_link_carries_a_token_that_opens_the_page(
    key: SigningKey,
) -> None:
    app = cds_app(
        key, **{**FHIR_SERVICE_SETTINGS, "FHIR_BASE_URL": FHIR, "PAGE_LINK_SECRET": SECRET}
    )
    url = card_link(app, key)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        f"{SELF}/patients/{PATIENT}/evaluation"
    )
    token = parse_qs(parts.query)["token"][0]
    links: PageLinks = app.extensions["nelm_page_links"]
    assert links.verify(token, PATIENT)
    assert not links.verify(token, "demo-g3")
    assert PATIENT not in token
    client = app.test_client()
    with responses.RequestsMock() as mock:
        serve_demo_patient(mock)
        page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    assert "Eligible" in page.get_data(as_text=True)
    refused = client.get(f"/patients/demo-g3/evaluation?token={token}")
    assert refused.status_code == 401


def test_with_the_demo_store_the_card_link_carries_no_token(key: SigningKey) -> None:
    url = card_link(cds_app(key), key)
    assert url == f"{SELF}/patients/{PATIENT}/evaluation"
