"""The capability report as one printable HTML page: figures, SVG control charts, no script.

A summary table of every characteristic first, then one section per characteristic, each
starting a new printed page (CSS page breaks): its figures (side by side per station when the
report has them), its control chart as inline SVG (``spc.control_chart_svg``: the newest
points, tolerance and control limits, violations marked), where the limits come from ("not
locked" when derived from the report's own first readings), the violations and the notes.
Every text that comes from a record is escaped; the page loads nothing and runs nothing (its
Content-Security-Policy forbids it).
"""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

from inspect_station.reports.spc_model import CharacteristicReport, SpcReport
from inspect_station.spc import control_chart_svg
from inspect_station.text import printable

VIOLATIONS_SHOWN = 50
"""Violation sentences listed per characteristic (the newest); the JSON report has them all."""

_STYLE = """
  :root { --ink: #111; --muted: #555; --rule: #999; --bad: #a40e0e; }
  html { font: 10.5pt/1.4 "DejaVu Sans", Arial, sans-serif; color: var(--ink); }
  body { max-width: 190mm; margin: 12mm auto; padding: 0 6mm; }
  h1 { font-size: 17pt; margin: 0 0 1mm; } h2 { font-size: 12.5pt; margin: 5mm 0 2mm; }
  h3 { font-size: 10.5pt; margin: 3mm 0 1mm; }
  table { border-collapse: collapse; width: 100%; margin: 1mm 0 2mm; }
  th, td { border: 1px solid var(--rule); padding: .8mm 1.4mm; text-align: left; }
  th { background: #eee; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .muted, p.caption { color: var(--muted); font-size: 9pt; } .bad { color: var(--bad); }
  code { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; word-break: break-all; }
  svg.spc-chart { display: block; margin: 2mm 0; }
  @page { size: A4; margin: 12mm; }
  @media print {
    html { font-size: 9pt; }
    body { max-width: none; margin: 0; padding: 0; }
    th, td { padding: .3mm 1.4mm; }
    svg.spc-chart { max-width: 165mm !important; margin: 1mm auto; }
    section.characteristic { break-before: page; page-break-before: always; }
    tr, svg, p.caption { break-inside: avoid; page-break-inside: avoid; }
    * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  }
"""


def _e(value: Any) -> str:
    """Escaped, printable text of a value ('—' for none)."""
    if value is None or value == "":
        return "—"
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return html.escape(printable(text), quote=True)


def _table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    """An HTML table of already escaped cells."""
    head = "".join(
        f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>"
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _limits_text(c: CharacteristicReport) -> str:
    cap = c.capability
    if cap.lower is not None and cap.upper is not None:
        return f"{_e(cap.lower)} … {_e(cap.upper)}"
    if cap.upper is not None:
        return f"≤ {_e(cap.upper)}"
    if cap.lower is not None:
        return f"≥ {_e(cap.lower)}"
    return "—"


_FIGURES: list[tuple[str, str]] = [
    ("n", "n"),
    ("manual", "manual (included)"),
    ("superseded", "superseded (left out)"),
    ("mean", "mean"),
    ("sigma_within", "σ within"),
    ("sigma_overall", "σ overall"),
    ("cp", "Cp"),
    ("cpk", "Cpk"),
    ("pp", "Pp"),
    ("ppk", "Ppk"),
    ("alarms", "violations"),
]


def _figure(c: CharacteristicReport, key: str) -> str:
    if key == "manual":
        return str(c.manual)
    if key == "superseded":
        return str(c.superseded)
    if key == "alarms":
        return str(len(c.violations))
    return _e(getattr(c.capability, key))


def _short_label(c: CharacteristicReport) -> str:
    """The chart's heading for limits that are not locked."""
    if c.limits is None:
        return "no control limits"
    return f"limits from the first {c.limits.baseline_count} readings, not locked"


def _section(report: SpcReport, c: CharacteristicReport) -> str:
    """One characteristic's page."""
    cap = c.capability
    out = [
        f'<section class="characteristic" id="char-{_e(c.id)}">',
        f"<h2>Characteristic {_e(c.id)} — {_e(c.name)}</h2>",
        f"<p>Specification {_limits_text(c)} {_e(c.unit)}; subgroup size {cap.subgroup_size} "
        f"({'individuals and moving range' if cap.subgroup_size == 1 else 'X̄ and R'}); "
        f"readings from {_e(c.first_at)} to {_e(c.last_at)} at {_e(', '.join(c.stations))}.</p>",
    ]
    columns = [("all stations", c)]
    for station, chars in report.by_station or ():
        columns += [(station, sc) for sc in chars if sc.id == c.id]
    rows = [[label, *(_figure(col, key) for _, col in columns)] for key, label in _FIGURES]
    out.append(
        _table(["", *(_e(name) for name, _ in columns)], rows, set(range(1, len(columns) + 1)))
    )
    digits = c.limits.digits if c.limits is not None else cap.digits
    title = f"{report.part_number} characteristic {c.id} {c.name}"
    out.append(
        control_chart_svg(
            c.points,
            c.limits,
            title=printable(title),
            unit=printable(c.unit),
            lower=cap.lower,
            upper=cap.upper,
            digits=digits,
            limits_label=None if c.locked else _short_label(c),
        )
    )
    shown = len(c.points)
    out.append(
        f'<p class="caption">Control limits: {_e(c.limits_label)}. The chart shows the newest '
        f"{shown} of {c.plotted} plotted points.</p>"
    )
    if c.violations:
        counts = ", ".join(f"{_e(k)} × {v}" for k, v in c.by_rule().items())
        out.append(f'<h3>Violations</h3><p class="bad">{counts}</p>')
        newest = c.violations[-VIOLATIONS_SHOWN:]
        if len(c.violations) > len(newest):
            out.append(
                f'<p class="muted">The newest {len(newest)} of {len(c.violations)}; the JSON '
                "report lists every one with its readings.</p>"
            )
        items = "".join(
            f"<li>{_e(v.sentence)} <code>{_e(' '.join(r[:8] for r in v.refs[-3:]))}</code></li>"
            for v in newest
        )
        out.append(f"<ul>{items}</ul>")
    else:
        out.append("<p>No rule violation.</p>")
    fatigue = c.fatigue_sentences()
    if fatigue:
        out.append("<h3>Alarm fatigue</h3>" + "".join(f"<p>{_e(t)}</p>" for t in fatigue))
    notes = [cap.normality.note] if cap.normality is not None else []
    notes += [*cap.notes, *c.notes]
    if notes:
        out.append("<h3>Notes</h3><ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    out.append("</section>")
    return "".join(out)


_SUMMARY: tuple[str, ...] = ("#", "Characteristic", "Limits", "n", "Mean", "σ within")
_SUMMARY += ("σ overall", "Cp", "Cpk", "Pp", "Ppk", "Violations")


def render_html(report: SpcReport) -> str:
    """The report as a self-contained HTML document."""
    summary = _table(
        [*_SUMMARY],
        [
            [
                f'<a href="#char-{_e(c.id)}">{_e(c.id)}</a>',
                _e(c.name),
                f"{_limits_text(c)} {_e(c.unit)}",
                str(c.capability.n),
                *(
                    _e(getattr(c.capability, k))
                    for k in ("mean", "sigma_within", "sigma_overall", "cp", "cpk", "pp", "ppk")
                ),
                str(len(c.violations)),
            ]
            for c in report.characteristics
        ],
        set(range(3, 12)),
    )
    doc = report.json()
    heads = _table(
        ["Station", "Head seq", "Head hash"],
        [
            [_e(h["station"]), str(h["seq"]), f"<code>{_e(h['hash'])}</code>"]
            for h in doc["source"]["heads"]
        ],
        {1},
    )
    title = f"Capability report — {report.scope.describe()}"
    body = "".join(_section(report, c) for c in report.characteristics)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">\n"
        f'<meta name="generator" content="{_e(doc["generator"])}">\n'
        f"<title>{_e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{_e(title)}</h1>"
        f"<p>{_e(report.part_number)} revision {_e(report.revision)} — "
        f"{_e(report.description)}</p>"
        f'<p class="muted">Read from the {_e(report.source.description)}; generated '
        f"{_e(report.generated_at)} by {_e(doc['generator'])}. Superseded readings are left out, "
        "manual ones included. σ within is MR̄/d2 for individuals and R̄/d2 for subgroups; "
        "σ overall is the sample standard deviation (n − 1).</p></header>\n"
        f"<h2>Summary</h2>{summary}\n<h2>Records covered</h2>{heads}\n{body}\n</body>\n</html>\n"
    )
