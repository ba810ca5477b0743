"""Render the probe report (:mod:`service.probe.report`) as text or as one HTML page.

The HTML is self-contained (inline style, no script, no external URL) and escapes every
value taken from the server: display texts are the site's data, not markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from service.probe.usable import CLASSES

__all__ = ["render_html", "render_text"]

_COLUMNS = ("found", "stale", "unit", "uninterp.", "status", "missing")
MAX_UNMAPPED_SHOWN = 40


def _checks_text(title: str, checks: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [title]
    lines += [f"  {c['status']:<8} {c['name']}: {c['detail']}" for c in checks]
    return lines or [title, "  (none)"]


def _sample_line(report: Mapping[str, Any]) -> str:
    sample = report["sample"]
    how: dict[str, int] = {}
    for way in sample["how"].values():
        how[way] = how.get(way, 0) + 1
    ways = ", ".join(f"{n} by {way}" for way, n in how.items()) or "none found"
    problems = len(sample["problems"])
    read = len(sample["patients"]) - problems
    return f"Sample: {read} patients read of {sample['requested']} asked for ({ways})" + (
        f"; {problems} could not be read" if problems else ""
    )


def _candidate_text(code: Mapping[str, Any]) -> str:
    return (
        f'{code["system"]}|{code["code"]} "{code["display"]}" '
        f"({code['resources']} resources, {code['patients']} patients)"
    )


def render_text(report: Mapping[str, Any]) -> str:
    """Return the report as plain text for a terminal."""
    head = report["probe"]
    capability = report["capability"]
    software = capability.get("software") or {}
    lines = [
        f"NELM-CDS onboarding probe of {head['fhirBase']} (as of {head['evaluationDate']}): "
        f"{head['verdict'].upper()}",
        "",
        *_checks_text(
            f"CapabilityStatement (FHIR {capability.get('fhirVersion') or '?'}"
            f"{', ' + str(software.get('name')) if software.get('name') else ''})",
            capability["checks"],
        ),
        "",
        *_checks_text("Searches the service makes", report["searches"]),
        "",
        *_checks_text("RiskAssessment write-back", report["write"]),
        "",
        _sample_line(report),
        "",
        f"Usable data per input, patients per class (of {len(report['sample']['patients'])}):",
        f"  {'input':<42}" + "".join(f"{c:>10}" for c in _COLUMNS),
    ]
    for row in report["inputs"]:
        counts = row["counts"]
        lines.append(f"  {row['label'][:41]:<42}" + "".join(f"{counts[c]:>10}" for c in CLASSES))
        if row["localCandidates"]:
            lines.append(
                f"      the service reads: {', '.join(row['codesRead'][:6])}"
                + (" ..." if len(row["codesRead"]) > 6 else "")
            )
            lines += [
                f"      local code seen: {_candidate_text(c)}" for c in row["localCandidates"]
            ]
    unmapped = report["unmappedCodes"]
    lines += ["", f"Codes the service does not read ({len(unmapped)}; most seen first):"]
    for code in unmapped[:MAX_UNMAPPED_SHOWN]:
        suggestion = code["suggestion"]
        target = (
            f" -> candidate for {suggestion['section']}.{suggestion['name']}" if suggestion else ""
        )
        lines.append(f"  {code['resourceType']:<12} {_candidate_text(code)}{target}")
    if len(unmapped) > MAX_UNMAPPED_SHOWN:
        lines.append(f"  ... {len(unmapped) - MAX_UNMAPPED_SHOWN} more in the JSON report")
    draft = report.get("draftSiteCodes")
    if draft:
        lines += [
            "",
            f'Draft site codes: {draft} (every entry "review": "pending"; the service '
            "refuses it until each is accepted or deleted)",
        ]
    return "\n".join(lines) + "\n"


_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem}
body{color:#1b1b1b}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a6b2f}.warning{color:#8a5a00}.fail{color:#a4161a;font-weight:600}.skipped{color:#555}
code{font-size:.9em}.small{color:#555;font-size:.9em}
"""


def _checks_html(title: str, checks: Sequence[Mapping[str, Any]]) -> str:
    rows = "".join(
        f'<tr><td class="{escape(c["status"])}">{escape(c["status"])}</td>'
        f"<td>{escape(c['name'])}</td><td>{escape(c['detail'])}</td></tr>"
        for c in checks
    )
    header = "<tr><th>status</th><th>check</th><th>detail</th></tr>"
    return f"<h2>{escape(title)}</h2><table>{header}{rows}</table>"


def _input_rows(inputs: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for row in inputs:
        cells = "".join(f'<td class="n">{row["counts"][c]}</td>' for c in CLASSES)
        local = "".join(
            f"<div>local: <code>{escape(c['system'])}|{escape(c['code'])}</code> "
            f"{escape(c['display'])} ({c['resources']} resources, {c['patients']} patients)</div>"
            for c in row["localCandidates"]
        )
        rows.append(
            f"<tr><td>{escape(row['label'])}<div class=small>reads: "
            f"{escape(', '.join(row['codesRead'][:8]))}</div>{local}</td>{cells}</tr>"
        )
    return "".join(rows)


def _target(code: Mapping[str, Any]) -> str:
    suggestion = code["suggestion"]
    return f"{suggestion['section']}.{suggestion['name']}" if suggestion else ""


def render_html(report: Mapping[str, Any]) -> str:
    """Return the report as one self-contained HTML page."""
    head = report["probe"]
    header_cells = "".join(f"<th>{escape(c)}</th>" for c in CLASSES)
    unmapped = "".join(
        f"<tr><td>{escape(c['resourceType'])}</td><td><code>{escape(c['system'])}|"
        f"{escape(c['code'])}</code></td><td>{escape(c['display'])}</td>"
        f'<td class="n">{c["resources"]}</td><td class="n">{c["patients"]}</td>'
        f"<td>{escape(_target(c))}</td></tr>"
        for c in report["unmappedCodes"]
    )
    draft = report.get("draftSiteCodes")
    draft_html = (
        f"<p>Draft site codes: <code>{escape(draft)}</code>. Every entry is "
        '<code>"review": "pending"</code>; the service refuses the file until each entry is '
        "accepted or deleted.</p>"
        if draft
        else ""
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>NELM-CDS onboarding probe</title>"
        f"<style>{_STYLE}</style></head><body>"
        f'<h1>NELM-CDS onboarding probe: <span class="{escape(head["verdict"])}">'
        f"{escape(head['verdict'])}</span></h1>"
        f"<p>FHIR server <code>{escape(head['fhirBase'])}</code>, evaluation date "
        f"{escape(head['evaluationDate'])}, generated {escape(head['generated'])}.</p>"
        + _checks_html("CapabilityStatement", report["capability"]["checks"])
        + _checks_html("Searches the service makes", report["searches"])
        + _checks_html("RiskAssessment write-back", report["write"])
        + f"<h2>Usable data per input</h2><p>{escape(_sample_line(report))}</p>"
        f"<table><tr><th>input</th>{header_cells}</tr>{_input_rows(report['inputs'])}</table>"
        "<h2>Codes the service does not read</h2><table><tr><th>type</th><th>code</th>"
        "<th>display</th><th>resources</th><th>patients</th><th>candidate for</th></tr>"
        f"{unmapped}</table>{draft_html}</body></html>\n"
    )
