"""Start a real ``redis-server`` on 127.0.0.1 (free port, nothing persisted) for the tests.

The binary comes from :func:`tools.provision_redis.ensure_redis_server` (on PATH, or
Debian's package installed on the spot). Not a fake: the tests talk RESP over TCP to the
real server, as the replicas of the service would.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tools.provision_redis import ensure_redis_server

__all__ = ["RedisServer", "free_port", "running_redis"]

STARTUP_TIMEOUT = 10.0


@dataclass(frozen=True)
class RedisServer:
    """A running redis-server: its URL, port and process."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        """Stop the server (terminate, then kill)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def running_redis(workdir: Path) -> Iterator[RedisServer]:
    """Run redis-server on 127.0.0.1 with no persistence until the block ends."""
    binary = ensure_redis_server()
    port = free_port()
    log_path = workdir / f"redis-{port}.log"
    command = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
        "--daemonize", "no",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = RedisServer(f"redis://127.0.0.1:{port}/0", port, process, log_path)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _answers_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{log_path.read_text()}")
            time.sleep(0.02)
        yield server
    finally:
        server.stop()
