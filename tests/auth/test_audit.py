"""The audit trail: one JSON line per access to patient data (REST, write-back, CDS hook,
clinician page), naming who, what, which route, how it ended, and the patient only as
an HMAC, so a privacy officer holding the key can find every access to one patient."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.app import create_app
from service.auth.audit import AuditTrail
from service.settings import SettingError
from tests.auth.conftest import BASE, READ, WRITE, bearer
from tests.auth.issuer_server import IssuerServer
from tests.cdshooks.conftest import full_prefetch, hook_body
from tests.cdshooks.jwt_factory import jwks, new_ec_key, sign
from tests.conftest import AUDIT_HMAC_KEY, PAGE_LINK_SECRET

PATIENT = "demo-transplant"
CDS_ISSUER = "https://ehr.example.org"


@pytest.fixture
def audit_file(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture
def app(idp: IssuerServer, audit_file: Path) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "PUBLIC_BASE_URL": BASE,
            "API_ISSUERS": json.dumps([idp.issuer]),
            "AUDIT_HMAC_KEY": AUDIT_HMAC_KEY,
            "AUDIT_LOG_FILE": str(audit_file),
        }
    )


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def patient_hash(patient_id: str, key: str = AUDIT_HMAC_KEY) -> str:
    """What a privacy officer computes: HMAC-SHA256 of the id under the audit key."""
    return "hmac-sha256:" + hmac.new(key.encode(), patient_id.encode(), hashlib.sha256).hexdigest()


def test_a_rest_evaluation_writes_one_line_naming_the_caller_and_the_hashed_patient(
    app: Flask, idp: IssuerServer, audit_file: Path
) -> None:
    token = idp.token(aud=BASE, scope=READ, claims={"sub": "dr-house", "azp": "ward-app"})
    response = app.test_client().get(
        f"/api/patients/{PATIENT}/evaluation",
        headers={**bearer(token), "X-Request-ID": "req-12345678"},
    )
    assert response.status_code == 200
    [line] = lines(audit_file)
    assert line == {
        "ts": line["ts"],
        "type": "audit",
        "request_id": "req-12345678",
        "action": "evaluation.read",
        "method": "GET",
        "route": "/api/patients/<patient_id>/evaluation",
        "status": 200,
        "outcome": "success",
        "actor": {
            "kind": "api-token",
            "sub": "dr-house",
            "client_id": "ward-app",
            "iss": idp.issuer,
        },
        "patient": patient_hash(PATIENT),
    }
    text = audit_file.read_text()
    assert PATIENT not in text
    assert token.split(".")[1] not in text


def test_refused_calls_are_audited_as_denied(
    app: Flask, idp: IssuerServer, audit_file: Path
) -> None:
    client = app.test_client()
    client.get(f"/api/patients/{PATIENT}/evaluation")
    client.get(
        f"/api/patients/{PATIENT}/evaluation", headers=bearer(idp.token(aud=BASE, scope="x"))
    )
    first, second = lines(audit_file)
    assert (first["status"], first["outcome"], first["actor"]) == (
        401,
        "denied",
        {"kind": "unauthenticated"},
    )
    assert (second["status"], second["outcome"]) == (403, "denied")
    assert first["patient"] == second["patient"] == patient_hash(PATIENT)


def test_write_back_and_posted_bundles_are_audited(
    app: Flask, idp: IssuerServer, audit_file: Path
) -> None:
    client = app.test_client()
    write = bearer(idp.token(aud=BASE, scope=WRITE))
    read = bearer(idp.token(aud=BASE, scope=READ))
    client.post(f"/api/patients/{PATIENT}/risk-assessment?at=2026-11-22", headers=write)
    client.post(f"/api/patients/{PATIENT}/risk-assessment?dry-run=true", headers=write)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "Patient", "id": "posted-7"}}],
    }
    client.post("/api/evaluate", headers=read, json=bundle)
    actions = [(line["action"], line["status"], line["patient"]) for line in lines(audit_file)]
    assert actions == [
        ("risk-assessment.write", 201, patient_hash(PATIENT)),
        ("risk-assessment.dry-run", 200, patient_hash(PATIENT)),
        ("evaluation.bundle", 200, patient_hash("posted-7")),
    ]


def test_routes_without_patient_data_write_no_audit_line(app: Flask, audit_file: Path) -> None:
    client = app.test_client()
    for path in ("/healthz", "/readyz", "/api/criteria-sets"):
        client.get(path)
    assert not audit_file.exists() or lines(audit_file) == []


def test_a_cds_hook_call_names_the_cds_client(tmp_path: Path, audit_file: Path) -> None:
    key = new_ec_key("ehr-1")
    app = create_app(
        {
            "TESTING": True,
            "PUBLIC_BASE_URL": BASE,
            "CDS_ISSUERS": {CDS_ISSUER: {"jwks": jwks(key)}},
            "FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
            "AUDIT_HMAC_KEY": AUDIT_HMAC_KEY,
            "AUDIT_LOG_FILE": str(audit_file),
        }
    )
    path = "/cds-services/nelm-eligibility"
    token = sign(key, iss=CDS_ISSUER, aud=BASE + path)
    body = hook_body(PATIENT, full_prefetch(PATIENT))
    response = app.test_client().post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    [line] = lines(audit_file)
    assert line["action"] == "cds.patient-view"
    assert line["actor"] == {"kind": "cds-client", "sub": "cds-client", "iss": CDS_ISSUER}
    assert line["patient"] == patient_hash(PATIENT)
    assert line["route"] == "/cds-services/<service_id>"


def test_a_clinician_page_names_how_it_was_opened(app: Flask, audit_file: Path) -> None:
    app.test_client().get(f"/patients/{PATIENT}/evaluation")
    [line] = lines(audit_file)
    assert (line["action"], line["actor"], line["patient"]) == (
        "page.view",
        {"kind": "demo"},
        patient_hash(PATIENT),
    )


def test_a_privacy_officer_finds_every_access_to_one_patient(
    app: Flask, idp: IssuerServer, audit_file: Path
) -> None:
    client = app.test_client()
    for patient, sub in [(PATIENT, "alice"), ("demo-resection", "bob"), (PATIENT, "carol")]:
        token = idp.token(aud=BASE, scope=READ, claims={"sub": sub})
        client.get(f"/api/patients/{patient}/evaluation", headers=bearer(token))
    wanted = AuditTrail(AUDIT_HMAC_KEY).patient_hash(PATIENT)
    who = [line["actor"]["sub"] for line in lines(audit_file) if line["patient"] == wanted]
    assert who == ["alice", "carol"]


def test_the_audit_key_is_required_with_a_fhir_server() -> None:
    with pytest.raises(SettingError, match="NELM_CDS_AUDIT_HMAC_KEY"):
        create_app(
            {
                "TESTING": True,
                "FHIR_BASE_URL": "https://fhir.example.test/r4",
                "PAGE_LINK_SECRET": PAGE_LINK_SECRET,
                "API_AUTH": "none",
            }
        )


def test_a_short_audit_key_is_refused() -> None:
    with pytest.raises(SettingError, match="NELM_CDS_AUDIT_HMAC_KEY"):
        create_app({"TESTING": True, "AUDIT_HMAC_KEY": "short"})


def test_without_a_key_the_demo_store_generates_one_kept_across_restarts(
    tmp_path: Path, audit_file: Path
) -> None:
    config = {
        "TESTING": True,
        "STATE_DB": str(tmp_path / "state" / "state.sqlite3"),
        "AUDIT_LOG_FILE": str(audit_file),
    }
    for _ in range(2):
        create_app(config).test_client().get(f"/api/patients/{PATIENT}/evaluation")
    key = (tmp_path / "state" / "audit-hmac.key").read_text().strip()
    assert (tmp_path / "state" / "audit-hmac.key").stat().st_mode & 0o777 == 0o600
    assert [line["patient"] for line in lines(audit_file)] == [patient_hash(PATIENT, key)] * 2
