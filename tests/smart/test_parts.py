"""The SMART launch's parts: PKCE, the expiring store, settings, the OAuth calls' edge
cases (with ``responses``), and the card's SMART link."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses

from service.cdshooks.cards import build_card
from service.fhir import (
    Allowlist,
    FhirAuthError,
    FhirInvalidResponseError,
    FhirTokenRefusedError,
    FhirUnavailableError,
    FhirUrlNotAllowedError,
    exchange_code,
    smart_configuration,
)
from service.settings import SettingError
from service.smart import DEFAULT_SMART_SCOPE, SMART_DEFAULTS
from service.smart.flow import SmartSettings
from service.smart.pkce import new_verifier, s256_challenge
from service.smart.store import ExpiringStore
from tests.cdshooks.jwt_factory import jwks, new_ec_key, sign
from tests.smart.conftest import build_app

EHR = "https://ehr.example.org/fhir"
TOKEN_URL = "https://auth.example.org/token"
TIMEOUT = (1.0, 1.0)
DEMO = Path(__file__).resolve().parents[2] / "service" / "data" / "demo"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


# --- PKCE ------------------------------------------------------------------------------


def test_the_s256_challenge_is_the_rfc_7636_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_a_new_verifier_is_long_random_and_unreserved() -> None:
    verifiers = {new_verifier() for _ in range(20)}
    assert len(verifiers) == 20
    for verifier in verifiers:
        assert 43 <= len(verifier) <= 128
        assert len(s256_challenge(verifier)) == 43


@pytest.mark.parametrize("verifier", ["short", "x" * 129, "a" * 42 + "!", "é" * 50])
def test_a_verifier_outside_the_rfc_is_refused(verifier: str) -> None:
    with pytest.raises(ValueError, match="43-128"):
        s256_challenge(verifier)


# --- the expiring store ------------------------------------------------------------------


def test_a_stored_value_expires() -> None:
    clock = FakeClock()
    store: ExpiringStore[str] = ExpiringStore(max_entries=5, clock=clock)
    store.put("a", "value", ttl=10)
    assert store.get("a") == "value"
    clock.now += 10
    assert store.get("a") is None
    assert len(store) == 0


def test_pop_is_single_use_and_ignores_expired_values() -> None:
    clock = FakeClock()
    store: ExpiringStore[str] = ExpiringStore(max_entries=5, clock=clock)
    store.put("a", "value", ttl=10)
    store.put("b", "value", ttl=1)
    assert store.pop("a") == "value"
    assert store.pop("a") is None
    clock.now += 1
    assert store.pop("b") is None


def test_a_full_store_drops_the_expired_then_the_oldest() -> None:
    clock = FakeClock()
    store: ExpiringStore[int] = ExpiringStore(max_entries=3, clock=clock)
    store.put("old", 1, ttl=100)
    store.put("short", 2, ttl=1)
    store.put("new", 3, ttl=100)
    clock.now += 1
    store.put("fourth", 4, ttl=100)
    assert store.get("old") == 1  # the expired one went first
    store.put("fifth", 5, ttl=100)
    assert store.get("old") is None  # then the oldest
    assert [store.get(k) for k in ("new", "fourth", "fifth")] == [3, 4, 5]
    assert len(store) == 3


# --- settings --------------------------------------------------------------------------


def settings(**config: Any) -> SmartSettings:
    return SmartSettings.from_config(
        {**SMART_DEFAULTS, "FHIR_CONNECT_TIMEOUT": 1, "FHIR_READ_TIMEOUT": 1, **config}
    )


def test_the_redirect_uri_defaults_to_the_public_base_url() -> None:
    made = settings(PUBLIC_BASE_URL="https://nelm.example/", SMART_CLIENT_ID="app")
    assert made.redirect_uri == "https://nelm.example/smart/callback"
    assert made.https is True
    assert made.scope == DEFAULT_SMART_SCOPE
    assert made.client_id == "app"


def test_the_client_secret_is_not_in_the_settings_repr() -> None:
    made = settings(SMART_CLIENT_ID="app", SMART_CLIENT_SECRET="very-secret")
    assert "very-secret" not in repr(made)


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"SMART_SCOPE": "openid fhirUser patient/Patient.rs"}, "NELM_CDS_SMART_SCOPE"),
        ({"SMART_REDIRECT_URI": "https://user@nelm.example/cb"}, "NELM_CDS_SMART_REDIRECT_URI"),
        ({"SMART_REDIRECT_URI": "nelm.example/cb"}, "NELM_CDS_SMART_REDIRECT_URI"),
        ({"SMART_CLIENT_ID": 42}, "NELM_CDS_SMART_CLIENT_ID"),
    ],
)
def test_bad_smart_settings_fail_at_start_up_naming_the_setting(
    config: dict[str, Any], named: str
) -> None:
    with pytest.raises(SettingError, match=named):
        settings(**config)


def test_the_app_fails_to_start_with_a_bad_smart_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingError, match="NELM_CDS_SMART_SCOPE"):
        build_app(
            {
                "TESTING": True,
                "FEEDBACK_DB": str(tmp_path / "f.sqlite3"),
                "SMART_CLIENT_ID": "app",
                "SMART_SCOPE": "openid",
            }
        )


# --- the OAuth calls ---------------------------------------------------------------------


def test_smart_configuration_refuses_an_unlisted_server_before_any_request() -> None:
    with responses.RequestsMock() as rsps, pytest.raises(FhirUrlNotAllowedError):
        smart_configuration(
            "https://other.example/fhir", allowlist=Allowlist([EHR]), timeout=TIMEOUT
        )
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, b"not json", FhirInvalidResponseError),
        (200, b"[]", FhirInvalidResponseError),
        (200, b"{" + b" " * 70_000 + b"}", FhirInvalidResponseError),
        (302, b"", FhirAuthError),  # a redirect is not followed
        (500, b"{}", FhirUnavailableError),
    ],
)
def test_smart_configuration_refuses_unusable_answers(
    status: int, body: bytes, error: type[Exception]
) -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(
            f"{EHR}/.well-known/smart-configuration",
            body=body,
            status=status,
            headers={"Location": "https://evil.example/"} if status == 302 else {},
        )
        with pytest.raises(error):
            smart_configuration(EHR, allowlist=Allowlist([EHR]), timeout=TIMEOUT)


def exchange(**overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "code": "the-code",
        "redirect_uri": "https://nelm.example/smart/callback",
        "code_verifier": new_verifier(),
        "client_id": "app",
        "timeout": TIMEOUT,
        **overrides,
    }
    return exchange_code(TOKEN_URL, **arguments)


GOOD = {"access_token": "tok", "token_type": "bearer", "expires_in": 300, "patient": "p1"}


@pytest.mark.parametrize(
    "change",
    [
        {"access_token": None},
        {"access_token": "has space"},
        {"token_type": "mac"},
        {"expires_in": 0},
        {"expires_in": "300"},
        {"expires_in": True},
        {"patient": 12},
    ],
)
def test_an_unusable_token_response_is_refused(change: dict[str, Any]) -> None:
    body = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, json=body)
        with pytest.raises(FhirInvalidResponseError):
            exchange()


def test_a_token_response_is_read_and_its_token_hidden_from_repr() -> None:
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, json={**GOOD, "access_token": "secret-token", "scope": "launch"})
        answer = exchange()
    assert answer.patient == "p1"
    assert answer.expires_in == 300.0
    assert answer.scope == "launch"
    assert "secret-token" not in repr(answer)


def test_an_oauth_error_keeps_the_code_but_not_the_description() -> None:
    with responses.RequestsMock() as rsps:
        rsps.post(
            TOKEN_URL,
            status=400,
            json={"error": "invalid_grant", "error_description": "verifier was abc123"},
        )
        with pytest.raises(FhirTokenRefusedError) as caught:
            exchange()
    assert caught.value.error_code == "invalid_grant"
    assert "abc123" not in str(caught.value)


def test_an_odd_oauth_error_code_is_not_kept() -> None:
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, status=400, json={"error": "<script>x</script>"})
        with pytest.raises(FhirTokenRefusedError) as caught:
            exchange()
    assert caught.value.error_code is None


def test_a_token_endpoint_that_is_not_safe_is_never_called() -> None:
    with responses.RequestsMock() as rsps, pytest.raises(FhirInvalidResponseError):
        exchange_code(
            "http://auth.example.org/token",
            code="c",
            redirect_uri="https://nelm.example/cb",
            code_verifier=new_verifier(),
            client_id="app",
            timeout=TIMEOUT,
        )
    assert len(rsps.calls) == 0


# --- the card's link -------------------------------------------------------------------


def evaluation_result() -> dict[str, Any]:
    return {"evaluationDate": "2026-11-22", "assessments": [], "notes": [], "warnings": []}


def test_the_card_links_to_the_smart_launch_when_it_is_set_up() -> None:
    card = build_card(
        evaluation_result(),
        public_base_url="https://nelm.example/",
        patient_id="p1",
        smart_launch=True,
    )
    assert card["links"] == [
        {
            "label": "Open NELM eligibility (SMART)",
            "url": "https://nelm.example/smart/launch",
            "type": "smart",
        }
    ]


def test_the_card_keeps_its_absolute_link_otherwise() -> None:
    card = build_card(evaluation_result(), public_base_url="https://nelm.example", patient_id="p1")
    assert card["links"][0]["type"] == "absolute"
    assert card["links"][0]["url"] == "https://nelm.example/patients/p1/evaluation"


def hook_call_body(patient_id: str) -> dict[str, Any]:
    bundle = json.loads((DEMO / f"{patient_id}.json").read_text(encoding="utf-8"))
    resources = [entry["resource"] for entry in bundle["entry"]]

    def searchset(kind: str) -> dict[str, Any]:
        found = [r for r in resources if r["resourceType"] == kind]
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in found],
        }

    return {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
        "prefetch": {
            "patient": next(r for r in resources if r["resourceType"] == "Patient"),
            "observations": searchset("Observation"),
            "conditions": searchset("Condition"),
            "procedures": searchset("Procedure"),
        },
    }


@pytest.mark.parametrize(("client_id", "link_type"), [("app", "smart"), (None, "absolute")])
def test_a_hook_calls_card_links_by_smart_launch_when_a_client_id_is_set(
    tmp_path: Path, client_id: str | None, link_type: str
) -> None:
    key = new_ec_key("ehr-1")
    issuer = "https://ehr.example.org"
    app = build_app(
        {
            "TESTING": True,
            "PUBLIC_BASE_URL": "http://localhost",
            "CDS_ISSUERS": json.dumps({issuer: {"jwks": jwks(key)}}),
            "FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
            "SMART_CLIENT_ID": client_id,
        }
    )
    path = "/cds-services/nelm-eligibility"
    token = sign(key, iss=issuer, aud=f"http://localhost{path}")

    response = app.test_client().post(
        path, json=hook_call_body("demo-transplant"), headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200
    (card,) = response.get_json()["cards"]
    assert card["links"][0]["type"] == link_type
