"""SMART launches and sessions live in the shared store: a launch begun on one worker
completes on another, the session is known to every worker, and the access token is
sealed at rest."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import requests
from flask import Flask

from service.smart.context import SESSION_COOKIE
from service.smart.routes import BINDING_COOKIE
from service.state import DEV_KEY_FILE
from tests.smart.authorization_server import Ehr
from tests.smart.conftest import CONTEXT_ROUTE, AppFactory, authorize, callback_path, session_cookie


@pytest.fixture
def workers(make_app: AppFactory, tmp_path: Path) -> tuple[Flask, Flask]:
    """Two apps sharing one state file, as two gunicorn workers do."""
    state = str(tmp_path / "state" / "state.sqlite3")
    return make_app(STATE_DB=state), make_app(STATE_DB=state)


def test_a_launch_begun_on_one_worker_completes_on_another(
    workers: tuple[Flask, Flask], http: requests.Session, ehr: Ehr, tmp_path: Path
) -> None:
    first, second = (worker.test_client() for worker in workers)
    launch = first.get(
        "/smart/launch", query_string={"iss": ehr.fhir_base, "launch": ehr.new_launch()}
    )
    binding = first.get_cookie(BINDING_COOKIE, path="/smart")
    assert binding is not None
    second.set_cookie(BINDING_COOKIE, binding.value, path="/smart")
    answer = authorize(http, launch)

    callback = second.get(callback_path(answer.headers["Location"]))

    assert callback.status_code == 302, callback.get_data(as_text=True)
    session = session_cookie(second)
    assert session is not None
    first.set_cookie(SESSION_COOKIE, session.value)
    context = first.get(CONTEXT_ROUTE).get_json()["context"]
    assert context["patient_id"] == "demo-transplant"
    assert (tmp_path / "state" / DEV_KEY_FILE).exists()


def test_the_access_token_is_sealed_in_the_store(
    workers: tuple[Flask, Flask], http: requests.Session, ehr: Ehr, tmp_path: Path
) -> None:
    client = workers[0].test_client()
    launch = client.get(
        "/smart/launch", query_string={"iss": ehr.fhir_base, "launch": ehr.new_launch()}
    )
    client.get(callback_path(authorize(http, launch).headers["Location"]))
    session = session_cookie(client)
    assert session is not None
    with sqlite3.connect(tmp_path / "state" / "state.sqlite3") as db:
        rows = db.execute("SELECT ns, key, value FROM state WHERE ns LIKE 'smart%'").fetchall()
    assert [ns for ns, _, _ in rows] == ["smart-session"]
    stored = repr(rows)
    assert ehr.issued_tokens, "the EHR issued a token"
    for token in ehr.issued_tokens:
        assert token not in stored
    assert session.value not in stored  # keys are hashes of the session id


def test_a_session_sealed_with_another_key_is_unknown(
    make_app: AppFactory, http: requests.Session, ehr: Ehr, tmp_path: Path
) -> None:
    state = str(tmp_path / "state.sqlite3")
    old = make_app(STATE_DB=state, STATE_ENCRYPTION_KEY="a" * 43 + "=").test_client()
    launch = old.get(
        "/smart/launch", query_string={"iss": ehr.fhir_base, "launch": ehr.new_launch()}
    )
    old.get(callback_path(authorize(http, launch).headers["Location"]))
    session = session_cookie(old)
    assert session is not None
    assert old.get(CONTEXT_ROUTE).get_json()["context"] is not None
    rotated = make_app(STATE_DB=state, STATE_ENCRYPTION_KEY="b" * 43 + "=").test_client()
    rotated.set_cookie(SESSION_COOKIE, session.value)
    assert rotated.get(CONTEXT_ROUTE).get_json()["context"] is None
    both = make_app(STATE_DB=state, STATE_ENCRYPTION_KEY=f"{'b' * 43}=,{'a' * 43}=")
    kept = both.test_client()
    kept.set_cookie(SESSION_COOKIE, session.value)
    assert kept.get(CONTEXT_ROUTE).get_json()["context"] is not None
