"""The jti replay cache: a token id is accepted once, by every validator sharing the
store (the workers of one server through SQLite, replicas through a real Redis), and the
cache fails closed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from service.auth.replay import JTI_NAMESPACE, ReplayCache, replay_key
from service.cdshooks.security import CDS_SECURITY_DEFAULTS, CdsTokenError, CdsTokenValidator
from service.state import MemoryStore
from service.state.redis_store import REDIS_PREFIX
from service.state.sqlite_store import SqliteStore
from tests.cdshooks.jwt_factory import SigningKey, jwks, new_ec_key, sign
from tests.cdshooks.redis_server import RedisServer, free_port, running_redis

ISS = "https://ehr.example.org"
AUD = "https://cds.example.org/cds-services/nelm-eligibility"


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_ec_key("ec-1")


def _config(key: SigningKey, **overrides: Any) -> dict[str, Any]:
    return {
        **CDS_SECURITY_DEFAULTS,
        "CDS_ISSUERS": json.dumps({ISS: {"jwks": jwks(key)}}),
        "PUBLIC_BASE_URL": "https://cds.example.org",
        **overrides,
    }


def test_replay_keys_are_unambiguous_and_fixed_size() -> None:
    assert replay_key("a|b", "c") != replay_key("a", "b|c")
    assert replay_key(ISS, "1") != replay_key("https://other.example", "1")
    assert len(replay_key(ISS, "x" * 1000)) == 64


def test_a_key_is_new_once_until_it_expires() -> None:
    clock = Clock()
    cache = ReplayCache(MemoryStore(clock=clock), clock=clock)
    assert cache.first_use("k", clock.now + 10)
    assert not cache.first_use("k", clock.now + 10)
    clock.now += 10
    assert cache.first_use("k", clock.now + 10)


def test_a_full_cache_fails_closed() -> None:
    clock = Clock()
    cache = ReplayCache(MemoryStore(clock=clock), max_entries=2, clock=clock)
    cache.first_use("a", clock.now + 10)
    cache.first_use("b", clock.now + 20)
    with pytest.raises(CdsTokenError, match="full"):
        cache.first_use("c", clock.now + 10)


def test_two_workers_sharing_the_sqlite_file_refuse_a_token_replayed_across_them(
    tmp_path: Path, key: SigningKey
) -> None:
    path = tmp_path / "state.sqlite3"
    worker_a = CdsTokenValidator.from_config(
        _config(key), replay_cache=ReplayCache(SqliteStore(path))
    )
    worker_b = CdsTokenValidator.from_config(
        _config(key), replay_cache=ReplayCache(SqliteStore(path))
    )
    token = f"Bearer {sign(key, iss=ISS, aud=AUD)}"
    assert worker_a.validate(token, AUD)
    with pytest.raises(CdsTokenError, match="jti already used"):
        worker_b.validate(token, AUD)


def test_two_validators_with_memory_caches_would_not_see_the_replay(key: SigningKey) -> None:
    """Why the app shares one store between its workers."""
    replica_a = CdsTokenValidator.from_config(_config(key))
    replica_b = CdsTokenValidator.from_config(_config(key))
    token = f"Bearer {sign(key, iss=ISS, aud=AUD)}"
    assert replica_a.validate(token, AUD)
    assert replica_b.validate(token, AUD)


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield client
    client.close()


@pytest.mark.integration
def test_two_replicas_sharing_redis_refuse_a_token_replayed_across_them(
    redis_server: RedisServer, redis_client: redis.Redis, key: SigningKey
) -> None:
    replica_a = CdsTokenValidator.from_config(_config(key, REDIS_URL=redis_server.url))
    replica_b = CdsTokenValidator.from_config(_config(key, REDIS_URL=redis_server.url))
    try:
        token = f"Bearer {sign(key, iss=ISS, aud=AUD)}"
        assert replica_a.validate(token, AUD)
        with pytest.raises(CdsTokenError, match="jti already used"):
            replica_b.validate(token, AUD)
        with pytest.raises(CdsTokenError, match="jti already used"):
            replica_a.validate(token, AUD)
        stored = redis_client.keys(f"{REDIS_PREFIX}{JTI_NAMESPACE}:*")
        assert len(stored) == 1
    finally:
        replica_a.close()
        replica_b.close()


@pytest.mark.integration
def test_redis_going_down_refuses_tokens(tmp_path: Path, key: SigningKey) -> None:
    with running_redis(tmp_path) as doomed:
        validator = CdsTokenValidator.from_config(_config(key, REDIS_URL=doomed.url))
        try:
            assert validator.validate(f"Bearer {sign(key, iss=ISS, aud=AUD)}", AUD)
            doomed.stop()
            started = time.monotonic()
            with pytest.raises(CdsTokenError, match="replay cache"):
                validator.validate(f"Bearer {sign(key, iss=ISS, aud=AUD)}", AUD)
            assert time.monotonic() - started < 5
        finally:
            validator.close()


def test_redis_never_reached_refuses_without_naming_the_password(key: SigningKey) -> None:
    url = f"redis://:secret-password@127.0.0.1:{free_port()}/0"
    validator = CdsTokenValidator.from_config(_config(key, REDIS_URL=url))
    try:
        with pytest.raises(CdsTokenError) as caught:
            validator.validate(f"Bearer {sign(key, iss=ISS, aud=AUD)}", AUD)
        assert "secret-password" not in str(caught.value)
    finally:
        validator.close()
