"""Hostile Bundles (issue 9, "How it will be checked"), posted to the REST API, sent as a
CDS hook request and inside its prefetch, and given to the CLI: never a 5xx, never a
traceback, CLI exit codes 0 or 2 only, and every worker's peak memory bounded."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.cdshooks.conftest import full_prefetch, hook_body
from tests.cdshooks.jwt_factory import sign
from tests.cli.hostile import assert_uninterpretable, bundle_text
from tests.security.conftest import INLINE_ISSUER, SecuredServer
from tests.security.hostile import FHIR_JSON, HOSTILE, MIB

pytestmark = pytest.mark.integration

HOOK = "/cds-services/nelm-eligibility"
PATIENT = "demo-transplant"
PEAK_RSS_LIMIT = 500 * MIB


def _api_headers(secured: SecuredServer, content_type: str) -> dict[str, str]:
    token = secured.idp.token(aud=secured.base_url, scope="nelm/evaluations.read")
    return {"Authorization": f"Bearer {token}", "Content-Type": content_type}


def _hook_headers(secured: SecuredServer, content_type: str) -> dict[str, str]:
    token = sign(secured.inline_ec, iss=INLINE_ISSUER, aud=secured.base_url + HOOK)
    return {"Authorization": f"Bearer {token}", "Content-Type": content_type}


def _assert_answered_in_json(response: requests.Response) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict), body
        assert body.get("error"), body
        assert "Traceback" not in response.text
    elif response.status_code != 200:
        pytest.fail(f"unexpected {response.status_code}: {response.text[:300]}")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_bundle_posted_to_the_api_gets_no_5xx(secured: SecuredServer, name: str) -> None:
    body, content_type = HOSTILE[name]
    response = requests.post(
        f"{secured.base_url}/api/evaluate?at=2026-11-22",
        data=body,
        headers=_api_headers(secured, content_type),
        timeout=60,
    )
    _assert_answered_in_json(response)
    if name in {"1e25", "1e400", "-1e400", "5,000-digit integer", "NaN", "Infinity"}:
        assert response.status_code == 200
        status = {
            c["id"]: c["status"]
            for a in response.json()["assessments"]
            for c in a["criteria"]
            if a["criteriaSet"] == "enets"
        }
        assert status["low_bilirubin"] == "unknown"
    if name == "11 MiB" or name == "10,001 entries":
        assert response.status_code == 413


def test_every_hostile_number_is_uninterpretable_with_a_warning(secured: SecuredServer) -> None:
    response = requests.post(
        f"{secured.base_url}/api/evaluate?at=2026-11-22",
        data=bundle_text(),
        headers=_api_headers(secured, FHIR_JSON),
        timeout=60,
    )
    assert response.status_code == 200
    assert_uninterpretable(response.json())


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_document_as_the_hook_request_gets_no_5xx(
    secured: SecuredServer, name: str
) -> None:
    body, content_type = HOSTILE[name]
    content_type = "application/json" if content_type == FHIR_JSON else content_type
    response = requests.post(
        secured.base_url + HOOK,
        data=body,
        headers=_hook_headers(secured, content_type),
        timeout=60,
    )
    _assert_answered_in_json(response)


@pytest.mark.parametrize("key", ["observations", "patient", "conditions"])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_prefetch_gets_no_5xx(secured: SecuredServer, name: str, key: str) -> None:
    body, _ = HOSTILE[name]
    prefetch = full_prefetch(PATIENT)
    placeholder = "@@HOSTILE@@"
    prefetch[key] = placeholder
    text = json.dumps(hook_body(PATIENT, prefetch)).encode()
    data = text.replace(json.dumps(placeholder).encode(), body or b'""')
    response = requests.post(
        secured.base_url + HOOK,
        data=data,
        headers=_hook_headers(secured, "application/json"),
        timeout=60,
    )
    _assert_answered_in_json(response)


def test_four_concurrent_maximum_size_bundles_get_no_5xx(secured: SecuredServer) -> None:
    bodies = [
        HOSTILE["an 8 MiB string"][0].replace(b'"x', f'"{n}'.encode(), 1) for n in range(4)
    ] + [HOSTILE["10,000 entries"][0]] * 4

    def post(body: bytes) -> int:
        return requests.post(
            f"{secured.base_url}/api/evaluate?at=2026-11-22",
            data=body,
            headers=_api_headers(secured, FHIR_JSON),
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, bodies))
    assert all(status in (200, 429) for status in statuses), statuses
    assert 200 in statuses


def _workers(master: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            children.append(int(stat.parent.name))
    return children


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for {pid}")


def test_every_workers_peak_memory_stayed_bounded(secured: SecuredServer) -> None:
    """After every hostile document above (this module runs it last): each worker's
    peak resident memory (VmHWM) is under 500 MB."""
    workers = _workers(secured.server.process.pid)
    assert len(workers) > 1
    peaks = {pid: _peak_rss(pid) for pid in workers}
    assert max(peaks.values()) < PEAK_RSS_LIMIT, {p: v // MIB for p, v in peaks.items()}


def _run_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "evaluate", "--bundle", str(path), "--at", "2026-11-22"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_exits_0_or_2_on_every_hostile_file(tmp_path: Path) -> None:
    paths = []
    for number, (body, _) in enumerate(HOSTILE.values()):
        path = tmp_path / f"hostile-{number}.json"
        path.write_bytes(body)
        paths.append(path)
    with ThreadPoolExecutor(2) as pool:
        completed = list(pool.map(_run_cli, paths))
    for name, run in zip(HOSTILE, completed, strict=True):
        assert run.returncode in (0, 2), (name, run.returncode, run.stderr[-2000:])
        assert "Traceback" not in run.stderr, name
        if run.returncode == 2:
            assert len(run.stderr.strip().splitlines()) == 1, (name, run.stderr[-2000:])
