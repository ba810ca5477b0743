"""The tumour-board report as PDF, written with fpdf2 (pure Python, no browser).

Why fpdf2: it installs from wheels on Linux, macOS and Windows and in the slim
container alike, with no system library (a browser's print or WeasyPrint would need
Chromium or Pango on the user's machine). It draws the same SVG charts as vectors,
and writes Unicode text with the DejaVu Sans font that matplotlib ships. A4 landscape;
table headers repeat on every page, text is left-aligned (never justified), and every
page's foot names the report, its date and the page number.

Tables are laid out here rather than with ``FPDF.table``: that one breaks every cell's
text twice, character by character, which took 47 s for a 1,218-patient worklist; words
measured once each (cached) and wrapped greedily take well under a second.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from service.charts import render_svg
from service.criteria.notes import SUPPORT_NOTE
from service.screening.report_data import STATUS_WORDS, ReportData, report_charts
from service.screening.report_html import (
    PATIENT_HEADERS,
    patient_cells,
    row_missing_text,
)
from service.screening.worklist import SET_IDS

__all__ = ["write_report_pdf"]

_TITLE_DESC = re.compile(r"<title[^>]*>.*?</title><desc[^>]*>.*?</desc>", re.S)


def _font_files() -> tuple[Path, Path]:
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"


def write_report_pdf(data: ReportData, path: Path) -> None:
    """Write the report to ``path``."""
    from fpdf import FPDF

    foot = f"NELM tumour-board screening as of {data.at.isoformat()}"

    class _Report(FPDF):
        def footer(self) -> None:
            self.set_y(-10)
            self.set_font("DejaVu", "", 7)
            self.cell(0, 4, f"{foot} · page {self.page_no()} of {{nb}}", align="R")

    pdf = _Report(orientation="landscape", format="A4")
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(True, margin=14)
    regular, bold = _font_files()
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_title(f"NELM screening {data.at.isoformat()}")
    pdf.add_page()

    def heading(text: str, size: int = 13) -> None:
        pdf.set_font("DejaVu", "B", size)
        pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)

    def chart(svg: str) -> None:
        pdf.image(io.BytesIO(_TITLE_DESC.sub("", svg, count=1).encode("utf-8")), w=200)

    def table(
        headers: tuple[str, ...], rows: list[tuple[str, ...]], widths: tuple[int, ...]
    ) -> None:
        _Grid(pdf, widths).draw(headers, rows)
        pdf.ln(3)

    heading("Tumour board screening: neuroendocrine liver metastases", 16)
    pdf.multi_cell(
        0,
        5,
        f"Evaluated as of {data.at.isoformat()}. {SUPPORT_NOTE} A verdict is "
        "never eligible on missing data; undecided means the data to decide is not "
        "in the record.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    funnel, verdicts, missing = report_charts(data)
    heading("Cohort")
    chart(render_svg(funnel, id_prefix="funnel"))
    pdf.add_page()  # the verdict chart and its table together, never split from its title
    heading("Verdicts")
    chart(render_svg(verdicts, id_prefix="verdicts"))
    table(
        ("Pathway or set", *STATUS_WORDS.values()),
        [(t, *(str(c.get(s, 0)) for s in STATUS_WORDS)) for t, c in data.verdicts],
        (93, *(60,) * len(STATUS_WORDS)),
    )
    if data.missing:
        pdf.add_page()
        heading("Missing data that would decide the most verdicts")
        chart(render_svg(missing, id_prefix="missing"))
    pdf.add_page()
    heading("Patients, most likely candidates first")
    rows = []
    for rank, row in enumerate(data.rows, start=1):
        statuses = row["statuses"]
        rows.append(
            (
                *patient_cells(rank, row),
                *(STATUS_WORDS.get(statuses.get(s, ""), "") for s in SET_IDS),
                row_missing_text(row),
            )
        )
    pdf.set_font("DejaVu", "", 8)
    # 273 mm: record numbers, dates and "undecided" fit their columns on one line
    table(PATIENT_HEADERS, rows, (7, 18, 24, 30, 19, 9, 19, 19, 19, 19, 90))
    if data.tally.counts:
        heading("Bad input")
        table(
            ("Problem", "Count", "First places (file:line)"),
            [
                (k, str(n), ", ".join(data.tally.examples.get(k, [])))
                for k, n in data.tally.counts.most_common()
            ],
            (60, 20, 190),
        )
    pdf.output(str(path))


class _Grid:
    """A bordered table: words wrapped to each column, rows kept whole on a page, the
    header row (bold) repeated at the top of every page the table runs onto."""

    LINE = 4.2
    PAD_X = 1.0
    PAD_Y = 0.6

    def __init__(self, pdf: Any, widths: tuple[int, ...]) -> None:
        self.pdf = pdf
        self.widths = widths
        self._word_widths: dict[tuple[str, str], float] = {}

    def _width(self, text: str) -> float:
        key = (self.pdf.font_style, text)
        width = self._word_widths.get(key)
        if width is None:
            width = self._word_widths[key] = self.pdf.get_string_width(text)
        return width

    def _lines(self, text: str, room: float) -> list[str]:
        lines: list[str] = []
        current, used, space = "", 0.0, self._width(" ")
        for word in text.split():
            width = self._width(word)
            while width > room and len(word) > 1:  # a word wider than the column: cut it
                cut = max(1, int(len(word) * room / width))
                if current:
                    lines.append(current)
                    current, used = "", 0.0
                lines.append(word[:cut])
                word = word[cut:]
                width = self._width(word)
            if current and used + space + width > room:
                lines.append(current)
                current, used = "", 0.0
            current, used = (f"{current} {word}", used + space + width) if current else (
                word, width)  # fmt: skip
        if current or not lines:
            lines.append(current)
        return lines

    def _draw(self, cells: tuple[str, ...], *, dry_run: bool) -> float:
        """Return the row's height; draw it too unless ``dry_run``."""
        wrapped = [
            self._lines(t, w - 2 * self.PAD_X) for t, w in zip(cells, self.widths, strict=True)
        ]
        height = max(len(lines) for lines in wrapped) * self.LINE + 2 * self.PAD_Y
        if dry_run:
            return height
        pdf, x, top = self.pdf, self.pdf.l_margin, self.pdf.get_y()
        for lines, width in zip(wrapped, self.widths, strict=True):
            pdf.rect(x, top, width, height)
            for number, line in enumerate(lines):
                pdf.text(x + self.PAD_X, top + self.PAD_Y + (number + 0.78) * self.LINE, line)
            x += width
        pdf.set_y(top + height)
        return height

    def draw(self, headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
        """Draw the header and every row, breaking pages between rows."""
        pdf = self.pdf
        bottom = pdf.h - pdf.b_margin

        def header() -> None:
            pdf.set_font(style="B")
            self._draw(headers, dry_run=False)
            pdf.set_font(style="")

        pdf.set_font(style="B")
        if pdf.get_y() + 2 * self._draw(headers, dry_run=True) > bottom:
            pdf.add_page()
        header()
        for row in rows:
            pdf.set_font(style="")
            if pdf.get_y() + self._draw(row, dry_run=True) > bottom:
                pdf.add_page()
                header()
            self._draw(row, dry_run=False)
