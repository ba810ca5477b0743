"""The README's "Trying it against a FHIR server" snippet works as written on a fresh
machine: run with bash against a real FHIR server (the FHIR URL, the port and the two
ways of calling Python swapped for this test's), it seeds, starts and answers the dry run.
Also: the start-up warnings appear once, not once per worker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from service.serve import default_workers
from tests.integration.sekmet import FhirServer
from tests.live_app import free_port

ROOT = Path(__file__).resolve().parents[2]
README_FHIR = "http://127.0.0.1:8090/fhir"


def readme_blocks() -> list[list[str]]:
    """The ``sh`` blocks of the section, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Trying it against a FHIR server", 1)[1].split("\n### ", 1)[0]
    return [b.strip().splitlines() for b in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)]


def readme_snippet() -> list[str]:
    """The block that seeds, starts the service and calls it."""
    (block,) = [b for b in readme_blocks() if "python3 manage.py run" in b]
    return block


def test_the_readme_fhir_server_snippet_starts_a_fhir_server(tmp_path: Path) -> None:
    """The "no FHIR server at hand" block, as written (the port swapped for a free one;
    sekmet is installed with the test dependencies, so the pip line is checked, not run)."""
    (block,) = [b for b in readme_blocks() if any("sekmet serve" in line for line in b)]
    pip, *rest = block
    assert pip == ".venv/bin/pip install 'sekmet-fhir==0.1.1'"
    port = free_port()
    script = "\n".join(rest).replace(":8090", f":{port}").replace("port: 8090", f"port: {port}")
    script = script.replace(".venv/bin/sekmet", str(Path(sys.executable).with_name("sekmet")))
    script = re.sub(r"&\s*#.*$", "", script, flags=re.MULTILINE)  # in the foreground here
    process = subprocess.Popen(
        ["bash", "-euc", script],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/fhir/metadata", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.3)
        assert answer.status_code == 200
        assert answer.json()["fhirVersion"].startswith("4.0")
        assert (tmp_path / "fhir-data").is_dir()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_the_readme_fhir_snippet_works_as_written(fhir_server: FhirServer, tmp_path: Path) -> None:
    port = free_port()
    python = sys.executable
    lines = readme_snippet()
    assert lines[-2] == "python3 manage.py run"
    assert lines[-1].startswith("curl ")
    script = "\n".join(lines[:-2])
    script = script.replace(README_FHIR, fhir_server.base_url)
    script = script.replace(".venv/bin/python", python)
    script += f"\nexec {python} -m service serve --port {port}\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NELM_CDS_")}
    env.update({"HOME": str(tmp_path), "NELM_CDS_INSTANCE_PATH": str(tmp_path / "instance")})
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["bash", "-euc", script],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 120
        while log_path.read_text().count("CDS Hooks tokens:") < default_workers() + 1:
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        curl = lines[-1]
        url = re.search(r"'(http://127\.0\.0\.1:8080[^']*)'", curl)
        assert url is not None
        assert "-X POST" in curl
        answer = requests.post(url.group(1).replace(":8080", f":{port}"), timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["resourceType"] == "RiskAssessment"
        assert "seeded 5 demo patients" in log_path.read_text()
        # The development page-link secret, generated into the instance folder ...
        assert (tmp_path / "instance" / "page-link.key").is_file()
        # ... and each start-up warning once in all, not once per worker.
        log = log_path.read_text()
        assert log.count("NELM_CDS_PAGE_LINK_SECRET is unset") == 1, log
        assert log.count("NELM_CDS_API_AUTH=none: the REST API answers anyone") == 1, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
