"""Run the app under gunicorn (the production WSGI server) from Python."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication

from service.app import create_app

__all__ = ["serve"]


class _Server(BaseApplication):  # type: ignore[misc]
    """Gunicorn with its settings given here instead of on its command line."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app()


def default_workers() -> int:
    """Return 2 x CPUs + 1, gunicorn's usual rule, capped at 8."""
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def serve(host: str, port: int, workers: int | None = None) -> None:
    """Serve the app on ``host:port`` until interrupted."""
    create_app()  # fail fast on bad configuration, before forking workers
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers or default_workers(),
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": None,
        }
    ).run()
