"""The PDF report's tables, read back with pdftotext: every row there, whole on a page,
the header repeated on each page the table runs onto, long text wrapped, not cut off."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from service.screening.report_pdf import _font_files, _Grid


def _text(path: Path, page: int | None = None) -> str:
    if not shutil.which("pdftotext"):
        pytest.fail("reading the report needs pdftotext (apt-get install poppler-utils)")
    pages = ["-f", str(page), "-l", str(page)] if page else []
    command = ["pdftotext", *pages, "-layout", str(path), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    line = next(line for line in info.stdout.splitlines() if line.startswith("Pages:"))
    return int(line.split()[1])


def test_a_long_table_runs_over_pages_with_its_header_and_every_row(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_margins(12, 12, 12)
    regular, bold = _font_files()
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_font("DejaVu", "", 9)
    pdf.add_page()
    long_text = " ".join(f"word{n}" for n in range(40))
    rows = [(f"row-{n:03}", "µmol/L é", long_text if n % 7 == 0 else "short") for n in range(120)]
    _Grid(pdf, (40, 40, 60)).draw(("Key", "Unit", "Decisive missing data"), rows)
    _Grid(pdf, (30, 30)).draw(("A", "B"), [("x" * 80, "end")])
    path = tmp_path / "table.pdf"
    pdf.output(str(path))

    pages = _pages(path)
    assert pages > 3
    text = _text(path)
    for key, _, _ in rows:
        assert text.count(key) == 1, key
    assert "µmol/L é" in text
    words = text.split()
    assert all(f"word{n}" in words for n in range(40))  # wrapped onto lines, none lost
    for page in range(1, pages + 1):
        assert "Decisive missing data" in _text(path, page), page
    assert text.count("x") == 80  # a word wider than its column is split, not cut off
    assert "end" in text
