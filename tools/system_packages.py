"""Install the system tools the test suite needs, from Debian's packages (stdlib only).

``python3 manage.py test`` calls :func:`ensure_commands` before the tests, so a fresh
Debian machine gets them with nothing installed but Python: ``redis-server`` (the
replay-cache tests run a real Redis), ``docker-compose`` (validates
docker-compose.yml without a Docker engine), ``chromium`` (browser tests),
``pdftotext``/``pdfinfo`` from ``poppler-utils`` (the printed clinician page is read back
page by page) and ``java`` (the Spark screening engine runs on the JVM: Debian's default
JRE, 17 or newer). Missing ones are installed in one ``apt-get install`` as root, with a
``policy-rc.d`` that keeps package services from starting. Elsewhere it says what to
install and the tests needing it fail clearly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

__all__ = ["TEST_TOOLS", "apt_install", "ensure_commands", "missing_commands"]

TEST_TOOLS: Mapping[str, str] = {
    "redis-server": "redis-server",
    "docker-compose": "docker-compose",
    "chromium": "chromium",
    "pdftotext": "poppler-utils",
    "java": "default-jre-headless",
}
"""Command → Debian package providing it."""

_POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
_DENY_SERVICES = "#!/bin/sh\n# system_packages.py: start no service during apt-get\nexit 101\n"


def missing_commands(commands: Mapping[str, str]) -> dict[str, str]:
    """Return the commands (with their packages) that are not on PATH."""
    return {command: package for command, package in commands.items() if not shutil.which(command)}


def _can_apt() -> bool:
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return is_root and Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def apt_install(packages: list[str]) -> int:
    """Run ``apt-get update`` and ``apt-get install`` for ``packages``; return the exit
    status of the install. No package service is started meanwhile."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wrote_policy = not _POLICY_RC_D.exists()
    if wrote_policy:
        _POLICY_RC_D.write_text(_DENY_SERVICES, encoding="utf-8")
        _POLICY_RC_D.chmod(0o755)
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]
        return subprocess.run(command, check=False, env=env).returncode
    finally:
        if wrote_policy:
            _POLICY_RC_D.unlink(missing_ok=True)


def ensure_commands(commands: Mapping[str, str] = TEST_TOOLS) -> list[str]:
    """Install the packages of missing commands; return what is still missing."""
    missing = missing_commands(commands)
    if missing and _can_apt():
        apt_install(sorted(set(missing.values())))
    return sorted(missing_commands(commands))
