"""Compose as shipped: a CDS Hooks card with one documented command.

The development client's key pair is generated into a volume by a one-shot job, the
service trusts its public half and keeps its stores on that volume, and ``cds-call`` run
in the service's container reaches it at its public base URL. Checked on the file (no
docker engine here) and by running the key job's command and the service's issuer
settings for real.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from service.app import create_app
from service.dev_issuer import DEV_ISSUER, JWKS_FILE, PRIVATE_KEY_FILE
from tests.conftest import FHIR_SERVICE_SETTINGS

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return data


def test_the_service_waits_for_the_key_and_keeps_its_stores_on_a_volume() -> None:
    compose = _compose()
    services = compose["services"]
    key_job, service = services["cds-client-key"], services["nelm-cds"]
    assert service["depends_on"]["cds-client-key"]["condition"] == "service_completed_successfully"
    mount = "nelm-cds-var:/app/var"
    assert mount in key_job["volumes"]
    assert any(v.startswith(mount) for v in service["volumes"])
    assert "nelm-cds-var" in compose["volumes"]
    environment = service["environment"]
    assert environment["NELM_CDS_INSTANCE_PATH"] == "/app/var"
    issuers = json.loads(environment["NELM_CDS_CDS_ISSUERS"])
    assert issuers == {DEV_ISSUER: {"jwks_file": f"/app/var/{JWKS_FILE}"}}
    assert environment["NELM_CDS_PUBLIC_BASE_URL"] == "http://localhost:8080"


def test_the_key_jobs_command_makes_what_the_service_reads(tmp_path: Path) -> None:
    command = _compose()["services"]["cds-client-key"]["command"]
    assert command[:2] == ["python", "-c"]
    code = command[2].replace("/app/var", str(tmp_path))
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert (tmp_path / PRIVATE_KEY_FILE).exists()
    issuers = {DEV_ISSUER: {"jwks_file": str(tmp_path / JWKS_FILE)}}
    app = create_app(
        {
            "TESTING": True,
            **FHIR_SERVICE_SETTINGS,
            "FHIR_BASE_URL": "https://fhir.example.org/r4",
            "CDS_ISSUERS": json.dumps(issuers),
            "INSTANCE_PATH": str(tmp_path),
        }
    )
    assert DEV_ISSUER in app.extensions["nelm_cds_tokens"].issuers


def test_the_documented_command_is_in_the_file_header() -> None:
    header = (ROOT / "docker-compose.yml").read_text("utf-8").split("services:")[0]
    assert "docker compose exec nelm-cds python -m service cds-call" in header
    assert "--fhir-server http://hapi:8080/fhir --allow-http" in header
