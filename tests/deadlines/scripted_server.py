"""A FHIR server on 127.0.0.1 whose every answer a test scripts: slow, paged, trickled,
silent, cut off. Real sockets, so the client's timeouts, deadline and retries are what
is tested (``responses`` cannot be slow or cut a connection).

    with scripted_server() as server:
        server.answer = lambda call: call.send_json(200, bundle, delay=1.0)
        base = server.base_url              # http://127.0.0.1:PORT/fhir
        server.calls                        # (method, path) of every request

``answer`` receives a :class:`Call` (the request handler) and writes what it likes. An
answer that writes nothing must set ``call.close_connection = True`` to close the
connection without a response; otherwise the connection stays open, waiting for the
client's next request, and the client sees a silent server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Call", "ScriptedServer", "scripted_server"]


class Call(BaseHTTPRequestHandler):
    """One request; helpers write an answer."""

    server: ScriptedServer
    protocol_version = "HTTP/1.1"

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    @property
    def route(self) -> str:
        return urlsplit(self.path).path

    def send_json(
        self, status: int, body: Any, *, delay: float = 0.0, headers: dict[str, str] | None = None
    ) -> None:
        """Answer ``body`` as FHIR JSON after ``delay`` seconds."""
        if delay and self.server.stop.wait(delay):
            return
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self._write(data)

    def trickle(self, status: int, body: Any, *, every: float, size: int = 1) -> None:
        """Send the headers at once, then the body ``size`` bytes every ``every`` seconds."""
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for start in range(0, len(data), size):
            if not self._write(data[start : start + size]) or self.server.stop.wait(every):
                return

    def silence(self, seconds: float) -> None:
        """Say nothing for ``seconds`` (or until the server stops)."""
        self.server.stop.wait(seconds)

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            return False  # the client gave up (its deadline): what the tests want
        return True

    def _handle(self) -> None:
        server = self.server
        with server.lock:
            server.calls.append((self.command, self.path))
            number = len(server.calls)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.close_connection = False
        server.answer(self)
        self.number = number

    do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815 - names http.server calls

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass


class ScriptedServer(ThreadingHTTPServer):
    """The server; set ``answer`` to script it."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Call)
        self.answer: Callable[[Call], None] = lambda call: call.send_json(404, {})
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/fhir"


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    """Run a :class:`ScriptedServer` until the block ends (slow answers are cut short)."""
    server = ScriptedServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
