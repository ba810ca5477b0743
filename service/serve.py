"""Run the app under gunicorn, the production WSGI server, with one set of settings.

``python -m service serve`` and the container (``gunicorn -c gunicorn.conf.py``) use
the same :func:`gunicorn_settings`:

- ``gthread`` workers with 4 threads, each accepting at most 4 connections at once
  (``worker_connections``), so no keep-alive: a request waits in the kernel's queue for
  a free worker, not behind a busy one's threads, so its FHIR deadline (15 s, 5 s for
  hooks) bounds its answer, and no worker holds more than four requests (and their
  posted Bundles) at a time;
- ``timeout`` 20 s, above the FHIR deadlines: a stuck worker is replaced;
- no control socket unless ``NELM_CDS_GUNICORN_CONTROL_SOCKET`` names one (by default
  gunicorn would put one shared by every instance under ``~/.gunicorn``);
- the settings (:mod:`service.config`) are read and the app is built once before any
  worker starts: a bad setting stops the server with one line naming it, exit status 2
  (from ``gunicorn.conf.py`` too, before gunicorn reads its own settings);
- metrics in prometheus-client's multi-process mode (:mod:`service.metrics.multiprocess`):
  the folder is set up before the app is built, a dead worker's files are marked, and a
  folder the service made is removed on exit.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication

from service.app import create_app
from service.config import SettingError, Settings, exit_on_setting_error, load_settings
from service.metrics import multiprocess
from service.observability import STARTUP_LOGGED_ENV, gunicorn_log_config, holding_lines

__all__ = ["APP_FACTORY", "default_workers", "gunicorn_settings", "serve"]

APP_FACTORY = "service.app:create_app()"
"""What gunicorn loads: the same factory the tests use."""


def default_workers() -> int:
    """Return 2 x CPUs + 1, gunicorn's usual rule, capped at 8."""
    return min(2 * (os.cpu_count() or 1) + 1, 8)


THREADS = 4


def check_configuration(settings: Settings | None = None) -> None:
    """Build the app once before workers start (``settings``: default, read from the
    environment now); on a bad setting print one line naming it and exit 2."""
    if os.environ.get(STARTUP_LOGGED_ENV) == "1":
        return  # already built by ``serve`` in this process
    multiprocess.prepare()  # before any metric is made: the workers inherit the folder
    chosen = settings if settings is not None else exit_on_setting_error(load_settings)
    exit_on_setting_error(lambda: _build_once(chosen))
    # The workers inherit this: they do not repeat the start-up lines just written.
    os.environ[STARTUP_LOGGED_ENV] = "1"


def _build_once(settings: Settings) -> None:
    """Build the app; its start-up lines are written only once it is built, so a bad
    setting found while building shows as its one line and nothing else."""
    with holding_lines(drop_on=SettingError):
        create_app(settings=settings)


def gunicorn_settings(
    settings: Settings | None = None, *, workers: int | None = None
) -> dict[str, Any]:
    """Return gunicorn's settings from ``settings`` (default: read from the environment
    now; a bad value prints one line and exits 2): bind ``HOST:PORT``, ``WORKERS``, the
    control socket."""
    if settings is None:
        settings = exit_on_setting_error(load_settings)
    control_socket = (settings.GUNICORN_CONTROL_SOCKET or "").strip()
    return {
        "bind": f"{settings.HOST}:{settings.PORT}",
        "workers": workers or settings.WORKERS or default_workers(),
        "worker_class": "gthread",
        "threads": THREADS,
        "worker_connections": THREADS,
        "timeout": 20,
        "graceful_timeout": 10,
        "keepalive": 0,  # every connection slot serves a request (see the module)
        "accesslog": None,  # the app writes its own JSON access lines, without PHI
        "errorlog": "-",
        **(
            {"control_socket": control_socket, "control_socket_disable": False}
            if control_socket
            else {"control_socket_disable": True}
        ),
        "logconfig_dict": gunicorn_log_config(),  # gunicorn's own lines as JSON too
        "on_starting": _starting,
        "child_exit": _worker_exited,
        "on_exit": _server_exited,
    }


def _starting(server: Any) -> None:
    check_configuration()  # gunicorn's on_starting hook: in the master, before any worker


def _worker_exited(server: Any, worker: Any) -> None:
    multiprocess.worker_exited(worker.pid)


def _server_exited(server: Any) -> None:
    multiprocess.finished()


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


def serve(host: str | None = None, port: int | None = None, workers: int | None = None) -> None:
    """Serve the app on ``host:port`` (default: ``NELM_CDS_HOST``/``NELM_CDS_PORT``)
    until interrupted; a bad setting prints one line and exits 2.

    The bound address is put in ``NELM_CDS_HOST``/``NELM_CDS_PORT`` for the app (and its
    workers), so the default public base URL is the address actually served.
    """
    if host is not None:
        os.environ["NELM_CDS_HOST"] = host
    if port is not None:
        os.environ["NELM_CDS_PORT"] = str(port)
    os.environ.pop(STARTUP_LOGGED_ENV, None)
    settings = exit_on_setting_error(load_settings)
    check_configuration(settings=settings)  # fail fast, before gunicorn starts
    _Server(gunicorn_settings(settings, workers=workers)).run()
