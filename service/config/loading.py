"""Read :class:`~service.config.model.Settings` from the environment, once, or fail in one line.

:func:`load_settings` raises :class:`~service.config.readers.SettingError` whose message
is one line naming each bad variable and what it expects (``NELM_CDS_PORT must be a whole
number``), never the value given (it may be a secret). Every entry point (``python -m
service`` and its subcommands, ``serve``, gunicorn with ``gunicorn.conf.py``) prints it as
``error: <message>`` on stderr and exits with status 2 (:func:`exit_on_setting_error`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

from pydantic import ValidationError

from service.config.model import ENV_PREFIX, Settings
from service.config.readers import SettingError

__all__ = [
    "EXIT_BAD_SETTING",
    "exit_on_setting_error",
    "fail_in_one_line",
    "is_production",
    "load_settings",
    "unknown_variables",
]

EXIT_BAD_SETTING = 2
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

_EXPECTS = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "decimal_parsing": "a number",
    "decimal_type": "a number",
    "finite_number": "a finite number",
    "bool_parsing": "true or false (yes/no, on/off, 1/0)",
    "bool_type": "true or false (yes/no, on/off, 1/0)",
    "date_parsing": "a date YYYY-MM-DD",
    "date_from_datetime_parsing": "a date YYYY-MM-DD",
    "date_from_datetime_inexact": "a date YYYY-MM-DD",
    "date_type": "a date YYYY-MM-DD",
    "string_type": "text",
}


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _expects(error: Mapping[str, Any]) -> str:
    kind, ctx = str(error.get("type")), error.get("ctx") or {}
    if kind in _EXPECTS:
        return _EXPECTS[kind]
    if kind == "literal_error":
        return "one of " + str(ctx.get("expected", "")).replace("'", "")
    bounds = {
        "greater_than": "greater than {gt}",
        "greater_than_equal": "{ge} or more",
        "less_than": "less than {lt}",
        "less_than_equal": "at most {le}",
    }
    if kind in bounds:
        return bounds[kind].format(**{key: _number(value) for key, value in ctx.items()})
    return str(error.get("msg", "a valid value")).lower()  # pydantic's words, no value


def _message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        location = error.get("loc") or ("?",)
        name = f"{ENV_PREFIX}{str(location[0]).upper()}"
        parts.append(f"{name} must be {_expects(error)}")
    return "; ".join(dict.fromkeys(parts))


def load_settings(**overrides: Any) -> Settings:
    """Return the settings from the environment (``overrides`` win, for tests and for
    ``serve --host/--port``); raise :class:`SettingError` in one line when a value is bad."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingError(_message(exc)) from None


INTERNAL_VARIABLES = frozenset({"NELM_CDS_STARTUP_LOGGED", "NELM_CDS_METRICS_OWNED_DIR"})
"""Set by the service for its own processes (gunicorn workers), not by an operator."""


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """Return the ``NELM_CDS_`` variables of ``environ`` (default: this process's) that
    are no setting (a typo, or one another version reads), sorted: the app warns."""
    environ = os.environ if environ is None else environ
    known = {f"{ENV_PREFIX}{name}" for name in Settings.model_fields} | INTERNAL_VARIABLES
    return sorted(
        name
        for name in environ
        if name.upper().startswith(ENV_PREFIX) and name.upper() not in known
    )


def is_production(settings: Settings | Mapping[str, Any]) -> bool:
    """Say whether the service runs in production: ``ENV=production``, or ``ENV=auto``
    (the default) and a host other than loopback to listen on. In production no
    development secret is generated: a missing one stops the start."""
    env: str
    if isinstance(settings, Settings):
        env, host = settings.ENV, settings.HOST
    else:
        env = str(settings.get("ENV") or "auto").strip().lower()
        host = str(settings.get("HOST") or "127.0.0.1")
    if env == "auto":
        return host.strip().lower() not in _LOOPBACK
    return env == "production"


T = TypeVar("T")


def fail_in_one_line(exc: SettingError) -> NoReturn:
    """Print ``error: <message>`` (one line) on stderr and exit with status 2."""
    print(f"error: {' '.join(str(exc).split())}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_BAD_SETTING) from None


def exit_on_setting_error(build: Callable[[], T]) -> T:
    """Return ``build()``; on a :class:`SettingError` print it in one line and exit 2."""
    try:
        return build()
    except SettingError as exc:
        fail_in_one_line(exc)
