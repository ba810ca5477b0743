"""The probe against a real FHIR server (sekmet) holding locally coded records."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.fhir import Allowlist, FhirClient
from tests.integration.sekmet import FhirServer
from tests.probe.conftest import ProbeRun, run_probe
from tests.probe.local_site import LOCAL_LAB, NOISE

DEMO = [f"demo-{n}" for n in ("extrahepatic", "g3", "missing", "resection", "transplant")]
SITE = [f"site-{p}" for p in DEMO]


def _check(report: dict[str, object], section: str, name: str) -> dict[str, str]:
    checks = report[section] if section != "capability" else report["capability"]["checks"]  # type: ignore[index]
    (found,) = [c for c in checks if c["name"] == name]  # type: ignore[union-attr]
    return found  # type: ignore[no-any-return]


def test_every_search_the_service_makes_works_on_sekmet(probed: ProbeRun) -> None:
    assert probed.status == 0, probed.err
    report = probed.report()
    for name in (
        "read Patient",
        "Observation?patient=",
        "the service's Observation search",
        "code= with several codes",
        "_count",
        "paging (next links)",
        "Condition?patient=",
        "Procedure?patient=",
    ):
        assert _check(report, "searches", name)["status"] == "ok", name
    assert _check(report, "capability", "FHIR version")["status"] == "ok"
    assert report["probe"]["verdict"] in ("ok", "warning")


def test_the_write_check_leaves_no_resource_behind(
    probed: ProbeRun, site_server: FhirServer
) -> None:
    report = probed.report()
    written = _check(report, "write", "RiskAssessment write (PUT)")
    assert written["status"] == "ok"
    resource_id = re.search(r"RiskAssessment/(nelm-probe-[0-9a-f]+)", written["detail"])
    assert resource_id is not None
    assert _check(report, "write", "clean-up (DELETE)")["status"] == "ok"
    with FhirClient(site_server.base_url, allowlist=Allowlist([site_server.base_url])) as client:
        assert client.read_optional("RiskAssessment", resource_id.group(1)) is None


def test_without_the_write_check_nothing_is_written(
    site_server: FhirServer, tmp_path: Path
) -> None:
    with FhirClient(site_server.base_url, allowlist=Allowlist([site_server.base_url])) as client:
        before = client.search("RiskAssessment", {"_count": "200"})
        run = run_probe(tmp_path, "--fhir-base", site_server.base_url, "--patient", "demo-g3")
        after = client.search("RiskAssessment", {"_count": "200"})
    assert run.status == 0, run.err
    assert len(after) == len(before)
    assert _check(run.report(), "write", "RiskAssessment write")["status"] == "skipped"


def test_patients_are_found_by_code_and_by_the_text_of_local_codes(probed: ProbeRun) -> None:
    sample = probed.report()["sample"]
    assert sorted(sample["patients"]) == sorted(DEMO + SITE)
    assert {sample["how"][p] for p in DEMO} == {"liver-metastasis code"}
    assert {sample["how"][p] for p in SITE} == {"liver metastasis in local-code text"}


def test_a_sample_size_bounds_the_patients(site_server: FhirServer, tmp_path: Path) -> None:
    run = run_probe(tmp_path, "--fhir-base", site_server.base_url, "--sample", "3")
    assert len(run.report()["sample"]["patients"]) == 3


def test_usable_data_is_counted_per_input(site_server: FhirServer, tmp_path: Path) -> None:
    run = run_probe(
        tmp_path,
        "--fhir-base",
        site_server.base_url,
        "--patient",
        "demo-transplant",
        "--patient",
        "site-demo-transplant",
    )
    inputs = {row["input"]: row for row in run.report()["inputs"]}
    assert inputs["birth_date"]["counts"]["found"] == 2
    # The demo twin's Ki-67 is read; the local twin's is not (its code is local).
    assert inputs["ki67"]["counts"] == {
        **dict.fromkeys(inputs["ki67"]["counts"], 0),
        "found": 1,
        "missing": 1,
    }
    assert inputs["ki67"]["localCandidates"][0]["code"] == "KI67"
    assert "LOINC 29593-1" in inputs["ki67"]["codesRead"]


def test_local_codes_are_listed_with_their_text_and_counts(probed: ProbeRun) -> None:
    codes = {(c["system"], c["code"]): c for c in probed.report()["unmappedCodes"]}
    bilirubin = codes[(LOCAL_LAB, "BILI-T")]
    assert bilirubin["display"] == "Bilirubin, total (local 1234)"
    assert bilirubin["patients"] == 4
    assert bilirubin["suggestion"]["name"] == "bilirubin"
    for system, code, *_ in NOISE:
        assert codes[(system, code)]["suggestion"] is None, code


def test_the_reports_are_written_as_text_html_and_json(probed: ProbeRun) -> None:
    text = (probed.folder / "probe-report.txt").read_text()
    html = (probed.folder / "probe-report.html").read_text()
    assert "Bilirubin, total (local 1234)" in text
    assert "Bilirubin, total (local 1234)" in html
    assert probed.out.startswith("NELM-CDS onboarding probe of")
    assert not re.search(r"\b(src|href)=", html)  # self-contained: nothing loaded from elsewhere


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_stdout_takes_the_chosen_format(site_server: FhirServer, tmp_path: Path, fmt: str) -> None:
    run = run_probe(
        tmp_path, "--fhir-base", site_server.base_url, "--patient", "demo-g3", "--format", fmt
    )
    assert run.out.lstrip().startswith("{" if fmt == "json" else "<!doctype html>")


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--fhir-base", "http://fhir.example.org/r4"], 2, "--fhir-base:"),
        (["--fhir-base", "http://127.0.0.1:9/fhir", "--timeout", "2"], 1, "did not answer its"),
        (["--fhir-base", "http://127.0.0.1:9/fhir", "--sample", "0"], 2, "--sample"),
    ],
)
def test_bad_arguments_and_dead_servers_are_one_line(
    tmp_path: Path, args: list[str], status: int, message: str
) -> None:
    run = run_probe(tmp_path, *args)
    assert run.status == status
    assert message in run.err
    assert run.err.count("\n") == 1
