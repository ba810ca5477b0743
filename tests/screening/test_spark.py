"""Two engines, one result: the Spark engine (local) and the embedded engine screen the
same export into identical results.ndjson, worklists, counts and bad-input tallies."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from service.mappers.site_codes import load_terminology
from service.screening.run import ScreenOptions, screen_folder
from service.synth import write_population
from tests.screening.helpers import AT

pytestmark = pytest.mark.integration


def _screen(folder: Path, out: Path, engine: str) -> dict[str, object]:
    terminology = load_terminology(folder / "site-codes.json")
    options = ScreenOptions(out=out, at=AT, terminology=terminology, workers=2, engine=engine)
    summary = screen_folder(folder, options, log=io.StringIO(), tty=False)
    return summary.figures


def test_spark_and_embedded_engines_give_identical_outputs(tmp_path: Path) -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.fail("pyspark is missing: python3 manage.py test installs the spark extra")
    folder = tmp_path / "export"
    write_population(folder, 150, seed=21, anchor=AT, faults=2)
    # one file compressed, one split in two, as exports come
    write_population(tmp_path / "more", 30, seed=22, anchor=AT, compress=True)
    for path in (tmp_path / "more").glob("*.ndjson.gz"):
        path.rename(folder / path.name.replace(".ndjson.gz", ".2.ndjson.gz"))
    embedded = _screen(folder, tmp_path / "embedded", "embedded")
    spark = _screen(folder, tmp_path / "spark", "spark")
    for name in ("results.ndjson", "worklist.csv"):
        assert (tmp_path / "spark" / name).read_bytes() == (
            tmp_path / "embedded" / name
        ).read_bytes()
    assert (tmp_path / "spark" / "results.ndjson").read_text().count("\n") > 10
    for key in ("patients", "candidates", "net", "lines", "byType"):
        assert spark["selection"][key] == embedded["selection"][key], key  # type: ignore[index]
    left = json.loads((tmp_path / "spark" / "summary.json").read_text())["badInput"]
    right = json.loads((tmp_path / "embedded" / "summary.json").read_text())["badInput"]
    assert left == right
