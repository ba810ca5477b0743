"""The shared store's contract, held by all three kinds: in memory, a SQLite file shared
by processes, and a real Redis server. Atomic first-use, single-use take, expiry,
caps, and failing closed."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis

from service.state import MemoryStore, SharedStore, StoreFullError, StoreUnavailableError
from service.state.redis_store import RedisStore
from service.state.sqlite_store import HOUSEKEEPING_EVERY, SqliteStore
from tests.cdshooks.redis_server import RedisServer, free_port, running_redis

ROOT = Path(__file__).resolve().parents[2]
CAP = 1000


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SharedStore]:
    kind = request.param
    if kind == "memory":
        built: SharedStore = MemoryStore()
    elif kind == "sqlite":
        built = SqliteStore(tmp_path / "state.sqlite3")
    else:
        request.getfixturevalue("redis_client")
        built = RedisStore(request.getfixturevalue("redis_server").url)
    yield built
    built.close()


def race(call: Callable[[int], Any], threads: int = 16) -> list[Any]:
    """Call ``call(thread_number)`` from many threads at once; return the answers."""
    barrier = threading.Barrier(threads)

    def run(number: int) -> Any:
        barrier.wait()
        return call(number)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(threads)))


# --- the contract, for every kind ---------------------------------------------------------


def test_a_key_is_added_once(store: SharedStore) -> None:
    assert store.add("jti", "k", b"1", 60, cap=CAP)
    assert not store.add("jti", "k", b"2", 60, cap=CAP)
    assert store.get("jti", "k") == b"1"
    assert store.add("jti", "other", b"1", 60, cap=CAP)
    assert store.add("elsewhere", "k", b"1", 60, cap=CAP)  # namespaces are apart


def test_an_expired_key_can_be_added_again(store: SharedStore) -> None:
    assert store.add("jti", "brief", b"1", 0.2, cap=CAP)
    assert not store.add("jti", "brief", b"1", 0.2, cap=CAP)
    time.sleep(0.35)
    assert store.get("jti", "brief") is None
    assert store.add("jti", "brief", b"1", 0.2, cap=CAP)


def test_an_already_expired_add_is_not_kept(store: SharedStore) -> None:
    assert store.add("jti", "old", b"1", -1, cap=CAP)
    assert store.get("jti", "old") is None


def test_put_replaces_and_take_is_single_use(store: SharedStore) -> None:
    store.put("session", "s", b"one", 60, cap=CAP)
    store.put("session", "s", b"two", 60, cap=CAP)
    assert store.get("session", "s") == b"two"
    assert store.take("session", "s") == b"two"
    assert store.take("session", "s") is None
    assert store.get("session", "s") is None


def test_delete_forgets_an_entry(store: SharedStore) -> None:
    store.put("session", "s", b"x", 60, cap=CAP)
    store.delete("session", "s")
    assert store.get("session", "s") is None


def test_concurrent_adds_let_exactly_one_through(store: SharedStore) -> None:
    answers = race(lambda _: store.add("jti", "raced", b"1", 60, cap=CAP))
    assert answers.count(True) == 1


def test_concurrent_takes_give_the_value_to_exactly_one(store: SharedStore) -> None:
    store.put("pending", "state", b"launch", 60, cap=CAP)
    answers = race(lambda _: store.take("pending", "state"))
    assert [a for a in answers if a is not None] == [b"launch"]


def test_a_working_store_checks_out(store: SharedStore) -> None:
    store.check()


# --- caps ---------------------------------------------------------------------------------


def test_memory_add_refuses_at_the_cap_and_put_pushes_out_the_oldest() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    assert store.add("jti", "a", b"1", 10, cap=2)
    assert store.add("jti", "b", b"1", 20, cap=2)
    with pytest.raises(StoreFullError):
        store.add("jti", "c", b"1", 10, cap=2)
    assert not store.add("jti", "a", b"1", 10, cap=2)  # seen ones are still refused
    clock.now += 10  # "a" expires: room again
    assert store.add("jti", "c", b"1", 10, cap=2)
    store.put("pending", "x", b"1", 5, cap=2)
    store.put("pending", "y", b"1", 50, cap=2)
    store.put("pending", "z", b"1", 50, cap=2)
    assert store.get("pending", "x") is None
    assert store.get("pending", "z") == b"1"


def test_sqlite_add_refuses_once_housekeeping_finds_the_cap_reached(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.sqlite3")

    def fill() -> int:
        for number in range(3 * HOUSEKEEPING_EVERY):
            try:
                store.add("jti", f"k{number}", b"1", 60, cap=HOUSEKEEPING_EVERY)
            except StoreFullError:
                return number
        return -1

    assert HOUSEKEEPING_EVERY <= fill() < 2 * HOUSEKEEPING_EVERY
    with pytest.raises(StoreFullError):  # stays full until entries expire
        store.add("jti", "one more", b"1", 60, cap=HOUSEKEEPING_EVERY)


def test_sqlite_put_keeps_a_namespace_near_its_cap(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.sqlite3")
    for number in range(5 * HOUSEKEEPING_EVERY):
        store.put("pending", f"k{number}", b"1", 60 + number, cap=HOUSEKEEPING_EVERY)
    held = sum(
        store.get("pending", f"k{number}") is not None for number in range(5 * HOUSEKEEPING_EVERY)
    )
    assert held <= 2 * HOUSEKEEPING_EVERY
    assert store.get("pending", f"k{5 * HOUSEKEEPING_EVERY - 1}") == b"1"  # newest kept


# --- shared between processes ---------------------------------------------------------------

_ADD_IN_A_PROCESS = """
import sys, time
from service.state.sqlite_store import SqliteStore
store = SqliteStore(sys.argv[1])
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
print(store.add("jti", "raced", b"1", 60, cap=1000))
"""


def test_sqlite_processes_sharing_the_file_let_exactly_one_through(tmp_path: Path) -> None:
    """Six worker processes, one key: one winner (what the default gunicorn server needs)."""
    path = tmp_path / "state.sqlite3"
    SqliteStore(path).check()  # the schema exists before the race
    start = str(time.time() + 1.5)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _ADD_IN_A_PROCESS, str(path), start],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    answers = [process.communicate(timeout=30)[0].strip() for process in processes]
    assert sorted(answers) == ["False"] * 5 + ["True"]


def test_sqlite_a_second_store_on_the_same_file_sees_the_first_ones_entries(
    tmp_path: Path,
) -> None:
    first, second = SqliteStore(tmp_path / "s.sqlite3"), SqliteStore(tmp_path / "s.sqlite3")
    assert first.add("jti", "k", b"1", 60, cap=CAP)
    assert not second.add("jti", "k", b"1", 60, cap=CAP)
    first.put("session", "s", b"v", 60, cap=CAP)
    assert second.take("session", "s") == b"v"
    assert first.get("session", "s") is None


def test_sqlite_the_file_is_private_to_the_service_user(tmp_path: Path) -> None:
    path = tmp_path / "new" / "state.sqlite3"
    SqliteStore(path).check()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


# --- failing closed -----------------------------------------------------------------------


def test_sqlite_an_unusable_file_fails_closed_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    store = SqliteStore(blocker / "state.sqlite3")
    for call in (
        lambda: store.add("jti", "k", b"1", 60, cap=CAP),
        lambda: store.get("jti", "k"),
        store.check,
    ):
        with pytest.raises(StoreUnavailableError):
            call()
    assert any(r.levelname == "WARNING" for r in caplog.records)


def test_sqlite_a_corrupt_file_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnavailableError):
        SqliteStore(path).add("jti", "k", b"1", 60, cap=CAP)


@pytest.mark.integration
def test_redis_going_down_fails_closed_and_recovers(tmp_path: Path) -> None:
    with running_redis(tmp_path) as doomed:
        store = RedisStore(doomed.url)
        try:
            assert store.add("jti", "before", b"1", 60, cap=CAP)
            doomed.stop()
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError, match="Redis at 127.0.0.1"):
                store.add("jti", "after", b"1", 60, cap=CAP)
            with pytest.raises(StoreUnavailableError):
                store.check()
            assert time.monotonic() - started < 5
        finally:
            store.close()


def test_redis_never_reached_fails_closed_without_naming_the_password() -> None:
    store = RedisStore(f"redis://:secret-password@127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(StoreUnavailableError) as caught:
            store.add("jti", "k", b"1", 60, cap=CAP)
        assert "secret-password" not in str(caught.value)
    finally:
        store.close()


@pytest.mark.integration
def test_redis_keys_are_namespaced_and_expire_with_their_entry(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    store = RedisStore(redis_server.url)
    try:
        assert store.add("jti", "abc", b"1", 60, cap=CAP)
        assert redis_client.keys("*") == [b"nelm-cds:jti:abc"]
        assert 58_000 < redis_client.pttl("nelm-cds:jti:abc") <= 60_000
    finally:
        store.close()
