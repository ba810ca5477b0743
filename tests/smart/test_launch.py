"""The SMART EHR launch end to end, against an authorization server started by the tests.

The Flask test client is the browser on the service's side; ``requests`` is the browser
on the EHR's side (its authorization endpoint over real HTTP). The service itself calls
the EHR's ``.well-known/smart-configuration`` and token endpoint over real HTTP.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from service.fhir import Allowlist, BearerToken, FhirClient, oauth
from service.smart import DEFAULT_SMART_SCOPE, flow
from service.smart.context import SESSION_COOKIE, current_smart_context
from service.smart.flow import STATE_TTL, SmartLaunchFlow
from service.smart.routes import BINDING_COOKIE
from tests.smart.authorization_server import CLIENT_ID, Ehr, s256, serving_ehr
from tests.smart.conftest import (
    CALLBACK,
    CONTEXT_ROUTE,
    AppFactory,
    authorize,
    callback_path,
    run_launch,
    session_cookie,
)


class FakeClock:
    """Seconds since the epoch that a test moves forward."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


SESSION_PREFIX = "nelm_smart_"
"""Session cookies are per patient: ``nelm_smart_<hash of the patient id>``."""


def set_cookie(response: Any, name: str) -> str:
    def named(header: str) -> bool:
        if name == SESSION_PREFIX:
            return header.startswith(name) and not header.startswith("nelm_smart_launch=")
        return header.startswith(f"{name}=")

    headers = [h for h in response.headers.getlist("Set-Cookie") if named(h)]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return str(headers[0])


def attributes(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def assert_failure_page(response: Any, status: int, text: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers
    assert text in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


# --- the whole launch -----------------------------------------------------------------


def test_a_launch_from_the_ehr_ends_on_the_patients_page_with_a_session_cookie(
    client: FlaskClient, http: requests.Session, ehr: Ehr
) -> None:
    hops = run_launch(client, http, ehr)

    assert hops.callback is not None
    assert hops.callback.status_code == 302
    assert hops.callback.headers["Location"] == "/patients/demo-transplant/evaluation"
    cookie = session_cookie(client)
    assert cookie is not None
    assert len(cookie.value) >= 43
    assert ehr.token_calls[-1]["result"] == "issued"


def test_the_session_gives_the_patient_the_fhir_base_and_a_working_token(
    app: Flask, client: FlaskClient, http: requests.Session, ehr: Ehr
) -> None:
    run_launch(client, http, ehr, patient_id="demo-resection")

    shown = client.get(CONTEXT_ROUTE).get_json()["context"]
    assert shown["patient_id"] == "demo-resection"
    assert shown["fhir_base_url"] == ehr.fhir_base
    cookie = session_cookie(client)
    assert cookie is not None
    with app.test_request_context("/", headers={"Cookie": f"{cookie.key}={cookie.value}"}):
        context = current_smart_context("demo-resection")
        assert current_smart_context("demo-transplant") is None  # another patient's page
    assert context is not None
    assert context.patient_id == "demo-resection"
    assert context.access_token == ehr.issued_tokens[-1]
    assert context.scope == DEFAULT_SMART_SCOPE
    expected = datetime.now(UTC) + timedelta(seconds=3600)
    assert abs((context.expires_at - expected).total_seconds()) < 60
    assert context.access_token not in repr(context)

    allowlist = Allowlist([ehr.fhir_base], allow_http=False)
    auth = BearerToken(context.access_token)
    with FhirClient(context.fhir_base_url, allowlist=allowlist, auth=auth, retries=0) as fhir:
        record = fhir.fetch_patient(context.patient_id)
    assert record.patient.resource["id"] == "demo-resection"
    kinds = {entry.resource["resourceType"] for entry in record.resources}
    assert {"Observation", "Condition"} <= kinds


def test_the_authorization_request_carries_every_smart_parameter(
    client: FlaskClient, ehr: Ehr
) -> None:
    launch_id = ehr.new_launch()
    response = client.get("/smart/launch", query_string={"iss": ehr.fhir_base, "launch": launch_id})

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(ehr.authorize_url + "?")
    params = query(location)
    assert set(params) == {
        "response_type",
        "client_id",
        "redirect_uri",
        "launch",
        "scope",
        "state",
        "aud",
        "code_challenge",
        "code_challenge_method",
        "nonce",
    }
    assert len(params["nonce"]) >= 32
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == CALLBACK
    assert params["launch"] == launch_id
    assert params["scope"] == DEFAULT_SMART_SCOPE
    assert params["aud"] == ehr.fhir_base
    assert len(params["state"]) >= 43
    assert len(params["code_challenge"]) == 43
    assert params["code_challenge_method"] == "S256"
    assert ehr.requests == ["GET /fhir/.well-known/smart-configuration"]


def test_each_launch_has_its_own_state_and_challenge(client: FlaskClient, ehr: Ehr) -> None:
    seen = [
        query(
            client.get(
                "/smart/launch", query_string={"iss": ehr.fhir_base, "launch": ehr.new_launch()}
            ).headers["Location"]
        )
        for _ in range(3)
    ]
    assert len({p["state"] for p in seen}) == 3
    assert len({p["code_challenge"] for p in seen}) == 3


def test_the_smart_configuration_is_fetched_once_per_server_for_a_while(
    client: FlaskClient, ehr: Ehr
) -> None:
    for _ in range(3):
        client.get("/smart/launch", query_string={"iss": ehr.fhir_base, "launch": "x"})
    assert ehr.requests.count("GET /fhir/.well-known/smart-configuration") == 1


def test_the_code_verifier_sent_to_the_token_endpoint_matches_the_challenge(
    client: FlaskClient, http: requests.Session, ehr: Ehr
) -> None:
    hops = run_launch(client, http, ehr)

    challenge = query(hops.launch.headers["Location"])["code_challenge"]
    form = ehr.token_calls[-1]["form"]
    assert s256(form["code_verifier"]) == challenge
    assert 43 <= len(form["code_verifier"]) <= 128
    assert form["grant_type"] == "authorization_code"
    assert form["redirect_uri"] == CALLBACK
    assert form["client_id"] == CLIENT_ID
    assert ehr.token_calls[-1]["basic"] is False


def test_a_confidential_client_authenticates_with_http_basic(
    make_app: AppFactory, http: requests.Session, ehr: Ehr
) -> None:
    ehr.client_secret = "s3cret-for-tests"
    client = make_app(SMART_CLIENT_SECRET="s3cret-for-tests").test_client()

    hops = run_launch(client, http, ehr)

    assert hops.callback is not None
    assert hops.callback.status_code == 302
    assert ehr.token_calls[-1]["basic"] is True
    assert "client_id" not in ehr.token_calls[-1]["form"]


def test_a_wrong_client_secret_is_refused_by_the_ehr(
    make_app: AppFactory, http: requests.Session, ehr: Ehr
) -> None:
    ehr.client_secret = "the-real-secret"
    client = make_app(SMART_CLIENT_SECRET="not-the-secret").test_client()

    hops = run_launch(client, http, ehr)

    assert_failure_page(hops.callback, 400, "invalid_client")
    assert session_cookie(client) is None


# --- cookies --------------------------------------------------------------------------


def test_over_http_cookies_are_httponly_and_samesite_lax(
    client: FlaskClient, http: requests.Session, ehr: Ehr
) -> None:
    hops = run_launch(client, http, ehr)

    binding = set_cookie(hops.launch, BINDING_COOKIE)
    session = set_cookie(hops.callback, SESSION_PREFIX)
    for header in (binding, session):
        assert "httponly" in attributes(header)
        assert "secure" not in attributes(header)
        assert "SameSite=Lax" in header
    assert "Path=/smart" in binding
    assert "Path=/;" in session or session.endswith("Path=/")


def test_over_https_cookies_are_secure_samesite_none_and_partitioned_for_iframes(
    make_app: AppFactory, http: requests.Session
) -> None:
    https_callback = "https://nelm.example/smart/callback"
    with serving_ehr(redirect_uri=https_callback) as ehr:
        app = make_app(PUBLIC_BASE_URL="https://nelm.example", FHIR_ALLOWLIST=ehr.fhir_base)
        client = app.test_client()
        launch = client.get(
            "/smart/launch",
            query_string={"iss": ehr.fhir_base, "launch": ehr.new_launch()},
            base_url="https://nelm.example",
        )
        assert query(launch.headers["Location"])["redirect_uri"] == https_callback
        answer = authorize(http, launch)
        back = urlsplit(answer.headers["Location"])
        callback = client.get(f"{back.path}?{back.query}", base_url="https://nelm.example")

    assert callback.status_code == 302
    for header in (set_cookie(launch, BINDING_COOKIE), set_cookie(callback, SESSION_PREFIX)):
        assert {"httponly", "secure", "partitioned"} <= attributes(header)
        assert "SameSite=None" in header


# --- what must never leak ---------------------------------------------------------------


def test_the_token_code_and_verifier_are_never_logged_nor_put_in_a_url_or_cookie(
    client: FlaskClient,
    http: requests.Session,
    ehr: Ehr,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    hops = run_launch(client, http, ehr)
    client.get(CONTEXT_ROUTE)

    token = ehr.issued_tokens[-1]
    form = ehr.token_calls[-1]["form"]
    secrets_ = [token, form["code"], form["code_verifier"], query(hops.locations[0])["state"]]
    cookies = [
        h
        for r in (hops.launch, hops.callback)
        for h in r.headers.getlist("Set-Cookie")  # type: ignore[union-attr]
    ]
    assert "SMART launch from" in caplog.text  # the flow does log, just not these
    for secret in secrets_:
        assert secret not in caplog.text
    assert all(token not in url for url in hops.locations)
    assert all(token not in cookie for cookie in cookies)
    assert "demo-transplant" not in caplog.text.replace("/patients/<patient_id>", "")


# --- refused launches -------------------------------------------------------------------


@pytest.mark.parametrize(
    "iss",
    [
        "https://evil.example/fhir",
        "http://127.0.0.1:1/fhir",
        "javascript:alert(1)",
        "{ehr}x",  # a path that only starts like the allowed one
        "{ehr}/../admin",
        "{ehr}?x=1",
    ],
)
def test_an_iss_not_on_the_allowlist_is_refused_without_any_call(
    client: FlaskClient, ehr: Ehr, iss: str
) -> None:
    response = client.get(
        "/smart/launch", query_string={"iss": iss.format(ehr=ehr.fhir_base), "launch": "x"}
    )

    assert_failure_page(response, 400, "not on the service&#39;s allowlist")
    assert ehr.requests == []


def test_an_unlisted_ehr_is_never_called(client: FlaskClient, ehr: Ehr) -> None:
    with serving_ehr(redirect_uri=CALLBACK) as rogue:
        response = client.get(
            "/smart/launch", query_string={"iss": rogue.fhir_base, "launch": rogue.new_launch()}
        )
        assert_failure_page(response, 400, "allowlist")
        assert rogue.requests == []
    assert ehr.requests == []


@pytest.mark.parametrize("params", [{}, {"launch": "x"}, {"iss": "{ehr}", "launch": ""}])
def test_a_launch_without_iss_or_launch_is_refused(
    client: FlaskClient, ehr: Ehr, params: dict[str, str]
) -> None:
    filled = {k: v.format(ehr=ehr.fhir_base) for k, v in params.items()}
    response = client.get("/smart/launch", query_string=filled)
    assert_failure_page(response, 400, "parameter")
    assert ehr.requests == []


def test_an_unknown_state_is_refused(client: FlaskClient, http: requests.Session, ehr: Ehr) -> None:
    launch = client.get(
        "/smart/launch", query_string={"iss": ehr.fhir_base, "launch": ehr.new_launch()}
    )
    answer = authorize(http, launch)
    code = query(answer.headers["Location"])["code"]

    response = client.get("/smart/callback", query_string={"code": code, "state": "forged" * 8})

    assert_failure_page(response, 400, "unknown, expired or already used")
    assert ehr.token_calls == []
    assert session_cookie(client) is None


def test_a_state_is_used_once(client: FlaskClient, http: requests.Session, ehr: Ehr) -> None:
    hops = run_launch(client, http, ehr)
    assert hops.authorize is not None
    client.delete_cookie(session_cookie(client).key)

    replay = client.get(callback_path(hops.authorize.headers["Location"]))

    assert_failure_page(replay, 400, "already used")
    assert len(ehr.token_calls) == 1
    assert session_cookie(client) is None


def test_a_state_expires_after_ten_minutes(
    app: Flask, client: FlaskClient, http: requests.Session, ehr: Ehr
) -> None:
    clock = FakeClock()
    flow_ = app.extensions["nelm_smart"]
    app.extensions["nelm_smart"] = SmartLaunchFlow(flow_.settings, clock=clock)
    launch = client.get(
        "/smart/launch", query_string={"iss": ehr.fhir_base, "launch": ehr.new_launch()}
    )
    answer = authorize(http, launch)
    clock.now += STATE_TTL + 1

    response = client.get(callback_path(answer.headers["Location"]))

    assert_failure_page(response, 400, "expired")
    assert ehr.token_calls == []


def test_a_callback_in_another_browser_is_refused(
    app: Flask, client: FlaskClient, http: requests.Session, ehr: Ehr
) -> None:
    launch = client.get(
        "/smart/launch", query_string={"iss": ehr.fhir_base, "launch": ehr.new_launch()}
    )
    answer = authorize(http, launch)
    victim = app.test_client()

    response = victim.get(callback_path(answer.headers["Location"]))

    assert_failure_page(response, 400, "another browser")
    assert ehr.token_calls == []
    assert session_cookie(victim) is None
    # and the state is spent: the browser that started it cannot use it either
    assert client.get(callback_path(answer.headers["Location"])).status_code == 400


def test_an_error_from_the_authorization_server_is_named_by_its_code_only(
    client: FlaskClient, http: requests.Session, ehr: Ehr
) -> None:
    ehr.deny_with = "access_denied"
    ehr.deny_description = "<script>alert('owned')</script> call 555-0100"

    hops = run_launch(client, http, ehr)

    assert hops.authorize is not None
    assert "error=access_denied" in hops.authorize.headers["Location"]
    assert_failure_page(hops.callback, 400, "access_denied")
    page = hops.callback.get_data(as_text=True)  # type: ignore[union-attr]
    assert "script" not in page
    assert "555-0100" not in page
    assert ehr.token_calls == []


def test_an_error_code_that_is_not_a_plain_word_is_not_repeated(client: FlaskClient) -> None:
    response = client.get(
        "/smart/callback", query_string={"error": "<b>bold</b>", "state": "whatever"}
    )
    assert_failure_page(response, 400, "an unnamed error")
    assert "<b>" not in response.get_data(as_text=True)


def test_a_token_response_without_a_patient_is_refused(
    client: FlaskClient, http: requests.Session, ehr: Ehr
) -> None:
    ehr.token_patient = False

    hops = run_launch(client, http, ehr)

    assert_failure_page(hops.callback, 400, "launch without patient context")
    assert session_cookie(client) is None


def test_a_tampered_code_verifier_is_refused_by_the_ehr(
    client: FlaskClient,
    http: requests.Session,
    ehr: Ehr,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = oauth.exchange_code
    sent: list[str] = []

    def tampered(token_endpoint: str, **kwargs: Any) -> Any:
        kwargs["code_verifier"] = kwargs["code_verifier"][::-1]  # same length, wrong value
        sent.append(kwargs["code_verifier"])
        return real(token_endpoint, **kwargs)

    monkeypatch.setattr(flow, "exchange_code", tampered)  # what the flow calls

    hops = run_launch(client, http, ehr)

    assert_failure_page(hops.callback, 400, "invalid_grant")
    assert ehr.token_calls[-1]["form"]["code_verifier"] == sent[0]
    assert ehr.token_calls[-1]["result"] == "invalid_grant: code_verifier"
    assert ehr.issued_tokens == []
    assert session_cookie(client) is None


def test_a_smart_configuration_without_s256_is_refused(client: FlaskClient, ehr: Ehr) -> None:
    ehr.configuration["code_challenge_methods_supported"] = ["plain"]

    response = client.get(
        "/smart/launch", query_string={"iss": ehr.fhir_base, "launch": ehr.new_launch()}
    )

    assert_failure_page(response, 502, "does not offer PKCE S256")
    assert ehr.authorize_calls == []


def test_a_smart_configuration_that_does_not_list_methods_gets_s256_and_a_warning(
    client: FlaskClient,
    http: requests.Session,
    ehr: Ehr,
    caplog: pytest.LogCaptureFixture,
) -> None:
    del ehr.configuration["code_challenge_methods_supported"]

    hops = run_launch(client, http, ehr)

    assert query(hops.launch.headers["Location"])["code_challenge_method"] == "S256"
    assert hops.callback is not None
    assert hops.callback.status_code == 302
    assert any(
        r.levelno == logging.WARNING and "code_challenge_methods_supported" in r.getMessage()
        for r in caplog.records
    )


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"token_endpoint": None}, "could not be read"),
        ({"authorization_endpoint": "ftp://127.0.0.1/authorize"}, "could not be read"),
        ({"authorization_endpoint": "http://evil.example/authorize"}, "could not be read"),
        ({"code_challenge_methods_supported": "S256"}, "could not be read"),
    ],
)
def test_an_unusable_smart_configuration_is_refused(
    client: FlaskClient, ehr: Ehr, change: dict[str, Any], text: str
) -> None:
    ehr.configuration.update(change)
    response = client.get("/smart/launch", query_string={"iss": ehr.fhir_base, "launch": "x"})
    assert_failure_page(response, 502, text)
    assert ehr.authorize_calls == []


def test_an_unreachable_ehr_is_a_bad_gateway(make_app: AppFactory) -> None:
    with serving_ehr(redirect_uri=CALLBACK) as gone:
        base = gone.fhir_base
    client = make_app(FHIR_ALLOWLIST=base).test_client()

    response = client.get("/smart/launch", query_string={"iss": base, "launch": "x"})

    assert_failure_page(response, 502, "could not be read")


def test_a_failing_token_endpoint_is_a_bad_gateway(
    client: FlaskClient, http: requests.Session, ehr: Ehr
) -> None:
    ehr.token_status = 503

    hops = run_launch(client, http, ehr)

    assert_failure_page(hops.callback, 502, "could not be reached")


def test_without_a_client_id_smart_launch_is_off(make_app: AppFactory, ehr: Ehr) -> None:
    client = make_app(SMART_CLIENT_ID=None).test_client()

    for path in ("/smart/launch", "/smart/callback"):
        response = client.get(path, query_string={"iss": ehr.fhir_base, "launch": "x"})
        assert_failure_page(response, 404, "not set up")
    assert ehr.requests == []


# --- the context outside a launch --------------------------------------------------------


@pytest.mark.parametrize("cookie", [None, "", "short", "x" * 43, "bad value!" * 5])
def test_without_a_known_session_there_is_no_context(app: Flask, cookie: str | None) -> None:
    headers = {} if cookie is None else {"Cookie": f"{SESSION_COOKIE}={cookie}"}
    with app.test_request_context("/", headers=headers):
        assert current_smart_context() is None


def test_a_session_ends_when_its_token_expires(
    app: Flask, client: FlaskClient, http: requests.Session, ehr: Ehr
) -> None:
    clock = FakeClock()
    app.extensions["nelm_smart"] = SmartLaunchFlow(
        app.extensions["nelm_smart"].settings, clock=clock
    )
    run_launch(client, http, ehr)
    assert client.get(CONTEXT_ROUTE).get_json()["context"] is not None

    clock.now += 3600

    assert client.get(CONTEXT_ROUTE).get_json()["context"] is None


def test_outside_a_request_asking_for_the_context_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="needs a request"):
        current_smart_context()


def test_a_launch_for_another_patient_in_another_tab_keeps_the_first_tab_s_session(
    client: FlaskClient, http: requests.Session, ehr: Ehr
) -> None:
    run_launch(client, http, ehr, patient_id="demo-transplant")
    run_launch(client, http, ehr, patient_id="demo-resection")
    for patient in ("demo-transplant", "demo-resection"):
        shown = client.get(CONTEXT_ROUTE, query_string={"patient": patient}).get_json()
        assert shown["context"]["patient_id"] == patient


def test_a_standalone_launch_asks_the_ehr_to_pick_the_patient(
    client: FlaskClient, ehr: Ehr
) -> None:
    response = client.get("/smart/launch", query_string={"iss": ehr.fhir_base})
    assert response.status_code == 302
    params = query(response.headers["Location"])
    assert "launch" not in params
    assert "launch/patient" in params["scope"].split()
    assert "launch" not in params["scope"].split()
