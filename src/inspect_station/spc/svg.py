"""A control chart as SVG: a pure string for the HTML report (no JavaScript, prints on a page).

Two panels share the x axis: the individuals / X-bar chart with its centre line, control
limits and the tolerance limits, and below it the moving-range / range chart with its limits.
Points that completed a violation are drawn as red squares labelled with the rule; the newest
point is ringed and labelled. Without a limit version the chart says "limits not locked".
A tolerance limit far outside the data is not drawn to scale: a note at the panel's edge names
it, so the chart stays readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from inspect_station.spc import exact
from inspect_station.spc.limits import LimitVersion
from inspect_station.spc.monitor import ChartPoint

WIDTH = 760
"""Width of the drawing in SVG units (the report scales it to the page width)."""
_MAIN = (44, 290)
_RANGE = (340, 480)
_LEFT, _RIGHT = 70, WIDTH - 90
_HEIGHT = 520


def _fmt(value: Decimal | float, digits: int) -> str:
    return exact.text(
        exact.rounded(Decimal(repr(value)) if isinstance(value, float) else value, digits)
    )


class _Scale:
    """Maps values to y within a panel."""

    def __init__(
        self, low: float, high: float, top: int, bottom: int, *, floor: float | None = None
    ) -> None:
        if high <= low:
            high, low = low + 1.0, low - 1.0
        pad = (high - low) * 0.08
        self.low, self.high = low - pad, high + pad
        if floor is not None:
            self.low = max(self.low, floor)
        self.top, self.bottom = top, bottom

    def y(self, value: float) -> float:
        frac = (value - self.low) / (self.high - self.low)
        return round(self.bottom - frac * (self.bottom - self.top), 2)

    def inside(self, value: float) -> bool:
        return self.low <= value <= self.high


def _x(index: int, count: int) -> float:
    if count <= 1:
        return (_LEFT + _RIGHT) / 2
    return round(_LEFT + index * (_RIGHT - _LEFT) / (count - 1), 2)


def _hline(
    out: list[str], scale: _Scale, value: float, label: str, css: str, dash: str = ""
) -> None:
    y = scale.y(value)
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    out.append(
        f'<line class="{css}" x1="{_LEFT}" x2="{_RIGHT}" y1="{y}" y2="{y}"{dashes}/>'
        f'<text class="{css}" x="{_RIGHT + 4}" y="{y + 4}">{escape(label)}</text>'
    )


def control_chart_svg(
    points: Sequence[ChartPoint],
    limits: LimitVersion | None,
    *,
    title: str,
    unit: str,
    lower: Decimal | None = None,
    upper: Decimal | None = None,
    digits: int = 4,
    limits_label: str | None = None,
) -> str:
    """The SVG text of a two-panel control chart of ``points``.

    ``limits_label`` replaces the "limits vN hash" heading, in the alarm colour: for limits
    that are not a locked version (derived by a report from its own readings, say).
    """
    count = len(points)
    values = [float(p.value) for p in points]
    spreads = [float(p.spread) for p in points if p.spread is not None]
    main_name = "Individuals" if limits is None or limits.subgroup_size == 1 else "X-bar"
    range_name = "Moving range" if limits is None or limits.subgroup_size == 1 else "Range"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_HEIGHT}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="spc-chart" '
        'style="page-break-inside: avoid; break-inside: avoid; max-width: 190mm">',
        f"<title>{escape(title)}</title>",
        "<style>text{font:11px sans-serif;fill:#222;stroke:none}line.cl{stroke:#2a7}"
        "line.ctl{stroke:#36c;stroke-width:1.2}line.tol{stroke:#c33;stroke-width:1.2}"
        "line.tick{stroke:#bbb}.data{fill:none;stroke:#444;stroke-width:1}.pt{fill:#444}"
        ".bad{fill:#c00}.new{fill:none;stroke:#000;stroke-width:1.5}"
        ".frame{fill:none;stroke:#999}text.note,text.tol{fill:#c33}text.ctl{fill:#36c}"
        "text.cl{fill:#2a7}text.axis{fill:#666;font-size:10px}</style>",
        f'<text x="{_LEFT}" y="20" style="font-weight:bold">{escape(title)}</text>',
    ]
    if limits_label is not None:
        out.append(
            f'<text class="note" x="{_RIGHT}" y="20" text-anchor="end">{escape(limits_label)}'
            "</text>"
        )
    elif limits is None:
        out.append(
            f'<text class="note" x="{_RIGHT}" y="20" text-anchor="end">limits not locked</text>'
        )
    else:
        out.append(
            f'<text x="{_RIGHT}" y="20" text-anchor="end">limits v{limits.version} '
            f"{escape(limits.content_hash[:12])}</text>"
        )
    # Main panel: data, control limits, and the tolerance limits when they fit.
    span_values = list(values)
    if limits is not None:
        span_values += [float(limits.ucl), float(limits.lcl)]
    if not span_values:
        span_values = [float(v) for v in (lower, upper) if v is not None] or [0.0]
    low, high = min(span_values), max(span_values)
    reach = max(high - low, 1e-12)
    tolerances = [(v, name) for v, name in ((lower, "LSL"), (upper, "USL")) if v is not None]
    for value, _ in tolerances:
        if low - reach <= float(value) <= high + reach:
            low, high = min(low, float(value)), max(high, float(value))
    main = _Scale(low, high, *_MAIN)
    out.append(
        f'<rect class="frame" x="{_LEFT}" y="{_MAIN[0]}" width="{_RIGHT - _LEFT}" '
        f'height="{_MAIN[1] - _MAIN[0]}"/>'
        f'<text x="{_LEFT}" y="{_MAIN[0] - 6}">{main_name} ({escape(unit)})</text>'
    )
    _axis(out, main, digits)
    for value, name in tolerances:
        label = f"{name} {_fmt(value, digits)}"
        if main.inside(float(value)):
            _hline(out, main, float(value), label, "tol", "6 3")
        else:
            y = _MAIN[0] + 12 if float(value) > main.high else _MAIN[1] - 4
            where = "above" if float(value) > main.high else "below"
            out.append(
                f'<text class="note" x="{_RIGHT - 4}" y="{y}" text-anchor="end">'
                f"{escape(label)} ({where} the chart)</text>"
            )
    if limits is not None:
        _hline(out, main, float(limits.ucl), f"UCL {exact.text(limits.ucl)}", "ctl")
        _hline(out, main, float(limits.centre), f"CL {exact.text(limits.centre)}", "cl")
        _hline(out, main, float(limits.lcl), f"LCL {exact.text(limits.lcl)}", "ctl")
    _series(out, points, [(p.index, float(p.value)) for p in points], main, count, "x", digits)
    # Range panel.
    r_values = list(spreads)
    if limits is not None:
        r_values += [float(limits.range_ucl), float(limits.range_lcl)]
    r_scale = _Scale(0.0, max(r_values or [1.0]), *_RANGE, floor=0.0)
    out.append(
        f'<rect class="frame" x="{_LEFT}" y="{_RANGE[0]}" width="{_RIGHT - _LEFT}" '
        f'height="{_RANGE[1] - _RANGE[0]}"/>'
        f'<text x="{_LEFT}" y="{_RANGE[0] - 6}">{range_name} ({escape(unit)})</text>'
    )
    _axis(out, r_scale, digits)
    if limits is not None:
        _hline(out, r_scale, float(limits.range_ucl), f"UCL {exact.text(limits.range_ucl)}", "ctl")
        _hline(
            out, r_scale, float(limits.range_centre), f"CL {exact.text(limits.range_centre)}", "cl"
        )
        if limits.range_lcl > 0:
            _hline(
                out, r_scale, float(limits.range_lcl), f"LCL {exact.text(limits.range_lcl)}", "ctl"
            )
    ranged = [(p.index, float(p.spread)) for p in points if p.spread is not None]
    _series(out, points, ranged, r_scale, count, "range", digits)
    first = points[0].index + 1 if points else 0
    last = points[-1].index + 1 if points else 0
    out.append(
        f'<text x="{_LEFT}" y="{_HEIGHT - 12}">points {first} to {last} ({count} shown)</text>'
    )
    out.append("</svg>")
    return "".join(out)


def _axis(out: list[str], scale: _Scale, digits: int) -> None:
    """Five value ticks on the left edge of a panel."""
    for k in range(5):
        value = scale.low + (scale.high - scale.low) * k / 4
        y = scale.y(value)
        out.append(
            f'<line class="tick" x1="{_LEFT - 4}" x2="{_LEFT}" y1="{y}" y2="{y}"/>'
            f'<text class="axis" x="{_LEFT - 6}" y="{y + 3}" text-anchor="end">'
            f"{_fmt(value, digits)}</text>"
        )


def _series(
    out: list[str],
    points: Sequence[ChartPoint],
    series: list[tuple[int, float]],
    scale: _Scale,
    count: int,
    chart: str,
    digits: int,
) -> None:
    """A polyline of ``series``, its markers, violations and the newest point."""
    if not series:
        return
    offset = points[0].index
    xy = [(_x(i - offset, count), scale.y(v)) for i, v in series]
    out.append('<polyline class="data" points="' + " ".join(f"{x},{y}" for x, y in xy) + '"/>')
    by_index = {p.index: p for p in points}
    for (index, _), (x, y) in zip(series, xy, strict=True):
        rules = sorted(
            {
                v.rule
                for v in by_index[index].violations
                if (v.chart == "range") == (chart == "range")
            }
        )
        if rules:
            label = ",".join(rules)
            out.append(
                f'<rect class="bad" x="{x - 4}" y="{y - 4}" width="8" height="8">'
                f"<title>point {index + 1}: rule {escape(label)}</title></rect>"
                f'<text class="note" x="{x}" y="{y - 8}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
        else:
            out.append(f'<circle class="pt" cx="{x}" cy="{y}" r="2.5"/>')
    x, y = xy[-1]
    index, value = series[-1]
    if chart == "x":
        out.append(
            f'<circle class="new" cx="{x}" cy="{y}" r="7"><title>newest: point {index + 1}'
            f"</title></circle>"
            f'<text x="{x - 10}" y="{y + 4}" text-anchor="end">newest '
            f"{escape(_fmt(value, digits))}</text>"
        )
