"""Serve a Flask app over real HTTP on a free loopback port, in a thread, for a test.

For clients that must talk HTTP (the CDS Hooks test client, the probe's write check):
werkzeug's threaded server, stopped when the block ends.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

__all__ = ["free_port", "serving"]


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(make_app: Callable[[str], Flask], host: str = "127.0.0.1") -> Iterator[str]:
    """Build the app with ``make_app(base_url)`` and serve it; yield the base URL."""
    port = free_port()
    base_url = f"http://{host}:{port}"
    app = make_app(base_url)
    server: Any = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
