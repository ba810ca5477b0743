"""The default server (gunicorn, every worker of the production settings) keeps state
and deadlines across its workers: a CDS token replayed to any worker is refused, a SMART
launch completes whichever workers its steps reach, and concurrent calls to a slow FHIR
server each answer by their own deadline."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from service.serve import default_workers
from tests.cdshooks.jwt_factory import SigningKey, jwks, new_ec_key, sign
from tests.conftest import AUDIT_HMAC_KEY, PAGE_LINK_SECRET
from tests.deadlines.scripted_server import Call, scripted_server
from tests.live_app import free_port
from tests.server.running import (
    ROOT,
    RunningServer,
    gunicorn_command,
    running_gunicorn,
    server_env,
)
from tests.smart.authorization_server import CLIENT_ID, serving_ehr

pytestmark = pytest.mark.integration

ISSUER = "https://ehr.example.org"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_ec_key("ehr-1")


@pytest.fixture(scope="module")
def cds_server(
    key: SigningKey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("gunicorn-cds")
    with running_gunicorn(
        folder, NELM_CDS_CDS_ISSUERS=json.dumps({ISSUER: {"jwks": jwks(key)}})
    ) as server:
        yield server


def test_the_default_server_runs_several_workers(cds_server: RunningServer) -> None:
    assert default_workers() > 1
    assert cds_server.log().count("Booting worker") == default_workers()


def test_a_token_replayed_across_the_workers_is_accepted_once(
    cds_server: RunningServer, key: SigningKey
) -> None:
    url = f"{cds_server.base_url}/cds-services"
    token = sign(key, iss=ISSUER, aud=url)

    def call(_: int) -> int:
        # a new connection each time: the kernel hands it to any worker
        with requests.Session() as session:
            return session.get(
                url, headers={"Authorization": f"Bearer {token}"}, timeout=10
            ).status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(call, range(20)))
    assert sorted(statuses) == [200] + [401] * 19


def test_many_fresh_tokens_are_all_accepted(cds_server: RunningServer, key: SigningKey) -> None:
    url = f"{cds_server.base_url}/cds-services"

    def call(_: int) -> int:
        token = sign(key, iss=ISSUER, aud=url)
        return requests.get(
            url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).status_code

    with ThreadPoolExecutor(10) as pool:
        assert set(pool.map(call, range(30))) == {200}


def test_a_smart_launch_whose_steps_reach_different_workers_completes(tmp_path: Path) -> None:
    """Launch, callback and fifteen page loads, each on a new connection (any worker),
    paced like a person at the EHR's patient picker."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        serving_ehr(redirect_uri=f"{base}/smart/callback") as ehr,
        running_gunicorn(
            tmp_path,
            port=port,
            NELM_CDS_SMART_CLIENT_ID=CLIENT_ID,
            NELM_CDS_FHIR_ALLOWLIST=ehr.fhir_base,
        ),
    ):
        browser = requests.Session()
        launch = browser.get(
            f"{base}/smart/launch",
            params={"iss": ehr.fhir_base, "launch": ehr.new_launch("demo-transplant")},
            allow_redirects=False,
            timeout=10,
        )
        assert launch.status_code == 302, launch.text
        time.sleep(1.0)  # the clinician picks the patient
        authorize = browser.get(launch.headers["Location"], allow_redirects=False, timeout=10)
        assert authorize.status_code == 302
        callback = browser.get(authorize.headers["Location"], allow_redirects=False, timeout=10)
        assert callback.status_code == 302, callback.text
        page = callback.headers["Location"]
        statuses = []
        for _ in range(15):
            statuses.append(browser.get(f"{base}{page}", timeout=15).status_code)
        assert statuses == [200] * 15
        assert len(ehr.token_calls) == 1


# --- deadlines through the server -----------------------------------------------------------------

DEADLINE = 3.0


def test_concurrent_calls_to_a_paging_server_each_answer_by_the_deadline(tmp_path: Path) -> None:
    """Eight calls at once to a server that pages slowly: none waits behind another."""
    with scripted_server() as fhir:

        def answer(call: Call) -> None:
            if "/Patient/" in call.route:
                call.send_json(200, {"resourceType": "Patient", "id": "p1"})
                return
            number = int(call.query.get("page", ["1"])[0])
            following = f"{fhir.base_url}/{call.route.rsplit('/', 1)[-1]}?page={number + 1}"
            call.send_json(
                200,
                {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "link": [{"relation": "next", "url": following}],
                },
                delay=1.0,
            )

        fhir.answer = answer
        with running_gunicorn(
            tmp_path,
            NELM_CDS_FHIR_BASE_URL=fhir.base_url,
            NELM_CDS_API_AUTH="none",
            NELM_CDS_PAGE_LINK_SECRET=PAGE_LINK_SECRET,
            NELM_CDS_AUDIT_HMAC_KEY=AUDIT_HMAC_KEY,
            NELM_CDS_FHIR_DEADLINE_SECONDS=str(DEADLINE),
        ) as server:

            def call(_: int) -> tuple[int, float]:
                started = time.monotonic()
                response = requests.get(f"{server.base_url}/api/patients/p1/evaluation", timeout=30)
                return response.status_code, time.monotonic() - started

            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(call, range(8)))
    assert {status for status, _ in results} == {504}
    assert max(seconds for _, seconds in results) < DEADLINE + 2


# --- configuration ------------------------------------------------------------------------------


def test_a_bad_setting_stops_the_server_with_one_line_naming_it(tmp_path: Path) -> None:
    env = server_env(
        tmp_path, free_port(), {"NELM_CDS_FHIR_BASE_URL": "https://fhir.example.org/r4"}
    )
    completed = subprocess.run(
        gunicorn_command(),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "NELM_CDS_PAGE_LINK_SECRET" in errors[0] or "NELM_CDS_AUDIT_HMAC_KEY" in errors[0]
    assert "Traceback" not in completed.stderr


def test_no_control_socket_is_shared_under_the_home_folder(tmp_path: Path) -> None:
    with running_gunicorn(tmp_path):
        assert not (tmp_path / ".gunicorn").exists()


def test_a_control_socket_is_made_only_where_configured(tmp_path: Path) -> None:
    socket_path = tmp_path / "run" / "nelm-cds.ctl"
    socket_path.parent.mkdir()
    with running_gunicorn(tmp_path, NELM_CDS_GUNICORN_CONTROL_SOCKET=str(socket_path)):
        deadline = time.monotonic() + 10
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert socket_path.is_socket()
    assert not (tmp_path / ".gunicorn").exists()


def test_a_chunked_body_over_the_limit_is_refused_with_413(tmp_path: Path) -> None:
    """No Content-Length: the server still stops reading at the limit."""

    def chunks() -> Iterator[bytes]:
        yield b'{"resourceType": "Bundle", "type": "collection", "entry": ['
        for _ in range(200):
            yield (
                b'{"resource": {"resourceType": "Basic", "id": "x", "text": "'
                + b"y" * 100_000
                + b'"}},'
            )
        yield b"]}"

    with running_gunicorn(tmp_path, NELM_CDS_MAX_BUNDLE_BYTES=str(1024 * 1024)) as server:
        response = requests.post(
            f"{server.base_url}/api/evaluate",
            data=chunks(),
            headers={"Content-Type": "application/fhir+json"},
            timeout=30,
        )
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "request_entity_too_large"
