"""The replay cache: in memory, and in a real Redis server started by the tests (the
multi-replica case). Both refuse a token id seen before and fail closed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis

from service.cdshooks.replay import (
    REDIS_PREFIX,
    MemoryReplayCache,
    RedisReplayCache,
    replay_key,
)
from service.cdshooks.security import CDS_SECURITY_DEFAULTS, CdsTokenError, CdsTokenValidator
from tests.cdshooks.jwt_factory import SigningKey, jwks, new_ec_key, sign
from tests.cdshooks.redis_server import RedisServer, free_port, running_redis

ISS = "https://ehr.example.org"
AUD = "https://cds.example.org/cds-services/nelm-eligibility"


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _race(first_use: Callable[[int], bool], threads: int = 16) -> list[bool]:
    """Call ``first_use(thread_number)`` from many threads at once; return the answers."""
    barrier = threading.Barrier(threads)

    def call(number: int) -> bool:
        barrier.wait()
        return first_use(number)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(call, range(threads)))


# --- keys --------------------------------------------------------------------------------


def test_replay_keys_are_unambiguous_and_fixed_size() -> None:
    assert replay_key("a|b", "c") != replay_key("a", "b|c")
    assert replay_key(ISS, "1") != replay_key("https://other.example", "1")
    assert len(replay_key(ISS, "x" * 1000)) == 64


# --- in memory ---------------------------------------------------------------------------


def test_memory_a_key_is_new_once() -> None:
    cache = MemoryReplayCache(clock=Clock())
    assert cache.first_use("k", 1_700_000_100)
    assert not cache.first_use("k", 1_700_000_100)
    assert cache.first_use("other", 1_700_000_100)


def test_memory_keys_expire_and_are_purged() -> None:
    clock = Clock()
    cache = MemoryReplayCache(clock=clock)
    cache.first_use("short", clock.now + 10)
    cache.first_use("long", clock.now + 100)
    assert len(cache) == 2
    clock.now += 10
    assert len(cache) == 1
    assert cache.first_use("short", clock.now + 10)  # forgotten once expired
    assert not cache.first_use("long", clock.now + 100)


def test_memory_an_already_expired_key_is_not_kept() -> None:
    clock = Clock()
    cache = MemoryReplayCache(clock=clock)
    assert cache.first_use("old", clock.now - 1)
    assert len(cache) == 0


def test_memory_a_full_cache_fails_closed() -> None:
    clock = Clock()
    cache = MemoryReplayCache(max_entries=2, clock=clock)
    cache.first_use("a", clock.now + 10)
    cache.first_use("b", clock.now + 20)
    with pytest.raises(CdsTokenError, match="full"):
        cache.first_use("c", clock.now + 10)
    assert not cache.first_use("a", clock.now + 10)  # seen ones are still refused
    clock.now += 10  # "a" expires: room again
    assert cache.first_use("c", clock.now + 10)


def test_memory_concurrent_first_uses_let_exactly_one_through() -> None:
    cache = MemoryReplayCache()
    answers = _race(lambda _: cache.first_use("raced", time.time() + 60))
    assert answers.count(True) == 1


# --- a real Redis server -----------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server on 127.0.0.1 for the session (provisioned if missing)."""
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def redis_cache(redis_server: RedisServer, redis_client: redis.Redis) -> Iterator[RedisReplayCache]:
    cache = RedisReplayCache(redis_server.url)
    yield cache
    cache.close()


@pytest.mark.integration
def test_the_redis_server_is_real(redis_client: redis.Redis) -> None:
    info: dict[str, Any] = redis_client.info("server")
    assert info["redis_version"]
    assert info["tcp_port"] > 0


@pytest.mark.integration
def test_redis_a_key_is_new_once(redis_cache: RedisReplayCache, redis_client: redis.Redis) -> None:
    assert redis_cache.first_use("k1", time.time() + 60)
    assert not redis_cache.first_use("k1", time.time() + 60)
    assert redis_cache.first_use("k2", time.time() + 60)


@pytest.mark.integration
def test_redis_keys_are_namespaced_and_expire_with_the_token(
    redis_cache: RedisReplayCache, redis_client: redis.Redis
) -> None:
    key = replay_key(ISS, "jti-1")
    assert redis_cache.first_use(key, time.time() + 60)
    assert redis_client.keys("*") == [f"{REDIS_PREFIX}{key}".encode()]
    assert 58_000 < redis_client.pttl(f"{REDIS_PREFIX}{key}") <= 60_000


@pytest.mark.integration
def test_redis_keys_are_forgotten_once_expired(redis_cache: RedisReplayCache) -> None:
    assert redis_cache.first_use("brief", time.time() + 0.2)
    assert not redis_cache.first_use("brief", time.time() + 0.2)
    time.sleep(0.35)
    assert redis_cache.first_use("brief", time.time() + 0.2)


@pytest.mark.integration
def test_redis_concurrent_first_uses_let_exactly_one_through(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    """Four replicas' caches, sixteen threads, one key: one winner."""
    caches = [RedisReplayCache(redis_server.url) for _ in range(4)]
    try:
        answers = _race(lambda n: caches[n % 4].first_use("raced", time.time() + 60))
    finally:
        for cache in caches:
            cache.close()
    assert answers.count(True) == 1


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
    finally:
        replica_a.close()
        replica_b.close()


def test_two_replicas_with_memory_caches_would_not_see_the_replay(key: SigningKey) -> None:
    """Why REDIS_URL matters behind a load balancer."""
    replica_a = CdsTokenValidator.from_config(_config(key))
    replica_b = CdsTokenValidator.from_config(_config(key))
    token = f"Bearer {sign(key, iss=ISS, aud=AUD)}"
    assert replica_a.validate(token, AUD)
    assert replica_b.validate(token, AUD)


@pytest.mark.integration
def test_redis_going_down_fails_closed(tmp_path: Path, key: SigningKey) -> None:
    with running_redis(tmp_path) as doomed:
        cache = RedisReplayCache(doomed.url)
        validator = CdsTokenValidator.from_config(_config(key, REDIS_URL=doomed.url))
        try:
            assert cache.first_use("before", time.time() + 60)
            doomed.stop()
            started = time.monotonic()
            with pytest.raises(CdsTokenError, match="Redis at 127.0.0.1"):
                cache.first_use("after", time.time() + 60)
            with pytest.raises(CdsTokenError, match="replay cache"):
                validator.validate(f"Bearer {sign(key, iss=ISS, aud=AUD)}", AUD)
            assert time.monotonic() - started < 5
        finally:
            cache.close()
            validator.close()


def test_redis_never_reached_fails_closed(key: SigningKey) -> None:
    url = f"redis://:secret-password@127.0.0.1:{free_port()}/0"
    cache = RedisReplayCache(url)
    try:
        with pytest.raises(CdsTokenError) as caught:
            cache.first_use("k", time.time() + 60)
        assert "secret-password" not in str(caught.value)
    finally:
        cache.close()
