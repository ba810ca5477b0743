#!/usr/bin/env python3
"""Set up and run NELM-CDS with nothing installed but Python 3.11+.

    python3 manage.py run     # create .venv, install, start the service on the demo data
    python3 manage.py test    # create .venv, install with dev tools and the spark extra (and,
                              # on Debian as root, redis-server, docker-compose, chromium and
                              # Java), lint, type-check, test

Both create ``.venv`` beside this file on first use and reinstall only when
``pyproject.toml`` changes. Extra arguments after ``test`` go to pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
MINIMUM_PYTHON = (3, 11)


def _say(message: str) -> None:
    print(f"[manage] {message}", flush=True)


def _run(*command: str | Path) -> None:
    result = subprocess.run([str(part) for part in command], cwd=ROOT, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv(extras: str) -> None:
    """Create the virtual environment and install the project (with ``extras``)."""
    if sys.version_info < MINIMUM_PYTHON:
        sys.exit(f"NELM-CDS needs Python {'.'.join(map(str, MINIMUM_PYTHON))} or newer")
    if not PYTHON.exists():
        _say(f"creating {VENV.relative_to(ROOT)}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{extras or 'runtime'}-{digest}"
    if stamp.exists():
        return
    _say("installing dependencies (first run, or pyproject.toml changed)")
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    _run(PYTHON, "-m", "pip", "install", "--quiet", "-e", target)
    for old in VENV.glob(f".installed-{extras or 'runtime'}-*"):
        old.unlink()
    stamp.touch()


def run(arguments: list[str]) -> None:
    """Install and start the service (demo data unless a FHIR server is configured)."""
    ensure_venv("")
    os.execv(PYTHON, [str(PYTHON), "-m", "service", "serve", *arguments])


def test(arguments: list[str]) -> None:
    """Install with dev tools, then lint, type-check and run the whole test suite."""
    ensure_venv("dev,spark")
    from tools.system_packages import ensure_commands  # stdlib only: safe before the venv

    still_missing = ensure_commands()
    if still_missing:
        _say(f"could not install {', '.join(still_missing)}: tests that need them will fail")
    _say("ruff check")
    _run(PYTHON, "-m", "ruff", "check", "service", "tests", "benchmarks", "tools")
    _say("ruff format --check")
    _run(PYTHON, "-m", "ruff", "format", "--check", "service", "tests", "benchmarks", "tools")
    _say("mypy (strict) on service/")
    _run(PYTHON, "-m", "mypy")
    _say("pytest")
    _run(PYTHON, "-m", "pytest", *arguments)


COMMANDS = {"run": run, "test": test}


def main() -> None:
    """Dispatch ``run`` or ``test``."""
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 manage.py {{{'|'.join(COMMANDS)}}} [arguments]")
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
