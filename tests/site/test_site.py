"""The landing page, the OpenAPI document and its rendering, all served by the service."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from flask.testing import FlaskClient

from service.app import create_app
from tests.conftest import FHIR_SERVICE_SETTINGS

ROOT = Path(__file__).resolve().parents[2]


def _client(**config: object) -> FlaskClient:
    return create_app({"TESTING": True, **config}).test_client()


def test_the_landing_page_says_what_this_is_and_links_the_demo_patients() -> None:
    response = _client(PUBLIC_BASE_URL="http://localhost:9000").get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "neuroendocrine liver metastases" in page
    assert "does not replace, the multidisciplinary team" in page
    assert 'href="/patients/demo-transplant/evaluation"' in page
    assert 'href="/criteria"' in page
    assert 'href="/docs"' in page
    assert "http://localhost:9000/cds-services" in page
    assert "script" not in response.headers["Content-Security-Policy"]
    assert "<script" not in page


def test_with_a_fhir_server_the_landing_page_names_no_patient() -> None:
    client = _client(**FHIR_SERVICE_SETTINGS, FHIR_BASE_URL="https://fhir.example.org/r4")
    page = client.get("/").get_data(as_text=True)
    assert "/patients/" not in page
    assert "configured FHIR server" in page


def test_the_openapi_document_is_the_one_in_the_repository() -> None:
    response = _client().get("/openapi.yaml")
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    served = yaml.safe_load(response.get_data(as_text=True))
    assert served == yaml.safe_load((ROOT / "openapi.yaml").read_text("utf-8"))


def test_the_docs_load_every_asset_from_this_service() -> None:
    client = _client()
    response = client.get("/docs")
    page = response.get_data(as_text=True)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources
    assert all(s.startswith("/") for s in sources), sources
    assert "<script>" not in page, "no inline script"
    for source in sources:
        asset = client.get(source)
        asset.close()  # static files are streamed
        assert asset.status_code == 200, source
    with client.get("/site/static/docs-init.js") as init:
        assert 'url: "openapi.yaml"' in init.get_data(as_text=True)


def test_only_the_listed_swagger_files_are_served() -> None:
    client = _client()
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/docs/assets/index.css").status_code == 404
    assert client.get("/docs/assets/..%2Fflask_swagger_ui.py").status_code == 404
