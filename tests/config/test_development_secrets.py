"""Outside production a FHIR-server setup without a page-link secret (or SMART state key)
runs on secrets generated into the instance folder, with a warning; production refuses."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import pytest

from service.app import create_app
from service.config import SettingError
from tests.conftest import AUDIT_HMAC_KEY

FHIR_BASE = "https://fhir.example.org/r4"


def fhir_app(tmp_path: Path, **config: Any) -> Any:
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "FHIR_BASE_URL": FHIR_BASE,
            "AUDIT_HMAC_KEY": AUDIT_HMAC_KEY,
            "API_AUTH": "none",
            "HOST": "127.0.0.1",
            **config,
        }
    )


def test_development_generates_a_page_link_secret_once_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="service")
    first = fhir_app(tmp_path)
    key_file = tmp_path / "page-link.key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    warnings = [r.getMessage() for r in caplog.records if "PAGE_LINK_SECRET" in r.getMessage()]
    assert len(warnings) == 1
    assert "development mode" in warnings[0]
    assert str(key_file) in warnings[0]
    second = fhir_app(tmp_path)  # another worker, or a restart: the same secret
    links = first.extensions["nelm_page_links"]
    assert links.secret == second.extensions["nelm_page_links"].secret
    assert links.secret == key_file.read_bytes().strip()
    assert second.extensions["nelm_page_links"].verify(links.sign("p1"), "p1")


def test_a_configured_secret_is_used_and_nothing_is_generated(tmp_path: Path) -> None:
    secret = "123456789012345678901234567890123456"  # all digits, 36 characters
    app = fhir_app(tmp_path, PAGE_LINK_SECRET=secret)
    assert app.extensions["nelm_page_links"].secret == secret.encode()
    assert not (tmp_path / "page-link.key").exists()


@pytest.mark.parametrize(
    "where", [{"ENV": "production"}, {"HOST": "0.0.0.0"}, {"HOST": "10.0.0.5", "ENV": "auto"}]
)
def test_production_requires_the_page_link_secret(tmp_path: Path, where: dict[str, str]) -> None:
    with pytest.raises(SettingError, match="NELM_CDS_PAGE_LINK_SECRET is required"):
        fhir_app(tmp_path, **where)
    assert not (tmp_path / "page-link.key").exists()


def test_development_on_any_bind_when_said_explicitly(tmp_path: Path) -> None:
    fhir_app(tmp_path, ENV="development", HOST="0.0.0.0")
    assert (tmp_path / "page-link.key").is_file()


def test_development_keeps_the_audit_key_and_api_authentication_required(
    tmp_path: Path,
) -> None:
    with pytest.raises(SettingError, match="NELM_CDS_AUDIT_HMAC_KEY is required"):
        fhir_app(tmp_path, AUDIT_HMAC_KEY=None)
    with pytest.raises(SettingError, match="NELM_CDS_API_ISSUERS is empty"):
        fhir_app(tmp_path, API_AUTH=None)


def test_smart_sessions_get_a_development_key_outside_production_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="service")
    app = fhir_app(tmp_path, SMART_CLIENT_ID="nelm-cds")
    assert app.extensions["nelm_state"].sealer is not None
    assert (tmp_path / "state-encryption.key").is_file()
    assert any("STATE_ENCRYPTION_KEY is unset" in r.getMessage() for r in caplog.records)
    with pytest.raises(SettingError, match="NELM_CDS_STATE_ENCRYPTION_KEY is required"):
        fhir_app(
            tmp_path / "prod",
            SMART_CLIENT_ID="nelm-cds",
            ENV="production",
            PAGE_LINK_SECRET="p" * 40,
        )
