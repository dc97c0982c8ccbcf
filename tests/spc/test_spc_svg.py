"""The control chart as SVG: well-formed, self-contained, with limits, violations, newest point."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from spckit import limits, series

from inspect_station.spc import RuleSet, control_chart_svg, replay

NS = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    return ["".join(e.itertext()) for e in ET.fromstring(svg).iter(f"{NS}text")]


def chart(**kw: object) -> tuple[str, object]:
    lim = limits(rules=RuleSet(enabled=[1]))
    result = replay(series(0.2, -0.4, 3.5, 0.1, -0.2), lim)
    svg = control_chart_svg(
        result.points,
        lim,
        title="BRK-1042 C · 1 <Overall length> & more",
        unit="mm",
        lower=Decimal("5"),
        upper=Decimal("15"),
        digits=3,
        **kw,  # type: ignore[arg-type]
    )
    return svg, lim


def test_the_chart_is_well_formed_svg_without_script_and_escapes_its_title():
    svg, _ = chart()
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert "<script" not in svg and "javascript:" not in svg.lower()
    assert root.find(f"{NS}title").text == "BRK-1042 C · 1 <Overall length> & more"
    assert "break-inside: avoid" in root.get("style")


def test_the_chart_shows_tolerance_and_control_limits_with_their_exact_values():
    svg, lim = chart()
    labels = texts(svg)
    for expected in ("USL 15.000", "LSL 5.000", "UCL 13.000", "CL 10.000", "LCL 7.000"):
        assert expected in labels, labels
    assert "UCL 3.685" in labels  # the moving-range chart
    assert f"limits v1 {lim.content_hash[:12]}" in labels


def test_the_violating_point_and_the_newest_point_are_marked():
    svg, _ = chart()
    root = ET.fromstring(svg)
    marks = root.findall(f"{NS}rect[@class='bad']")
    titles = ["".join(m.itertext()) for m in marks]
    assert "point 3: rule 1" in titles
    newest = root.findall(f"{NS}circle[@class='new']")
    assert len(newest) == 1 and "point 5" in "".join(newest[0].itertext())
    assert "newest 9.800" in texts(svg)


def test_without_locked_limits_the_chart_says_so_and_draws_no_control_limits():
    lim = limits()
    points = replay(series(0.1, 0.2, 0.3), lim).points
    svg = control_chart_svg(points, None, title="t", unit="mm", upper=Decimal("10.5"))
    labels = texts(svg)
    assert "limits not locked" in labels
    assert not any(t.startswith(("UCL", "LCL", "CL ")) for t in labels)


def test_a_tolerance_far_from_the_data_is_named_not_drawn_to_scale():
    lim = limits()
    points = replay(series(0.1, 0.2, 0.3), lim).points
    svg = control_chart_svg(
        points, lim, title="t", unit="mm", lower=Decimal("-500"), upper=Decimal("500"), digits=1
    )
    assert "USL 500.0 (above the chart)" in texts(svg)
    assert "LSL -500.0 (below the chart)" in texts(svg)
