"""Bad input to the CLI exits 2 with one line on stderr and nothing on stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "evaluate", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def bundle(*resources: dict[str, object]) -> str:
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in resources],
        }
    )


BAD_INPUTS = {
    "not_json": ("{ not json", "not valid JSON"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", "not valid JSON"),
    "json_array": ("[1, 2]", "not a FHIR Bundle"),
    "a_patient_not_a_bundle": (json.dumps(PATIENT), "not a FHIR Bundle"),
    "bundle_without_patient": (bundle(), "no Patient"),
    "two_patients": (bundle(PATIENT, {**PATIENT, "id": "p2"}), "2 Patients"),
    "entry_not_a_list": ('{"resourceType": "Bundle", "entry": {}}', "not a list"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_bundle_exits_2_with_one_line_on_stderr_and_nothing_on_stdout(
    tmp_path: Path, case: str
) -> None:
    content, expected = BAD_INPUTS[case]
    result = run_cli("--bundle", write(tmp_path, "input.json", content), "--at", "2026-11-22")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run_cli("--bundle", str(tmp_path / "absent.json"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.strip() == f"error: {tmp_path / 'absent.json'}: no such file"


def test_a_directory_an_empty_path_and_a_missing_site_codes_file_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "b.json", bundle(PATIENT))
    cases = {
        ("--bundle", str(tmp_path)): f"error: {tmp_path}: is a directory",
        ("--bundle", ""): "error: argument --bundle: an empty path",
        ("--bundle", path, "--site-codes", ""): "error: argument --site-codes: an empty path",
        ("--bundle", path, "--site-codes", str(tmp_path / "none.json")): (
            f"error: site codes file {tmp_path / 'none.json'}: cannot be read "
            "(No such file or directory)"
        ),
    }
    for arguments, expected in cases.items():
        result = run_cli(*arguments)
        assert (result.returncode, result.stdout) == (2, ""), arguments
        assert result.stderr.strip() == expected


def test_a_bundle_over_the_size_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from service import cli

    monkeypatch.setattr(cli, "MAX_BUNDLE_BYTES", 1024 * 1024)  # 64 MiB in use: 1 MiB here
    big = tmp_path / "big.json"
    big.write_bytes(bundle(PATIENT).encode() + b" " * (1024 * 1024))
    assert cli.main(["evaluate", "--bundle", str(big)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {big}: larger than 1 MiB"
    fits = write(tmp_path, "b.json", bundle(PATIENT))
    assert cli.main(["evaluate", "--bundle", fits, "--at", "2026-11-22"]) == 0


@pytest.mark.parametrize(
    "bad_date", ["2026-13-01", "22/11/2026", "2026-02-30", "tomorrow", "2026-11"]
)
def test_bad_evaluation_date_exits_2(tmp_path: Path, bad_date: str) -> None:
    result = run_cli("--bundle", write(tmp_path, "b.json", bundle(PATIENT)), "--at", bad_date)
    assert (result.returncode, result.stdout) == (2, "")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "YYYY-MM-DD" in result.stderr


def test_missing_bundle_option_exits_2_in_one_line() -> None:
    result = run_cli()
    assert (result.returncode, result.stdout) == (2, "")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_patient_choice_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, "b.json", bundle(PATIENT, {**PATIENT, "id": "p2"}))
    result = run_cli("--bundle", path, "--patient", "p3")
    assert (result.returncode, result.stdout) == (2, "")
    assert "no Patient with id 'p3'" in result.stderr


def test_patient_option_picks_one_of_several(tmp_path: Path) -> None:
    path = write(tmp_path, "b.json", bundle(PATIENT, {**PATIENT, "id": "p2"}))
    result = run_cli("--bundle", path, "--patient", "p2", "--at", "2026-11-22")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["patient"] == "Patient/p2"


def test_malformed_site_codes_file_exits_2(tmp_path: Path) -> None:
    codes = write(tmp_path, "codes.json", '{"observations": {"nonsense": []}}')
    path = write(tmp_path, "b.json", bundle(PATIENT))
    result = run_cli("--bundle", path, "--site-codes", codes)
    assert (result.returncode, result.stdout) == (2, "")
    assert "observations.nonsense" in result.stderr


def test_unreadable_resource_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    broken = {
        "resourceType": "Observation",
        "id": "bad-1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
        "effectiveDateTime": "2026-11-01",
        "valueQuantity": {"value": "abc", "unit": "K/uL"},
    }
    path = write(tmp_path, "b.json", bundle(PATIENT, broken, "not a resource"))  # type: ignore[arg-type]
    result = run_cli("--bundle", path, "--at", "2026-11-22")
    assert result.returncode == 0, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    assert {w.get("reference") for w in warnings} >= {"Observation/bad-1", "Bundle.entry[2]"}
