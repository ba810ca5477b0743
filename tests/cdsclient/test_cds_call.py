"""``python -m service cds-call`` against the real service over HTTP.

Zero configuration on the demo store; a configured issuer with --key; prefetch from a
real FHIR server (sekmet) or none (the service fetches); and one-line reasons for each
refusal the client can tell apart.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from service.dev_issuer import PRIVATE_KEY_FILE
from tests.cdsclient.conftest import Serve, run_cds_call
from tests.cdshooks.jwt_factory import jwks, new_ec_key, new_rsa_key
from tests.conftest import FHIR_SERVICE_SETTINGS
from tests.integration.sekmet import FhirServer


def test_zero_configuration_on_the_demo_store_shows_a_card(serve: Serve, instance: Path) -> None:
    with serve() as url:
        outcome = run_cds_call("--service", url, "--instance-path", str(instance))
    assert outcome.status == 0, outcome.err
    assert "discovery: 200" in outcome.out
    assert "prefetch from the embedded demo patients: patient 1" in outcome.out
    assert "patient-view demo-transplant: 200" in outcome.out
    assert "[WARNING] Transplant: eligible" in outcome.out
    assert f"{url}/patients/demo-transplant/evaluation" in outcome.out


def test_the_json_output_is_the_hook_answer(serve: Serve, instance: Path) -> None:
    with serve() as url:
        outcome = run_cds_call(
            "--service",
            f"{url}/cds-services",
            "--instance-path",
            str(instance),
            "--json",
            "--patient",
            "demo-missing",
        )
    assert outcome.status == 0, outcome.err
    cards = outcome.json()["cards"]
    assert len(cards) == 1
    assert cards[0]["indicator"] == "info"
    assert "discovery: 200" in outcome.err  # progress goes to stderr with --json


def test_the_development_key_is_generated_once_and_kept_private(
    serve: Serve, instance: Path
) -> None:
    with serve() as url:
        first = run_cds_call("--service", url, "--instance-path", str(instance))
        key = (instance / PRIVATE_KEY_FILE).read_bytes()
        second = run_cds_call("--service", url, "--instance-path", str(instance))
    assert first.status == second.status == 0
    assert (instance / PRIVATE_KEY_FILE).read_bytes() == key
    assert (instance / PRIVATE_KEY_FILE).stat().st_mode & 0o077 == 0


def test_a_patient_without_liver_metastasis_gets_no_card(serve: Serve, instance: Path) -> None:
    with serve() as url:
        outcome = run_cds_call(
            "--service", url, "--instance-path", str(instance), "--patient", "nobody"
        )
    assert outcome.status == 0, outcome.err
    assert "patient nobody" not in outcome.err
    assert "0 cards" in outcome.out
    assert "no card" in outcome.out
    # a mistyped id must not look like a correct answer with nothing to say
    assert "note: no Patient/nobody in the embedded demo patients" in outcome.out


def test_a_demo_patient_gets_no_missing_patient_note(serve: Serve, instance: Path) -> None:
    with serve() as url:
        outcome = run_cds_call("--service", url, "--instance-path", str(instance))
    assert outcome.status == 0, outcome.err
    assert "note: no Patient/" not in outcome.out


def test_another_host_name_is_diagnosed_as_the_audience(serve: Serve, instance: Path) -> None:
    with serve() as url:
        called = url.replace("127.0.0.1", "localhost")
        outcome = run_cds_call("--service", called, "--instance-path", str(instance))
    assert outcome.status == 1
    line = outcome.err.strip()
    assert line.startswith("error: refused: audience:")
    assert f"public base URL is {url}" in line
    assert f"NELM_CDS_PUBLIC_BASE_URL={called}" in line
    assert "\n" not in line


def test_an_unknown_development_key_is_diagnosed_as_the_issuer(
    serve: Serve, tmp_path: Path
) -> None:
    with serve() as url:
        outcome = run_cds_call("--service", url, "--instance-path", str(tmp_path / "elsewhere"))
    assert outcome.status == 1
    assert outcome.err.startswith("error: refused: issuer: the service does not trust the dev")


def test_the_development_client_is_not_trusted_with_a_fhir_server(
    serve: Serve, instance: Path, fhir_server: FhirServer
) -> None:
    with serve(**FHIR_SERVICE_SETTINGS, FHIR_BASE_URL=fhir_server.base_url) as url:
        outcome = run_cds_call("--service", url, "--instance-path", str(instance))
    assert outcome.status == 1
    assert "error: refused: issuer:" in outcome.err


@pytest.mark.parametrize("make_key", [new_ec_key, new_rsa_key], ids=["ES384", "RS384"])
def test_a_configured_issuer_signs_with_its_own_key(
    serve: Serve, tmp_path: Path, make_key: object
) -> None:
    key = make_key("client-1")  # type: ignore[operator]
    pem = tmp_path / "client.pem"
    pem.write_bytes(
        key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    issuers = json.dumps({"https://ehr.example.org": {"jwks": jwks(key)}})
    with serve(CDS_ISSUERS=issuers) as url:
        good = run_cds_call(
            "--service",
            url,
            "--key",
            str(pem),
            "--kid",
            "client-1",
            "--iss",
            "https://ehr.example.org",
        )
        wrong_iss = run_cds_call(
            "--service",
            url,
            "--key",
            str(pem),
            "--kid",
            "client-1",
            "--iss",
            "https://other.example.org",
        )
    assert good.status == 0, good.err
    assert "[WARNING]" in good.out
    assert wrong_iss.status == 1
    assert "issuer: the service does not trust iss 'https://other.example.org'" in wrong_iss.err


def test_prefetch_comes_from_a_real_fhir_server(
    serve: Serve, instance: Path, fhir_server: FhirServer
) -> None:
    with serve() as url:
        outcome = run_cds_call(
            "--service",
            url,
            "--instance-path",
            str(instance),
            "--fhir-server",
            fhir_server.base_url,
            "--patient",
            "demo-extrahepatic",
        )
    assert outcome.status == 0, outcome.err
    assert f"prefetch from {fhir_server.base_url}: patient 1, observations" in outcome.out
    assert "Transplant: not eligible" in outcome.out


def test_without_prefetch_the_service_fetches_from_an_allowlisted_server(
    serve: Serve, instance: Path, fhir_server: FhirServer
) -> None:
    with serve(FHIR_ALLOWLIST=fhir_server.base_url) as url:
        outcome = run_cds_call(
            "--service",
            url,
            "--instance-path",
            str(instance),
            "--prefetch",
            "none",
            "--fhir-server",
            fhir_server.base_url,
            "--token",
            "opaque-test-token",
        )
    assert outcome.status == 0, outcome.err
    assert "prefetch: none" in outcome.out
    assert "Transplant: eligible" in outcome.out


def test_a_fhir_server_off_the_allowlist_is_diagnosed(
    serve: Serve, instance: Path, fhir_server: FhirServer
) -> None:
    with serve() as url:
        outcome = run_cds_call(
            "--service",
            url,
            "--instance-path",
            str(instance),
            "--prefetch",
            "none",
            "--fhir-server",
            fhir_server.base_url,
        )
    assert outcome.status == 1
    assert outcome.err.startswith(
        f"error: refused: allowlist: the service may not call the FHIR server "
        f"{fhir_server.base_url}: add it to NELM_CDS_FHIR_ALLOWLIST"
    )


def test_a_browser_origin_is_checked_against_the_cors_setting(serve: Serve, instance: Path) -> None:
    with serve(CDS_CORS_ORIGINS="http://127.0.0.1:3000") as url:
        allowed = run_cds_call(
            "--service", url, "--instance-path", str(instance), "--origin", "http://127.0.0.1:3000"
        )
        refused = run_cds_call(
            "--service", url, "--instance-path", str(instance), "--origin", "http://localhost:3000"
        )
    assert allowed.status == 0, allowed.err
    assert "CORS: a browser page at http://127.0.0.1:3000 may call" in allowed.out
    assert refused.status == 1
    assert "[WARNING]" in refused.out  # the call itself still works: the CLI is no browser
    assert "CORS: CORS" not in refused.out
    assert "\nCORS origin: a browser page at http://localhost:3000 would be refused" in refused.out
    assert "error: CORS origin: a browser page at http://localhost:3000 would be refused" in (
        refused.err
    )


def test_a_service_that_is_not_running_is_said_so() -> None:
    outcome = run_cds_call("--service", "http://127.0.0.1:9", "--timeout", "2")
    assert outcome.status == 1
    assert "cannot reach the service" in outcome.err
    assert "is it running?" in outcome.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "k.pem"], "--key needs --kid and --iss"),
        (["--kid", "k1"], "--kid and --iss go with --key"),
        (["--key", "/nonexistent.pem", "--kid", "k", "--iss", "i"], "cannot be read"),
        (["--fhir-server", "http://fhir.example.org/r4"], "--fhir-server:"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    serve: Serve, instance: Path, args: list[str], message: str
) -> None:
    with serve() as url:
        outcome = run_cds_call("--service", url, "--instance-path", str(instance), *args)
    assert outcome.status == 2
    assert message in outcome.err
    assert outcome.err.count("\n") == 1
