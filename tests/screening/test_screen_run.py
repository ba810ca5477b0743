"""``screen`` on a Bulk export folder: every result equals the single-patient CLI's, the
worklist is ranked, bad input is counted, runs resume, and the report is safe to print."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from service.mappers.site_codes import load_terminology
from service.screening.run import ScreenError, ScreenOptions, screen_folder
from service.synth import write_population
from tests.conftest import SCENARIOS
from tests.screening.helpers import AT, canonical_bundles, cli_result, results_by_patient

SCENARIO_CASES = ("ideal_transplant_candidate", "g3_tumour_ki67_24", "ecog_3_unfit")


def _options(out: Path, site_codes: Path | None = None, **kw: Any) -> ScreenOptions:
    return ScreenOptions(out=out, at=AT, terminology=load_terminology(site_codes), **kw)


def _scenario_lines(name: str) -> dict[str, list[str]]:
    """Return a scenario's resources as NDJSON lines by type, with subjects made explicit."""
    bundle = json.loads((SCENARIOS / f"{name}.json").read_text(encoding="utf-8"))
    resources = [e["resource"] for e in bundle["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    lines: dict[str, list[str]] = {}
    for resource in resources:
        if resource["resourceType"] != "Patient":
            resource["subject"] = {"reference": f"Patient/{patient['id']}"}
        lines.setdefault(resource["resourceType"], []).append(json.dumps(resource))
    return lines


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 generated patients with bad input, plus three clinical scenarios."""
    folder = tmp_path_factory.mktemp("export")
    write_population(folder, 120, seed=11, anchor=AT, faults=2, compress=True)
    for name in SCENARIO_CASES:
        for kind, lines in _scenario_lines(name).items():
            with gzip.open(folder / f"{kind}.ndjson.gz", "at", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def screened(export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    screen_folder(export, _options(out, export / "site-codes.json", workers=2), tty=False)
    return out


def test_every_result_equals_the_single_patient_cli(
    export: Path, screened: Path, tmp_path: Path
) -> None:
    results = results_by_patient(screened)
    bundles = canonical_bundles(export)
    assert len(results) > 10
    for reference, result in results.items():
        bundle = bundles[reference.removeprefix("Patient/")]
        assert result == cli_result(bundle, tmp_path, site_codes=export / "site-codes.json"), (
            reference
        )


def test_clinical_scenarios_keep_their_expected_verdicts(screened: Path) -> None:
    results = results_by_patient(screened)
    for name in SCENARIO_CASES:
        expected = json.loads((SCENARIOS / f"{name}.expected.json").read_text(encoding="utf-8"))
        found = next(r for r in results.values() if r["patient"] == expected["patient"])
        statuses = {a["criteriaSet"]: a["status"] for a in found["assessments"]}
        assert statuses == {s: v["status"] for s, v in expected["sets"].items()}, name


def test_only_patients_with_a_liver_metastasis_condition_are_evaluated(
    export: Path, screened: Path
) -> None:
    summary = json.loads((screened / "summary.json").read_text())
    selection = summary["selection"]
    assert selection["patients"] == 123
    assert 0 < selection["candidates"] < selection["patients"]
    assert summary["evaluation"]["evaluated"] == selection["candidates"]
    for result in results_by_patient(screened).values():
        assert (
            any(w["message"] or True for w in result["warnings"]) or result["assessments"]
        )  # every line is a full result
    ids = {r.removeprefix("Patient/") for r in results_by_patient(screened)}
    bundles = canonical_bundles(export)
    for pid in ids:
        codes = {
            c["code"]
            for e in bundles[pid]["entry"]
            if e["resource"]["resourceType"] == "Condition"
            for c in e["resource"].get("code", {}).get("coding", [])
        }
        assert codes & {"C7B.02", "C78.7", "94381002", "285613005"}, pid


def test_bad_input_is_counted_with_places_never_contents(screened: Path) -> None:
    bad = json.loads((screened / "summary.json").read_text())["badInput"]
    assert bad["counts"] == {
        "broken line": 2,
        "Observation: no subject": 2,
        "type not read: Cryptid": 2,
    }
    assert all(
        place.startswith("Observation.ndjson.gz:")
        for places in bad["examples"].values()
        for place in places
    )
    assert "Bad input" in (screened / "report.html").read_text()


def test_the_worklist_puts_likely_candidates_first(screened: Path) -> None:
    with (screened / "worklist.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    net = [r["net_liver_metastasis"] for r in rows]
    assert net == sorted(net, key=lambda v: v != "yes")
    first = rows[0]
    assert "eligible" in (first["milan-net"], first["enets"], first["unos"], first["resection"])
    undecided = [r for r in rows if "indeterminate" in (r["milan-net"], r["resection"])]
    assert undecided
    assert all(r["decisive_missing_data"] for r in undecided)
    assert any(r["mrn"].startswith("MRN-") and r["name"] for r in rows)


def test_every_undecided_row_says_what_would_decide_it(screened: Path) -> None:
    with (screened / "worklist.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sets = ("milan-net", "enets", "unos", "resection")
    undecided = [r for r in rows if any(r[s] == "indeterminate" for s in sets)]
    assert undecided
    assert all(r["decisive_missing_data"] for r in undecided), [
        r["patient"] for r in undecided if not r["decisive_missing_data"]
    ]


def test_the_report_reads_as_a_coordinator_expects(screened: Path) -> None:
    """Sets by their names, never their ids; on paper, left-aligned rows and numbered
    pages that name the report and its date."""
    page = (screened / "report.html").read_text()
    for name in ("Milan-NET", "ENETS", "UNOS", "Resection", "Record no."):
        assert f"<th scope=col>{name}</th>" in page, name
    assert "milan-net" not in page
    assert "(decides unos" not in page
    assert "(decides enets" not in page
    if not shutil.which("pdftotext"):
        pytest.fail("reading report.pdf needs pdftotext (apt-get install poppler-utils)")
    text = subprocess.run(
        ["pdftotext", "-layout", str(screened / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    for number, content in enumerate(pages, start=1):
        assert f"page {number} of {len(pages)}" in content, number
        assert f"screening as of {AT.isoformat()}" in content, number
    assert "Milan-NET" in text
    assert "milan-net" not in text


def test_the_report_is_static_and_safe_under_a_strict_csp(screened: Path) -> None:
    page = (screened / "report.html").read_text()
    assert page.count("<svg") == 3
    assert "<script" not in page
    assert " style=" not in page
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert "supports, and does not replace" in page
    assert (screened / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_a_stopped_run_resumes_without_evaluating_twice(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.screening import embedded

    options = _options(tmp_path, export / "site-codes.json", workers=1)
    real = embedded.store_outcomes
    stored: list[int] = []

    class StopError(Exception):
        pass

    def stop_after_two_chunks(store: Any, outcomes: Any) -> None:
        if len(stored) == 2:
            raise StopError
        stored.append(len(outcomes))
        real(store, outcomes)

    monkeypatch.setattr(embedded, "CHUNK", 4)
    monkeypatch.setattr(embedded, "store_outcomes", stop_after_two_chunks)
    with pytest.raises(StopError):
        screen_folder(export, options, tty=False)
    monkeypatch.setattr(embedded, "store_outcomes", real)
    again = screen_folder(export, options, tty=False)
    candidates = again.figures["selection"]["candidates"]
    assert stored == [4, 4]
    assert again.figures["evaluation"]["evaluated"] == candidates - 8
    assert len(results_by_patient(tmp_path)) == candidates


def test_a_state_from_other_input_is_refused_unless_fresh(export: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(export, other)
    out = tmp_path / "out"
    screen_folder(export, _options(out, workers=1), tty=False)
    (other / "Patient.ndjson.gz").unlink()
    with pytest.raises(ScreenError, match="--fresh"):
        screen_folder(other, _options(out, workers=1), tty=False)
    assert screen_folder(other, _options(out, workers=1, fresh=True), tty=False)


def test_a_folder_without_ndjson_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScreenError, match="no NDJSON"):
        screen_folder(tmp_path, _options(tmp_path / "out"), tty=False)
    with pytest.raises(ScreenError, match="no such folder"):
        screen_folder(tmp_path / "missing", _options(tmp_path / "out"), tty=False)
