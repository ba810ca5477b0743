"""``--write-back`` against a real FHIR server (sekmet-fhir): one RiskAssessment per
patient with a NET liver metastasis, none for others, nothing new on a second run."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.fhir import Allowlist, FhirClient
from service.mappers.site_codes import load_terminology
from service.screening.run import ScreenOptions, screen_folder
from service.sources import FhirSource
from service.synth import write_population
from tests.integration.sekmet import FhirServer, SekmetError, running_sekmet
from tests.screening.helpers import AT, results_by_patient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    try:
        with running_sekmet(tmp_path_factory.mktemp("sekmet")) as server:
            yield server
    except SekmetError as exc:
        pytest.fail(str(exc))


def test_risk_assessments_are_written_once_for_net_patients(
    fhir_server: FhirServer, tmp_path: Path
) -> None:
    write_population(tmp_path / "in", 40, seed=9, anchor=AT)
    terminology = load_terminology(tmp_path / "in" / "site-codes.json")
    client = FhirClient(fhir_server.base_url, allowlist=Allowlist([fhir_server.base_url]))
    with client:
        options = ScreenOptions(
            out=tmp_path / "out",
            at=AT,
            terminology=terminology,
            workers=1,
            write_back=FhirSource(client, terminology),
        )
        first = screen_folder(tmp_path / "in", options, log=io.StringIO(), tty=False)
        again = screen_folder(tmp_path / "in", options, log=io.StringIO(), tty=False)
        written = client.search("RiskAssessment", {"_count": "200"})
    net = sum(
        1 for r in (tmp_path / "out" / "worklist.csv").read_text().splitlines()[1:] if ",yes," in r
    )
    assert net > 0
    assert first.figures["writeBack"] == {
        "created": net,
        "unchanged": 0,
        "failed": 0,
        "deceased": 0,
        "failures": [],
    }
    assert again.figures["writeBack"]["unchanged"] == net
    assert again.figures["writeBack"]["created"] == 0
    assert len(written) == net
    subjects = {r["subject"]["reference"] for r in written}
    assert subjects <= set(results_by_patient(tmp_path / "out"))
