"""A bad setting stops every entry point the same way: one line on stderr naming the
variable, exit status 2, no traceback, nothing on stdout. Run as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.live_app import free_port
from tests.server.running import ROOT, gunicorn_command, running_gunicorn, server_env


def clean_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NELM_CDS_")}
    env.update({"HOME": str(tmp_path), "NELM_CDS_INSTANCE_PATH": str(tmp_path / "instance")})
    env.update({f"NELM_CDS_{name}": value for name, value in settings.items()})
    return env


def assert_one_line_exit_2(completed: subprocess.CompletedProcess[str], variable: str) -> None:
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith(f"error: NELM_CDS_{variable} must be ")
    assert "Traceback" not in completed.stderr
    assert completed.stdout == ""


def run_cli(tmp_path: Path, args: list[str], **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=ROOT,
        env=clean_env(tmp_path, **settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


COMMANDS = {
    "seed": ["seed", "--fhir-base", "http://127.0.0.1:9/fhir"],
    "probe": ["probe", "--fhir-base", "http://127.0.0.1:9/fhir"],
    "cds-call": ["cds-call"],
    "screen": ["screen", "--input", "nowhere", "--out", "out"],
    "serve": ["serve"],
}

# (variable, bad value): a whole number, a number, a flag, a choice, a date, a decimal
BAD = [
    ("PORT", "abc"),
    ("FHIR_READ_TIMEOUT", "soon"),
    ("FHIR_ALLOW_HTTP", "maybe"),
    ("METRICS", "sometimes"),
    ("DEMO_TODAY", "yesterday"),
    ("BILIRUBIN_UPPER_LIMIT_MG_DL", "high"),
    ("LAB_FRESHNESS_DAYS", "-3"),
    ("WORKERS", "many"),
]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_cli_command_refuses_a_bad_setting_in_one_line(tmp_path: Path, command: str) -> None:
    variable, value = BAD[sorted(COMMANDS).index(command) % len(BAD)]
    completed = run_cli(tmp_path, COMMANDS[command], **{variable: value})
    assert_one_line_exit_2(completed, variable)


def test_the_commands_that_read_no_setting_are_not_stopped_by_one(tmp_path: Path) -> None:
    """``criteria`` (and ``evaluate``, ``synth``) use no setting but a path, so a bad
    unrelated one does not stop them; they start without loading the settings."""
    completed = run_cli(tmp_path, ["criteria", "--markdown"], PORT="abc")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("#")


@pytest.mark.parametrize(("variable", "value"), BAD)
def test_serve_refuses_each_kind_of_bad_value_in_one_line(
    tmp_path: Path, variable: str, value: str
) -> None:
    completed = run_cli(tmp_path, ["serve", "--port", str(free_port())], **{variable: value})
    assert_one_line_exit_2(completed, variable)  # with --port, NELM_CDS_PORT is still checked


# Settings checked while the app is built (after some start-up lines were logged): the
# one line still stands alone, and a bad base URL is named as such (the allowlist's
# default), not as NELM_CDS_FHIR_ALLOWLIST.
BUILT = [
    ("CDS_ISSUERS", "{bad"),
    ("CDS_CORS_ORIGINS", "localhost:8000"),
    ("PAGE_LINK_SECRET", "short"),
    ("FHIR_BASE_URL", "notaurl"),
]


@pytest.mark.parametrize(("variable", "value"), BUILT)
def test_serve_refuses_a_setting_checked_while_building_the_app_in_one_line(
    tmp_path: Path, variable: str, value: str
) -> None:
    completed = run_cli(tmp_path, ["serve", "--port", str(free_port())], **{variable: value})
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.splitlines() == [completed.stderr.strip()], completed.stderr
    assert completed.stderr.startswith(f"error: NELM_CDS_{variable}")
    if variable == "PAGE_LINK_SECRET":
        assert value not in completed.stderr  # a secret is never echoed
    assert completed.stdout == ""


@pytest.mark.parametrize(
    ("variable", "value"), [("PORT", "abc"), ("WORKERS", "-2"), ("CDS_REQUIRE_JTI", "perhaps")]
)
def test_gunicorn_with_the_shipped_config_refuses_a_bad_setting_in_one_line(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = server_env(tmp_path, free_port(), {f"NELM_CDS_{variable}": value})
    completed = subprocess.run(
        gunicorn_command(),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert_one_line_exit_2(completed, variable)


def test_a_server_starts_with_all_digit_secrets_from_the_environment(tmp_path: Path) -> None:
    """Secrets are text: 36 digits is a 36-character secret, not a number (it was refused
    as "shorter than 32 characters" when the environment was decoded as JSON)."""
    settings = {
        "NELM_CDS_ENV": "production",
        "NELM_CDS_FHIR_BASE_URL": "https://fhir.example.org/r4",
        "NELM_CDS_PAGE_LINK_SECRET": "1" * 36,
        "NELM_CDS_AUDIT_HMAC_KEY": "2" * 40,
        "NELM_CDS_API_AUTH": "none",
    }
    with running_gunicorn(tmp_path, **settings) as server:
        assert requests.get(f"{server.base_url}/healthz", timeout=10).status_code == 200
        assert "error:" not in server.log()
    assert not (tmp_path / "instance" / "page-link.key").exists()  # nothing generated
