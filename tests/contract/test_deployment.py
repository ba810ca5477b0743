"""The container and compose file: valid, and running the same app factory as the tests."""

from __future__ import annotations

import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from service.serve import APP_FACTORY, gunicorn_settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_image_command_runs_the_app_factory_the_tests_use() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    command = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    assert command == f'CMD ["gunicorn", "-c", "gunicorn.conf.py", "{APP_FACTORY}"]'
    assert APP_FACTORY == "service.app:create_app()"


def test_the_image_runs_as_a_non_root_user_from_a_slim_base() -> None:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("FROM python:3.11-slim")
    assert "USER nelm" in lines
    assert lines.index("USER nelm") < next(
        i for i, line in enumerate(lines) if line.startswith("CMD")
    )


def test_gunicorn_conf_holds_the_same_settings_as_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NELM_CDS_HOST", "0.0.0.0")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    expected = gunicorn_settings()
    assert {key: settings[key] for key in expected} == expected
    assert settings["bind"] == "0.0.0.0:8080"
    assert settings["workers"] >= 1


def test_gunicorn_loads_the_app_with_the_container_config() -> None:
    gunicorn = shutil.which("gunicorn") or str(
        Path(__import__("sys").executable).with_name("gunicorn")
    )
    completed = subprocess.run(
        [gunicorn, "--check-config", "-c", "gunicorn.conf.py", APP_FACTORY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_compose_wires_the_service_to_hapi_with_a_seed_job() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["hapi"]["image"].startswith("hapiproject/hapi")
    service = services["nelm-cds"]
    assert service["environment"]["NELM_CDS_FHIR_BASE_URL"] == "http://hapi:8080/fhir"
    assert service["depends_on"]["seed"]["condition"] == "service_completed_successfully"
    assert "healthcheck" in service
    assert "service" in " ".join(services["seed"]["command"])


def test_docker_compose_validates_the_file() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.fail(
            "docker-compose is not installed: run `python3 manage.py test`, which installs it"
        )
    completed = subprocess.run(
        [tool, "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


# --- state, health check, server settings ------------------------------------------------


def test_the_image_keeps_its_instance_files_on_a_volume_the_service_user_owns() -> None:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    env = " ".join(line.strip() for line in lines if "NELM_CDS_INSTANCE_PATH" in line)
    assert "NELM_CDS_INSTANCE_PATH=/app/var" in env
    volume = lines.index('VOLUME ["/app/var"]')
    owned = next(i for i, line in enumerate(lines) if "chown nelm:nelm /app/var" in line)
    assert owned < volume < lines.index("USER nelm")


def test_the_image_health_check_asks_the_configured_port() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'CMD ["python", "-m", "service.healthcheck"]' in dockerfile
    assert "127.0.0.1:8080" not in dockerfile


def test_compose_keeps_the_stores_on_a_named_volume_and_checks_readiness() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    service = compose["services"]["nelm-cds"]
    assert "nelm-cds-var:/app/var" in service["volumes"]
    assert "nelm-cds-var" in compose["volumes"]
    assert service["healthcheck"]["test"] == [
        "CMD",
        "python",
        "-m",
        "service.healthcheck",
        "--ready",
    ]
    environment = service["environment"]
    assert environment["NELM_CDS_AUDIT_HMAC_KEY"]
    assert environment["NELM_CDS_API_AUTH"].endswith("none}")


def test_the_server_bounds_each_worker_and_shares_no_control_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NELM_CDS_GUNICORN_CONTROL_SOCKET", raising=False)
    settings = gunicorn_settings()
    assert settings["worker_connections"] == settings["threads"]
    assert settings["control_socket_disable"] is True
    assert "control_socket" not in settings
    monkeypatch.setenv("NELM_CDS_GUNICORN_CONTROL_SOCKET", "/run/nelm-cds/gunicorn.ctl")
    chosen = gunicorn_settings()
    assert chosen["control_socket"] == "/run/nelm-cds/gunicorn.ctl"
    assert chosen["control_socket_disable"] is False


def test_the_health_check_asks_the_port_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from flask import Flask

    from service import healthcheck
    from tests.live_app import serving

    def tiny(_: str) -> Flask:
        app = Flask("tiny")
        app.add_url_rule("/healthz", "healthz", lambda: "ok")
        app.add_url_rule("/readyz", "readyz", lambda: ("no", 503))
        return app

    with serving(tiny) as url:
        monkeypatch.setenv("NELM_CDS_PORT", url.rsplit(":", 1)[1])
        assert healthcheck.main([]) == 0
        assert healthcheck.main(["--ready"]) == 1
    assert "answered 503" in capsys.readouterr().err
    monkeypatch.setenv("NELM_CDS_PORT", "nope")
    assert healthcheck.main([]) == 1
