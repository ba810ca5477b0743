"""The app's shared state: a CDS token replayed to another worker is refused, a store
that is down fails closed with a warning, and /readyz says which store is not ready."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.app import create_app
from tests.cdshooks.jwt_factory import SigningKey, jwks, new_ec_key, sign
from tests.cdshooks.redis_server import free_port, running_redis
from tests.conftest import AUDIT_HMAC_KEY

ISSUER = "https://ehr.example.org"
BASE = "http://localhost"
DISCOVERY = "/cds-services"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_ec_key("ehr-1")


def make_app(key: SigningKey, tmp_path: Path, **overrides: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "PUBLIC_BASE_URL": BASE,
            "CDS_ISSUERS": {ISSUER: {"jwks": jwks(key)}},
            "FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
            "STATE_DB": str(tmp_path / "state.sqlite3"),
            **overrides,
        }
    )


def discovery(app: Flask, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return app.test_client().get(DISCOVERY, headers=headers).status_code


def test_a_token_replayed_to_another_worker_is_refused(key: SigningKey, tmp_path: Path) -> None:
    first, second = make_app(key, tmp_path), make_app(key, tmp_path)
    token = sign(key, iss=ISSUER, aud=BASE + DISCOVERY)
    assert discovery(first, token) == 200
    assert discovery(second, token) == 401
    assert discovery(first, token) == 401


def test_readiness_lists_the_stores(key: SigningKey, tmp_path: Path) -> None:
    body = make_app(key, tmp_path).test_client().get("/readyz").get_json()
    assert body["stores"] == {"replay_store": "ready", "feedback_store": "ready"}
    assert body["status"] == "ready"


@pytest.mark.parametrize("setting", ["STATE_DB", "FEEDBACK_DB"])
def test_an_unusable_store_makes_the_service_not_ready(
    key: SigningKey, tmp_path: Path, setting: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = make_app(
        key, tmp_path, AUDIT_HMAC_KEY=AUDIT_HMAC_KEY, **{setting: str(blocker / "store.sqlite3")}
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    name = "replay_store" if setting == "STATE_DB" else "feedback_store"
    assert response.get_json()["stores"][name] == "not_ready"


@pytest.mark.integration
def test_redis_down_refuses_hooks_warns_and_is_not_ready(
    key: SigningKey, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_redis(tmp_path) as redis:
        app = make_app(key, tmp_path, REDIS_URL=redis.url)
        assert discovery(app, sign(key, iss=ISSUER, aud=BASE + DISCOVERY)) == 200
        assert app.test_client().get("/readyz").status_code == 200
        redis.stop()
        caplog.set_level(logging.WARNING)
        assert discovery(app, sign(key, iss=ISSUER, aud=BASE + DISCOVERY)) == 401
        ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["stores"]["replay_store"] == "not_ready"
    assert any(r.levelno == logging.WARNING and "Redis" in r.getMessage() for r in caplog.records)


def test_a_redis_that_was_never_there_is_not_ready(key: SigningKey, tmp_path: Path) -> None:
    app = make_app(key, tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert app.test_client().get("/readyz").status_code == 503
