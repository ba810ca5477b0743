"""Find or install a ``redis-server`` binary for the tests (standard library only).

The CDS Hooks replay-cache tests run against a real Redis server they start themselves
(``redis-server --port N --save '' --appendonly no``). :func:`ensure_redis_server`
returns the binary's path:

1. ``redis-server`` on ``PATH`` (or in ``/usr/bin`` or ``/usr/sbin``), if present;
2. else, on Debian or Ubuntu as root, Debian's ``redis-server`` package, installed with
   ``apt-get update`` and ``apt-get install -y --no-install-recommends redis-server``.
   The package's system service is not started: a ``policy-rc.d`` that forbids it is
   put in place for the install when none exists (and removed afterwards);
3. else :class:`RedisUnavailableError` says what to install.

Run as a script it prints the path: ``python3 tools/provision_redis.py``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from tools.system_packages import apt_install

__all__ = ["RedisUnavailableError", "ensure_redis_server", "find_redis_server"]

BINARY = "redis-server"
_FALLBACK_DIRS = ("/usr/bin", "/usr/sbin", "/usr/local/bin")


class RedisUnavailableError(RuntimeError):
    """No redis-server binary, and it cannot be installed here."""


def find_redis_server() -> str | None:
    """Return the path of a redis-server binary already on this machine, or ``None``."""
    found = shutil.which(BINARY)
    if found:
        return found
    for directory in _FALLBACK_DIRS:
        candidate = Path(directory) / BINARY
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _is_debian() -> bool:
    return Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _apt_install() -> None:
    status = apt_install([BINARY])
    if status != 0:
        raise RedisUnavailableError(
            f"'apt-get install {BINARY}' failed (exit {status}); see its output above"
        )


def ensure_redis_server() -> str:
    """Return the path of a redis-server binary, installing Debian's package if needed.

    Raise :class:`RedisUnavailableError` with what to do when there is none and it cannot
    be installed (not Debian/Ubuntu, or not root).
    """
    found = find_redis_server()
    if found:
        return found
    if not _is_debian():
        raise RedisUnavailableError(
            f"{BINARY} is not on PATH and this is not Debian/Ubuntu: install Redis "
            "(e.g. 'brew install redis', 'dnf install redis') and run the tests again"
        )
    if not _is_root():
        raise RedisUnavailableError(
            f"{BINARY} is not on PATH: run 'sudo apt-get install -y redis-server' "
            "(or run this as root) and try again"
        )
    print(f"installing {BINARY} with apt-get (the tests start their own server)", flush=True)
    _apt_install()
    found = find_redis_server()
    if not found:
        raise RedisUnavailableError(f"apt-get installed {BINARY} but no binary was found")
    return found


if __name__ == "__main__":
    try:
        print(ensure_redis_server())
    except RedisUnavailableError as error:
        sys.exit(str(error))
