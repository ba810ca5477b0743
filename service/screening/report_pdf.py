"""The tumour-board report as PDF, written with fpdf2 (pure Python, no browser).

Why fpdf2: it installs from wheels on Linux, macOS and Windows and in the slim
container alike, with no system library (a browser's print or WeasyPrint would need
Chromium or Pango on the user's machine). It draws the same SVG charts as vectors,
and writes Unicode text with the DejaVu Sans font that matplotlib ships. A4 landscape;
table headers repeat on every page, text is left-aligned (never justified), and every
page's foot names the report, its date and the page number.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from service.charts import render_svg
from service.criteria.notes import SUPPORT_NOTE
from service.screening.report_data import STATUS_WORDS, ReportData, report_charts
from service.screening.report_html import (
    MAX_ROWS,
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
    from fpdf.fonts import FontFace

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
        headers: tuple[str, ...], rows: list[tuple[str, ...]], widths: tuple[int, ...] | None = None
    ) -> None:  # noqa: E501
        with pdf.table(
            col_widths=widths,
            headings_style=FontFace(emphasis="BOLD"),
            line_height=4.2,
            repeat_headings=1,
            text_align="LEFT",
            padding=(0.6, 1),
        ) as grid:
            grid.row(headers)
            for row in rows:
                grid.row(row)
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
    )
    if data.missing:
        pdf.add_page()
        heading("Missing data that would decide the most verdicts")
        chart(render_svg(missing, id_prefix="missing"))
    pdf.add_page()
    heading("Patients, most likely candidates first")
    rows = []
    for rank, row in enumerate(data.rows[:MAX_ROWS], start=1):
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
