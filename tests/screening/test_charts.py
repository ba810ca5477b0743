"""Charts: pure models rendered to SVG that a strict Content-Security-Policy accepts."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from service.charts import (
    Bar,
    BarChart,
    Point,
    Segment,
    StackedBarChart,
    StackedRow,
    Threshold,
    TimeSeriesChart,
    Window,
    render_svg,
)
from service.charts.svg import inline_safe_svg

CHARTS = (
    BarChart("Funnel", "All 10; NET 3", (Bar("All", 10), Bar("NET", 3, "eligible")), "patients"),
    StackedBarChart(
        "Verdicts",
        "Transplant: 1 eligible, 2 undecided",
        (
            StackedRow(
                "Transplant",
                (Segment("eligible", 1, "eligible"), Segment("undecided", 2, "undecided")),
            ),
        ),
    ),
    TimeSeriesChart(
        "Platelets",
        "three counts",
        (Point(date(2026, 1, 1), 150), Point(date(2026, 9, 1), 90)),
        "10^9/L",
        (Threshold(100, "100"),),
        (Window(date(2026, 8, 24), date(2026, 11, 22), "fresh"),),
    ),
)


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: type(c).__name__)
def test_every_chart_renders_without_styles_scripts_or_foreign_links(chart: BarChart) -> None:
    svg = render_svg(chart, id_prefix="c1")
    root = ET.fromstring(svg)
    for element in root.iter():
        assert "style" not in element.attrib
        assert not element.tag.endswith(("style", "script"))
        assert not any(name.lower().startswith("on") for name in element.attrib)
    assert root.get("role") == "img"
    assert root.find("{http://www.w3.org/2000/svg}title").text == chart.title  # type: ignore[union-attr]
    assert chart.description in svg


def test_the_same_chart_renders_the_same_bytes() -> None:
    assert render_svg(CHARTS[0], id_prefix="a") == render_svg(CHARTS[0], id_prefix="a")


def test_ids_are_prefixed_and_references_follow() -> None:
    markup = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        "<style>*{stroke-linecap: butt}</style><script>alert(1)</script>"
        '<g id="g1" onload="x()"><path clip-path="url(#clip)" '
        "style=\"fill: #fff; font: bold 10px 'DejaVu Sans'\"/>"
        '<use xlink:href="#g1"/><use xlink:href="https://evil.example/x.svg#a"/></g>'
        '<defs><clipPath id="clip"><rect/></clipPath></defs></svg>'
    )
    svg = inline_safe_svg(markup, id_prefix="p2", title="T", description="D")
    assert 'id="p2_g1"' in svg
    assert "url(#p2_clip)" in svg
    assert 'href="#p2_g1"' in svg
    assert "evil.example" not in svg
    assert "alert" not in svg
    assert "onload" not in svg
    assert 'fill="#fff"' in svg
    assert 'font-size="10px"' in svg
    assert 'font-weight="bold"' in svg
    assert svg.index("clipPath") < svg.index("<path")  # definitions first
    with pytest.raises(ValueError, match="id_prefix"):
        inline_safe_svg(markup, id_prefix="1-bad", title="T", description="D")


def test_evaluating_never_imports_the_plotting_or_pdf_libraries() -> None:
    code = (
        "import sys, service.cli, service.charts, service.screening.command;"
        "heavy = ('matplotlib', 'fpdf', 'service.screening.run');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_a_single_result_is_labelled_with_its_own_date_under_its_point() -> None:
    chart = TimeSeriesChart("Ki-67", "one result", (Point(date(2023, 5, 20), 7),), "%", (), ())
    root = ET.fromstring(render_svg(chart, id_prefix="k"))
    ns = "{http://www.w3.org/2000/svg}"
    ticks = [t for t in root.iter(f"{ns}text") if t.text and t.text.startswith("20")]
    assert [t.text for t in ticks] == ["2023-05-20"]
    point = next(root.iter(f"{ns}circle"))
    assert abs(float(ticks[0].get("x", "0")) - float(point.get("cx", "-1"))) < 1
