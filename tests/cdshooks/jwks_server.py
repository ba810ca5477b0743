"""Serve a JWK Set on 127.0.0.1 from a thread, as a CDS client's ``jku`` endpoint would.

with serving_jwks() as server:
    server.jwks = jwks(key)          # what GET /jwks.json answers (change it to rotate)
    server.delay = 5.0               # answer late (a slow endpoint)
    server.status = 500              # or fail
    server.redirect_to = "/other"    # or redirect
    server.body = b"not json"        # or send this body
    server.hits                      # GET requests so far
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["JwksServer", "serving_jwks"]


class JwksServer(ThreadingHTTPServer):
    """The server, with what it answers as attributes the test sets."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.jwks: dict[str, Any] = {"keys": []}
        self.delay = 0.0
        self.status = 200
        self.redirect_to: str | None = None
        self.body: bytes | None = None
        self.hits = 0
        self.paths: list[str] = []
        self.release = threading.Event()

    @property
    def origin(self) -> str:
        """Return ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def url(self) -> str:
        """Return the JWK Set URL."""
        return f"{self.origin}/jwks.json"


class _Handler(BaseHTTPRequestHandler):
    server: JwksServer

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        server = self.server
        server.hits += 1
        server.paths.append(self.path)
        if server.delay:
            server.release.wait(server.delay)
        try:
            if server.redirect_to is not None and self.path == "/jwks.json":
                self.send_response(302)
                self.send_header("Location", server.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = server.body if server.body is not None else json.dumps(server.jwks).encode()
            self.send_response(server.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass


@contextmanager
def serving_jwks() -> Iterator[JwksServer]:
    """Run a :class:`JwksServer` until the block ends."""
    server = JwksServer()
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="jwks-server", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
