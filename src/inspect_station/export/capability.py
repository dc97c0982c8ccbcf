"""The capability summary a lot export carries: per variable characteristic, from the SPC report.

``lot_capability`` runs the SPC report (``reports.spc``) over the lot through the export's own
record source (the same snapshot as the rest of the export): every reading in force of the lot
(superseded values left out, manual entries included, re-inspections included), n, mean, sigma
within and overall, Cp/Cpk/Pp/Ppk (one-sided where the limits are), the normality note, and
how many Nelson-rule violations the readings show against the limits the report used.
``capability_json`` is the JSON export's ``capability`` member, ``capability_html`` the
certificate's table. A lot with no variable reading has an empty summary.
"""

from __future__ import annotations

import html
from typing import Any

from inspect_station.export.model import LotData
from inspect_station.reports.spc import ReportScope, spc_report
from inspect_station.reports.spc_model import CharacteristicReport, SpcReportError
from inspect_station.text import printable

BASIS = (
    "Every reading in force of the lot (superseded values left out, manual entries and "
    "re-inspections included), in the spec's unit; sigma within = MR-bar/d2 (individuals) or "
    "R-bar/d2 (subgroups), sigma overall = sample standard deviation (n - 1); Cp/Pp only with "
    "both limits; violations of the Nelson rules against the limits named."
)
"""What the summary is computed from, in words (the JSON's ``basis``)."""

_KEYS = (
    "id",
    "name",
    "unit",
    "n",
    "manual",
    "superseded_excluded",
    "subgroup_size",
    "lower",
    "upper",
    "mean",
    "sigma_within",
    "sigma_overall",
    "cp",
    "cpk",
    "pp",
    "ppk",
    "violations_by_rule",
)


def lot_capability(data: LotData) -> list[CharacteristicReport]:
    """The SPC report's figures of each variable characteristic of the lot, in spec order."""
    try:
        report = spc_report(data.source, ReportScope(lot=data.lot))
    except SpcReportError:
        return []
    return list(report.characteristics)


def capability_json(chars: list[CharacteristicReport]) -> dict[str, Any]:
    """The export's ``capability`` member: the basis and one summary per characteristic."""
    out = []
    for c in chars:
        record = c.record()
        summary = {key: record[key] for key in _KEYS}
        summary["normality"] = None if record["normality"] is None else record["normality"]["note"]
        summary["control_limits"] = c.limits_label
        summary["violations"] = len(c.violations)
        out.append(summary)
    return {"basis": BASIS, "characteristics": out}


def _e(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return html.escape(printable(str(value)), quote=True)


def capability_html(chars: list[CharacteristicReport]) -> str:
    """The certificate's capability table (already escaped HTML)."""
    if not chars:
        return "<p>No variable characteristic was measured: no capability figures.</p>"
    head = ("#", "Characteristic", "n", "Mean", "σ within", "σ overall", "Cp", "Cpk", "Pp", "Ppk")
    numeric = set(range(2, 11))
    cells = "".join(
        f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>"
        for i, h in enumerate((*head, "Violations"))
    )
    rows = []
    notes = []
    for c in chars:
        r = c.record()
        values = [_e(c.id), _e(c.name), str(r["n"])]
        values += [_e(r[k]) for k in ("mean", "sigma_within", "sigma_overall")]
        values += [_e(r[k]) for k in ("cp", "cpk", "pp", "ppk")]
        values.append(str(len(c.violations)))
        rows.append(
            "<tr>"
            + "".join(
                f'<td class="num">{v}</td>' if i in numeric else f"<td>{v}</td>"
                for i, v in enumerate(values)
            )
            + "</tr>"
        )
        manual = f", {c.manual} entered by hand" if c.manual else ""
        notes.append(
            f"<li>{_e(c.id)}: {r['n']} readings{manual}; control limits: {_e(c.limits_label)}."
            + (f" {_e(r['normality']['note'])}" if r["normality"] else "")
            + "</li>"
        )
    return (
        f'<table id="capability"><thead><tr>{cells}</tr></thead><tbody>{"".join(rows)}'
        f'</tbody></table><p class="muted">{_e(BASIS)}</p><ul class="muted">'
        f"{''.join(notes)}</ul>"
    )
