"""The logs and the audit log searched for tokens, patient ids and names (issue 9, "How
it will be checked"), after normal use through every route of a default server reading
a real FHIR server (REST by id, list, posted Bundle, write-back, CDS discovery, hook with
and without prefetch, feedback, clinician page by signed link and by SMART launch), the
command-line tools (cds-call, probe, screen) and the attacks of this package; then the
documented "who looked at patient X" procedure, run as the README says."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from service.pages.links import PageLinks
from service.seed import seed_demo_patients
from tests.auth.issuer_server import IssuerServer, serving_issuer
from tests.cdshooks.jwt_factory import SigningKey, jwks, new_ec_key, sign
from tests.conftest import AUDIT_HMAC_KEY, PAGE_LINK_SECRET
from tests.integration.sekmet import running_sekmet
from tests.live_app import free_port
from tests.security.conftest import SecuredServer
from tests.server.running import RunningServer, running_gunicorn
from tests.smart.authorization_server import CLIENT_ID, Ehr, serving_ehr

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "service" / "data" / "demo"
CDS_ISSUER = "https://ehr.example.org"
READ, WRITE = "nelm/evaluations.read", "nelm/risk-assessments.write"
HOOK = "/cds-services/nelm-eligibility"
STATE_KEY = "Xo5Qm1bqT7p7m0Qe5l0b1oTj8q9gQwV9yVdY0Q2mN0c="
TEST_PATIENT = "rt-quintrell-7c41"
TEST_NAMES = ("Quintrell", "Zebedee")
UNKNOWN_PATIENT = "rt-unknown-93b1"  # on no server: every route fails for it
JWT_SHAPED = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.?")
FHIR_ACCESS_TOKEN = "fhir-access-" + uuid.uuid4().hex


def demo_people() -> dict[str, list[str]]:
    """Each demo patient's id -> the names in its record (family and given)."""
    people = {}
    for path in sorted(DEMO.glob("demo-*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        patient = next(
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
        )
        names = []
        for name in patient.get("name", []):
            names += [name.get("family", ""), *name.get("given", [])]
        people[patient["id"]] = [n for n in names if len(n) >= 4]
    return people


@dataclass
class Traffic:
    """What was sent that must never be logged, and where the logs are."""

    server: RunningServer
    audit_path: Path
    tokens: list[str] = field(default_factory=list)
    cli_stderr: list[str] = field(default_factory=list)


def _test_patient_bundle() -> dict[str, Any]:
    patient = {
        "resourceType": "Patient",
        "id": TEST_PATIENT,
        "name": [{"family": TEST_NAMES[0], "given": [TEST_NAMES[1]]}],
        "birthDate": "1968-03-09",
        "gender": "female",
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": patient, "request": {"method": "PUT", "url": f"Patient/{TEST_PATIENT}"}}
        ],
    }


def _pem(key: SigningKey, folder: Path) -> Path:
    path = folder / "cds-client.pem"
    path.write_bytes(
        key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _smart_launch(base: str, ehr: Ehr, patient: str) -> None:
    browser = requests.Session()
    launch = browser.get(
        f"{base}/smart/launch",
        params={"iss": ehr.fhir_base, "launch": ehr.new_launch(patient)},
        allow_redirects=False,
        timeout=20,
    )
    assert launch.status_code == 302, launch.text
    authorize = browser.get(launch.headers["Location"], allow_redirects=False, timeout=20)
    callback = browser.get(authorize.headers["Location"], allow_redirects=False, timeout=20)
    assert callback.status_code == 302, callback.text
    for _ in range(3):
        page = browser.get(f"{base}{callback.headers['Location']}", timeout=30)
        assert page.status_code == 200, page.text[:300]


def _use_every_route(
    base: str, fhir_base: str, idp: IssuerServer, key: SigningKey, ehr: Ehr, traffic: Traffic
) -> None:
    def api(method: str, path: str, scope: str, **kwargs: Any) -> requests.Response:
        token = idp.token(aud=base, scope=scope, claims={"sub": "dr-who", "azp": "ward-app"})
        traffic.tokens.append(token)
        return requests.request(
            method, base + path, headers={"Authorization": f"Bearer {token}"}, timeout=60, **kwargs
        )

    def hook_headers(path: str) -> dict[str, str]:
        token = sign(key, iss=CDS_ISSUER, aud=base + path)
        traffic.tokens.append(token)
        return {"Authorization": f"Bearer {token}"}

    patients = [*demo_people(), TEST_PATIENT]
    assert api("GET", "/api/patients", READ).status_code in (200, 404)  # demo store only
    for patient in patients:
        assert api("GET", f"/api/patients/{patient}/evaluation", READ).status_code == 200
        written = api("POST", f"/api/patients/{patient}/risk-assessment", WRITE)
        assert written.status_code in (200, 201), written.text
        hook = {
            "hook": "patient-view",
            "hookInstance": str(uuid.uuid4()),
            "fhirServer": fhir_base,
            "fhirAuthorization": {
                "access_token": FHIR_ACCESS_TOKEN,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/*.read",
                "subject": "nelm-cds",
            },
            "context": {"userId": "Practitioner/example", "patientId": patient},
        }
        answer = requests.post(base + HOOK, json=hook, headers=hook_headers(HOOK), timeout=60)
        assert answer.status_code == 200, answer.text
        cards = answer.json()["cards"]
        feedback = {
            "feedback": [
                {
                    "card": card["uuid"],
                    "outcome": "overridden",
                    "overrideReason": {"reason": {"code": "x", "display": "x"}},
                    "outcomeTimestamp": "2026-11-22T10:00:00Z",
                }
                for card in cards
            ]
        }
        requests.post(
            base + HOOK + "/feedback",
            json=feedback,
            headers=hook_headers(HOOK + "/feedback"),
            timeout=30,
        )
        link = PageLinks.from_config({"PAGE_LINK_SECRET": PAGE_LINK_SECRET}, required=True)
        page_token = link.sign(patient)
        traffic.tokens.append(page_token)
        page = requests.get(
            f"{base}/patients/{patient}/evaluation", params={"token": page_token}, timeout=60
        )
        assert page.status_code == 200, page.text[:300]
    for patient in ("demo-transplant", "demo-missing"):
        _smart_launch(base, ehr, patient)
    posted = json.loads((DEMO / "demo-resection.json").read_text(encoding="utf-8"))
    response = api("POST", "/api/evaluate", READ, json=posted)
    assert response.status_code == 200, response.text
    requests.get(base + "/api/patients/demo-g3/evaluation", timeout=30)  # no token: 401
    assert api("GET", f"/api/patients/{UNKNOWN_PATIENT}/evaluation", READ).status_code == 404
    assert api("POST", f"/api/patients/{UNKNOWN_PATIENT}/risk-assessment", WRITE).status_code == 404
    link = PageLinks.from_config({"PAGE_LINK_SECRET": PAGE_LINK_SECRET}, required=True)
    page = requests.get(
        f"{base}/patients/{UNKNOWN_PATIENT}/evaluation",
        params={"token": link.sign(UNKNOWN_PATIENT)},
        timeout=30,
    )
    assert page.status_code == 404
    hook = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": fhir_base,
        "context": {"userId": "Practitioner/example", "patientId": UNKNOWN_PATIENT},
    }
    answer = requests.post(base + HOOK, json=hook, headers=hook_headers(HOOK), timeout=60)
    assert answer.status_code in (200, 412), answer.text


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory, secured: SecuredServer) -> Iterator[Traffic]:
    folder = tmp_path_factory.mktemp("logs")
    (folder / "sekmet").mkdir()
    key = new_ec_key("ehr-logs")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        running_sekmet(folder / "sekmet") as fhir,
        serving_issuer() as idp,
        serving_ehr(redirect_uri=f"{base}/smart/callback") as ehr,
    ):
        seed_demo_patients(fhir.base_url)
        requests.post(fhir.base_url, json=_test_patient_bundle(), timeout=30).raise_for_status()
        audit = folder / "audit.jsonl"
        with running_gunicorn(
            folder,
            port=port,
            NELM_CDS_FHIR_BASE_URL=fhir.base_url,
            NELM_CDS_FHIR_ALLOWLIST=f"{fhir.base_url},{ehr.fhir_base}",
            NELM_CDS_API_ISSUERS=json.dumps([idp.issuer]),
            NELM_CDS_CDS_ISSUERS=json.dumps({CDS_ISSUER: {"jwks": jwks(key)}}),
            NELM_CDS_PAGE_LINK_SECRET=PAGE_LINK_SECRET,
            NELM_CDS_AUDIT_HMAC_KEY=AUDIT_HMAC_KEY,
            NELM_CDS_AUDIT_LOG_FILE=str(audit),
            NELM_CDS_SMART_CLIENT_ID=CLIENT_ID,
            NELM_CDS_STATE_ENCRYPTION_KEY=STATE_KEY,
            NELM_CDS_LOG_LEVEL="DEBUG",
        ) as server:
            found = Traffic(server, audit)
            _use_every_route(base, fhir.base_url, idp, key, ehr, found)
            pem = _pem(key, folder)
            for patient in ("demo-transplant", TEST_PATIENT):
                called = _cli(
                    "cds-call",
                    "--service",
                    base,
                    "--patient",
                    patient,
                    "--fhir-server",
                    fhir.base_url,
                    "--token",
                    FHIR_ACCESS_TOKEN,
                    "--key",
                    str(pem),
                    "--kid",
                    key.kid,
                    "--iss",
                    CDS_ISSUER,
                )
                assert called.returncode == 0, called.stderr
                found.cli_stderr.append(called.stderr)
            probed = _cli(
                "probe",
                "--fhir-base",
                fhir.base_url,
                "--patient",
                "demo-transplant",
                "--patient",
                TEST_PATIENT,
                "--out",
                str(folder / "probe"),
            )
            assert probed.returncode in (0, 1), probed.stderr
            found.cli_stderr.append(probed.stderr)
            export = folder / "export"
            synth = _cli("synth", "--patients", "40", "--out", str(export), "--net-share", "0.5")
            assert synth.returncode == 0, synth.stderr
            screened = _cli("screen", "--input", str(export), "--out", str(folder / "screening"))
            assert screened.returncode == 0, screened.stderr
            found.cli_stderr.append(screened.stderr)
            yield found


def _secrets_in(text: str, traffic: Traffic, secured: SecuredServer) -> list[str]:
    """Every token, patient id or patient name in ``text``."""
    found = [match.group(0)[:40] for match in JWT_SHAPED.finditer(text)]
    for token in traffic.tokens:
        for part in token.split("."):
            if len(part) >= 12 and part in text:
                found.append(f"a part of a token sent: {part[:12]}...")
    if FHIR_ACCESS_TOKEN in text:
        found.append("the FHIR access token")
    people = {**demo_people(), TEST_PATIENT: list(TEST_NAMES), UNKNOWN_PATIENT: []}
    for patient, names in people.items():
        for word in [patient, *names]:
            if re.search(rf"\b{re.escape(word)}\b", text):
                found.append(word)
    return found


def test_the_server_logs_hold_no_token_patient_id_or_name(
    traffic: Traffic, secured: SecuredServer
) -> None:
    log = traffic.server.log()
    assert "evaluation" in log  # the log is the server's, with its request lines
    assert _secrets_in(log, traffic, secured) == []


def test_the_metrics_hold_no_token_patient_id_or_name(
    traffic: Traffic, secured: SecuredServer
) -> None:
    """``/metrics`` is open by default: its labels are route templates, never patients."""
    for server in (traffic.server, secured.server):
        metrics = requests.get(f"{server.base_url}/metrics", timeout=30)
        assert metrics.status_code == 200
        assert 'route="/healthz"' in metrics.text
        assert _secrets_in(metrics.text, traffic, secured) == []
    used = requests.get(f"{traffic.server.base_url}/metrics", timeout=30).text
    assert 'route="/api/patients/<patient_id>/evaluation"' in used


def test_the_attacked_servers_log_holds_no_token_patient_id_or_name(
    traffic: Traffic, secured: SecuredServer
) -> None:
    """The server every forged token and hostile Bundle of this package was sent to."""
    assert _secrets_in(secured.server.log(), traffic, secured) == []


def test_the_audit_logs_hold_no_token_patient_id_or_name(
    traffic: Traffic, secured: SecuredServer
) -> None:
    text = traffic.audit_path.read_text(encoding="utf-8")
    assert text.count("\n") > 25
    assert _secrets_in(text, traffic, secured) == []
    attacked = Path(secured.audit_path)  # empty when this module runs alone
    if attacked.exists():
        assert _secrets_in(attacked.read_text(encoding="utf-8"), traffic, secured) == []


def test_the_command_line_tools_log_no_token(traffic: Traffic, secured: SecuredServer) -> None:
    for stderr in traffic.cli_stderr:
        found = [match.group(0)[:40] for match in JWT_SHAPED.finditer(stderr)]
        assert found == []
        assert FHIR_ACCESS_TOKEN not in stderr


def _who_looked_at(patient: str, audit: Path) -> list[dict[str, Any]]:
    """The README's procedure, as a privacy officer runs it: openssl, then grep."""
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", AUDIT_HMAC_KEY, "-r"],
        input=patient,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    grep = subprocess.run(
        ["grep", f'"patient": "hmac-sha256:{digest}"', str(audit)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [json.loads(line) for line in grep.stdout.splitlines()]


def test_a_privacy_officer_finds_who_looked_at_a_patient(traffic: Traffic) -> None:
    time.sleep(0.5)  # the last lines reach the file
    lines = _who_looked_at(TEST_PATIENT, traffic.audit_path)
    actions = {(line["action"], line["actor"]["kind"]) for line in lines}
    assert any(line["actor"].get("sub") == "dr-who" for line in lines)
    kinds = {kind for _, kind in actions}
    assert {"api-token", "signed-link"} <= kinds, actions
    assert any("cds" in kind for kind in kinds), actions
    assert {"evaluation.read", "page.view"} <= {a for a, _ in actions}, actions
    assert any("risk" in a or "write" in a for a, _ in actions), actions
    smart = _who_looked_at("demo-missing", traffic.audit_path)
    assert any(line["actor"]["kind"] == "smart-user" for line in smart), smart
    assert all(line["patient"] != TEST_PATIENT for line in lines)
