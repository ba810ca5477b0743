"""State that a later request needs, shared by every worker (and replica) of the service.

What lives here: the ``jti`` replay cache of CDS Hooks tokens, SMART pending launches
and sessions (their access tokens sealed), and fetched JWK Sets. Without
``REDIS_URL`` the store is a SQLite file (``STATE_DB``, default ``state.sqlite3`` in
the instance folder) that all workers of one server share; with it, Redis, shared by
every replica. Either way the store fails closed: when it cannot be read or written the
token is refused or the session is unknown, a warning is logged, and ``/readyz``
answers 503.

Settings (Flask config, environment ``NELM_CDS_<KEY>``):

- ``STATE_DB``: the SQLite file (ignored with ``REDIS_URL``).
- ``STATE_ENCRYPTION_KEY``: Fernet key(s), comma-separated (the first encrypts), that
  seal SMART access tokens at rest. Required when SMART launch is set up on a service
  reading a FHIR server in production; on the embedded demo store, and in development
  (:func:`service.config.is_production`) with a warning, a key is generated once into
  ``state-encryption.key`` beside the state file.
- ``REDIS_URL``: ``redis://``, ``rediss://`` or ``unix://`` (see :mod:`~.redis_store`).

Modules: :mod:`~.base` (contract, errors, in-memory store), :mod:`~.sqlite_store`,
:mod:`~.redis_store`, :mod:`~.sealing` (encryption), :mod:`~.documents` (a shared cache
of fetched JSON documents).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.config import defaults
from service.config.readers import SettingError, setting_name, text_setting
from service.state.base import MemoryStore, SharedStore, StoreFullError, StoreUnavailableError
from service.state.redis_store import RedisStore
from service.state.sealing import Sealer, dev_key
from service.state.sqlite_store import SqliteStore

__all__ = [
    "DEV_KEY_FILE",
    "STATE_DEFAULTS",
    "AppState",
    "MemoryStore",
    "SharedStore",
    "StoreFullError",
    "StoreUnavailableError",
    "build_state",
    "build_store",
    "state_directory",
]

STATE_DEFAULTS: dict[str, Any] = defaults("STATE_DB", "STATE_ENCRYPTION_KEY")
DEV_KEY_FILE = "state-encryption.key"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppState:
    """The app's shared store, and the sealer for secrets (``None``: none configured,
    so nothing secret may be stored)."""

    store: SharedStore
    sealer: Sealer | None


def _state_db(config: Mapping[str, Any], instance_path: str) -> Path:
    configured = config.get("STATE_DB")
    if configured in (None, ""):
        return Path(instance_path) / "state.sqlite3"
    if not isinstance(configured, str | os.PathLike):
        raise SettingError(f"{setting_name('STATE_DB')} must be a file path")
    return Path(configured)


def state_directory(config: Mapping[str, Any], instance_path: str) -> Path:
    """Return the folder of the state file (generated key files are kept there too)."""
    return _state_db(config, instance_path).parent


def build_store(config: Mapping[str, Any], instance_path: str) -> SharedStore:
    """Return Redis at ``REDIS_URL`` when set, else the SQLite file ``STATE_DB``."""
    url = text_setting(config, "REDIS_URL")
    if url is None:
        return SqliteStore(_state_db(config, instance_path))
    try:
        return RedisStore(url)
    except ValueError as exc:
        raise SettingError(f"{setting_name('REDIS_URL')}: {exc}") from exc


def _sealer(
    config: Mapping[str, Any],
    instance_path: str,
    *,
    demo: bool,
    development: bool,
    needed: bool,
) -> Sealer | None:
    name = setting_name("STATE_ENCRYPTION_KEY")
    keys = text_setting(config, "STATE_ENCRYPTION_KEY")
    if keys is None and needed and not (demo or development):
        raise SettingError(
            f"{name} is required to keep SMART sessions: set it to a Fernet key (README, "
            '"Shared state")'
        )
    if keys is None and needed:
        path = _state_db(config, instance_path).with_name(DEV_KEY_FILE)
        try:
            keys = dev_key(path)
        except OSError as exc:
            raise SettingError(f"{name} is unset and {path} cannot be made") from exc
        if not demo:
            log.warning(
                "%s is unset: development mode, SMART sessions are sealed with the key "
                "generated in %s (set %s in production)",
                name,
                path,
                name,
            )
    if keys is None:
        return None
    try:
        return Sealer(keys)
    except ValueError as exc:
        raise SettingError(f"{name}: {exc}") from exc


def build_state(
    config: Mapping[str, Any],
    instance_path: str,
    *,
    demo: bool,
    secrets_needed: bool,
    development: bool = False,
) -> AppState:
    """Return the shared store and the sealer; raise :class:`SettingError` naming a bad
    setting.

    ``secrets_needed``: something secret will be stored (SMART launch is set up), so a
    sealer is required: from ``STATE_ENCRYPTION_KEY``, or on the embedded demo store
    (``demo``) or in ``development`` a dev key generated once beside the state file.
    Nothing is connected or created until first use, except that dev key.
    """
    store = build_store(config, instance_path)
    sealer = _sealer(
        config, instance_path, demo=demo, development=development, needed=secrets_needed
    )
    return AppState(store, sealer)
