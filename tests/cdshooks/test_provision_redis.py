"""tools/provision_redis.py: use a redis-server on PATH, else install Debian's package as
root without starting its service, else say what to do."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tools import provision_redis, system_packages
from tools.provision_redis import RedisUnavailableError, ensure_redis_server


def test_a_redis_server_on_path_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision_redis.shutil, "which", lambda name: f"/opt/bin/{name}")
    assert ensure_redis_server() == "/opt/bin/redis-server"


def test_without_debian_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision_redis, "find_redis_server", lambda: None)
    monkeypatch.setattr(provision_redis, "_is_debian", lambda: False)
    with pytest.raises(RedisUnavailableError, match="install Redis"):
        ensure_redis_server()


def test_without_root_it_says_to_use_apt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision_redis, "find_redis_server", lambda: None)
    monkeypatch.setattr(provision_redis, "_is_debian", lambda: True)
    monkeypatch.setattr(provision_redis, "_is_root", lambda: False)
    with pytest.raises(RedisUnavailableError, match="apt-get install -y redis-server"):
        ensure_redis_server()


def test_as_root_on_debian_it_installs_the_package_without_starting_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    policy = tmp_path / "policy-rc.d"
    installed: list[str] = []
    calls: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        assert policy.read_text().rstrip().endswith("exit 101")  # services may not start
        assert kwargs["env"]["DEBIAN_FRONTEND"] == "noninteractive"
        calls.append(command)
        if "install" in command:
            installed.append("/usr/bin/redis-server")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(system_packages, "_POLICY_RC_D", policy)
    monkeypatch.setattr(
        provision_redis, "find_redis_server", lambda: installed[-1] if installed else None
    )
    monkeypatch.setattr(provision_redis, "_is_debian", lambda: True)
    monkeypatch.setattr(provision_redis, "_is_root", lambda: True)
    monkeypatch.setattr(system_packages.subprocess, "run", run)
    assert ensure_redis_server() == "/usr/bin/redis-server"
    assert calls == [
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"],
    ]
    assert not policy.exists()  # removed again


def test_a_failing_apt_get_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        return subprocess.CompletedProcess(command, 100 if "install" in command else 0)

    monkeypatch.setattr(system_packages, "_POLICY_RC_D", tmp_path / "policy-rc.d")
    monkeypatch.setattr(provision_redis, "find_redis_server", lambda: None)
    monkeypatch.setattr(provision_redis, "_is_debian", lambda: True)
    monkeypatch.setattr(provision_redis, "_is_root", lambda: True)
    monkeypatch.setattr(system_packages.subprocess, "run", run)
    with pytest.raises(RedisUnavailableError, match="exit 100"):
        ensure_redis_server()
    assert not (tmp_path / "policy-rc.d").exists()


def test_an_existing_policy_is_left_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    policy = tmp_path / "policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    monkeypatch.setattr(system_packages, "_POLICY_RC_D", policy)
    monkeypatch.setattr(
        system_packages.subprocess, "run", lambda c, **k: subprocess.CompletedProcess(c, 0)
    )
    system_packages.apt_install(["redis-server"])
    assert policy.read_text() == "#!/bin/sh\nexit 101\n"
