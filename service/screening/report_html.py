"""The tumour-board report as one self-contained, printable HTML file.

No external URL, no script: charts are inline SVG (:mod:`service.charts`), each
followed by its numbers as a table. Printing gives A4 landscape pages whose table
headers repeat and whose rows are never split.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from service.charts import render_svg
from service.criteria.notes import SUPPORT_NOTE
from service.screening.report_data import SET_TITLES, STATUS_WORDS, ReportData, report_charts
from service.screening.worklist import SET_IDS, missing_text

__all__ = ["PATIENT_HEADERS", "patient_cells", "render_report_html", "row_missing_text"]

_CSS = """
body{font:14px/1.4 "DejaVu Sans",Arial,sans-serif;color:#222;margin:24px;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;break-after:avoid}
.lead{color:#444;margin:0 0 12px}
.mdt{border-left:4px solid #0072B2;padding:6px 10px;background:#f3f7fb}
svg.chart{width:100%;max-width:760px;height:auto;display:block}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;font-size:12px}
th{background:#f0f0f0}tr{break-inside:avoid}thead{display:table-header-group}
table.data{width:auto}td.n{text-align:right}
.s-eligible{background:#d7f0e6}.s-indeterminate{background:#fcebc6}.s-ineligible{background:#e6e6e6}
.muted{color:#666}.nw{white-space:nowrap}.dead{font-weight:700}
@page{size:A4 landscape;margin:12mm}
@media print{body{margin:0;max-width:none}h2{break-before:auto}}
"""


def _cell(value: Any) -> str:
    if isinstance(value, int):
        return f"<td class=n>{value:,}</td>"
    return f"<td>{escape(str(value))}</td>"


def _table(headers: tuple[str, ...], rows: list[tuple[Any, ...]], cls: str = "data") -> str:
    head = "".join(f"<th scope=col>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table class={cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _status_cell(status: str) -> str:
    return f"<td class='nw s-{escape(status)}'>{escape(STATUS_WORDS.get(status, status))}</td>"


def patient_cells(rank: int, row: Mapping[str, Any]) -> tuple[str, ...]:
    """Return a patient row's first cells as a coordinator reads them (the PDF's too):
    rank, patient id, record number, name (marked when deceased), birth date, NET."""
    name = row.get("name", "")
    if row.get("deceased"):
        name = f"{name} (deceased)" if name else "(deceased)"
    return (
        str(rank),
        str(row["patient"]).removeprefix("Patient/"),
        row.get("mrn", ""),
        name,
        row.get("birthDate", ""),
        "yes" if row.get("net") else "no",
    )


PATIENT_HEADERS = (
    "#",
    "Patient",
    "Record no.",
    "Name",
    "Born",
    "NET",
    *(SET_TITLES[s] for s in SET_IDS),
    "Decisive missing data",
)


def row_missing_text(row: Mapping[str, Any]) -> str:
    """Return the row's decisive missing data with sets named for people."""
    return missing_text(row.get("missing") or (), row.get("mdt") or (), SET_TITLES)


def _patient_rows(data: ReportData) -> str:
    head = "".join(f"<th scope=col>{escape(h)}</th>" for h in PATIENT_HEADERS)
    lines = []
    for rank, row in enumerate(data.rows, start=1):
        statuses: Mapping[str, str] = row["statuses"]
        number, patient, mrn, name, born, net = patient_cells(rank, row)
        name_class = " class=dead" if row.get("deceased") else ""
        lines.append(
            "<tr>"
            + f"<td>{escape(number)}</td><td>{escape(patient)}</td>"
            + f"<td class=nw>{escape(mrn)}</td><td{name_class}>{escape(name)}</td>"
            + f"<td class=nw>{escape(born)}</td><td>{escape(net)}</td>"
            + "".join(_status_cell(statuses.get(s, "")) for s in SET_IDS)
            + f"<td>{escape(row_missing_text(row))}</td></tr>"
        )
    more = ""
    if data.row_count > len(data.rows):
        more = f"<p class=muted>{data.row_count - len(data.rows):,} more rows in worklist.csv.</p>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>{more}"


def _bad_input(data: ReportData) -> str:
    counts = data.tally.counts
    if not counts:
        return "<p>No bad input.</p>"
    rows = [
        (kind, count, ", ".join(data.tally.examples.get(kind, [])))
        for kind, count in counts.most_common()
    ]
    note = "<p class=muted>Places are file:line; resource contents are never shown.</p>"
    return _table(("Problem", "Count", "First places"), rows) + note


def _speed(figures: Mapping[str, Any]) -> str:
    selection = figures.get("selection", {})
    evaluation = figures.get("evaluation", {})
    seconds = selection.get("seconds") or 0
    rate = f"{selection.get('lines', 0) / seconds:,.0f} resources/s" if seconds else "n/a"
    pps = evaluation.get("patientsPerSecond")
    return (
        f"<p class=muted>Selection read {selection.get('lines', 0):,} lines in {seconds:.1f} s "
        f"({rate}); evaluation: {evaluation.get('evaluated', 0):,} patients "
        f"({pps if pps is not None else 'n/a'} patients/s, engine {escape(str(evaluation.get('engine', '')))}).</p>"  # noqa: E501
    )


def render_report_html(data: ReportData) -> str:
    """Return the report as an HTML document."""
    funnel, verdicts, missing = report_charts(data)
    verdict_rows = [
        (title, *(counts.get(s, 0) for s in STATUS_WORDS)) for title, counts in data.verdicts
    ]
    not_evaluated = ""
    if data.not_evaluated:
        rows = [(s["patient"], s.get("error", "")) for s in data.not_evaluated]
        not_evaluated = "<h2>Patients that could not be evaluated</h2>" + _table(
            ("Patient", "Why"), rows
        )
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>NELM screening {data.at.isoformat()}</title><style>{_CSS}</style></head><body>",
        "<h1>Tumour board screening: neuroendocrine liver metastases</h1>",
        f"<p class=lead>Evaluated as of {data.at.isoformat()}: who should be discussed for "
        "liver transplantation or resection, and what is missing to decide.</p>",
        f"<p class=mdt>{escape(SUPPORT_NOTE)} A verdict is never <em>eligible</em> on "
        "missing data; <em>undecided</em> means the data to decide is not in the record.</p>",
        "<h2>Cohort</h2>",
        render_svg(funnel, id_prefix="funnel"),
        _table(("Step", "Patients"), list(data.funnel)),
        "<h2>Verdicts</h2>",
        render_svg(verdicts, id_prefix="verdicts"),
        _table(("Pathway or set", *STATUS_WORDS.values()), verdict_rows),
        "<h2>Missing data that would decide the most verdicts</h2>",
        render_svg(missing, id_prefix="missing") if data.missing else "<p>None.</p>",
        _table(("Missing item", "Verdicts it could decide"), list(data.missing))
        if data.missing
        else "",
        "<h2>Patients, most likely candidates first</h2>",
        _patient_rows(data),
        not_evaluated,
        "<h2>Bad input</h2>",
        _bad_input(data),
        _speed(data.figures),
        "</body></html>",
    ]
    return "\n".join(parts)
