"""The capability report as a plain-text table with notes, for a terminal."""

from __future__ import annotations

from decimal import Decimal

from inspect_station.reports.spc_model import CharacteristicReport, SpcReport
from inspect_station.text import printable

_COLUMNS = ("#", "n", "manual", "mean", "σ within", "σ overall", "Cp", "Cpk", "Pp", "Ppk", "alarms")


def _row(label: str, c: CharacteristicReport) -> list[str]:
    cap = c.capability

    def s(value: Decimal | None) -> str:
        return "—" if value is None else format(value, "f")

    return [
        label,
        str(cap.n),
        str(c.manual),
        s(cap.mean),
        s(cap.sigma_within),
        s(cap.sigma_overall),
        s(cap.cp),
        s(cap.cpk),
        s(cap.pp),
        s(cap.ppk),
        str(len(c.violations)),
    ]


def render_table(report: SpcReport) -> str:
    """The report as a plain-text table with notes, for a terminal."""
    lines = [
        f"SPC report: {report.scope.describe()} — {report.part_number} rev {report.revision}"
        f" ({report.source.description})",
    ]
    rows: list[list[str]] = []
    stations = dict(report.by_station or ())
    for c in report.characteristics:
        rows.append(_row(c.id, c))
        for station, chars in stations.items():
            for sc in chars:
                if sc.id == c.id:
                    rows.append(_row(f"  {station}", sc))
    widths = [max(len(r[i]) for r in [list(_COLUMNS), *rows]) for i in range(len(_COLUMNS))]
    for r in [list(_COLUMNS), *rows]:
        lines.append(
            "  ".join(
                v.ljust(w) if i == 0 else v.rjust(w)
                for i, (v, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    for c in report.characteristics:
        cap = c.capability
        if cap.lower is not None and cap.upper is not None:
            bounds = f"{cap.lower:f} … {cap.upper:f}"
        elif cap.upper is not None or cap.lower is not None:
            bounds = f"≤ {cap.upper:f}" if cap.upper is not None else f"≥ {cap.lower:f}"
        else:
            bounds = "none"
        lines.append("")
        lines.append(
            f"{c.id} {c.name} [{c.unit}], limits {bounds}, subgroup size {cap.subgroup_size}, "
            f"{c.superseded} superseded reading(s) left out; {c.limits_label}."
        )
        if c.violations:
            rules = ", ".join(f"{k} × {v}" for k, v in c.by_rule().items())
            lines.append(f"  violations: {rules}; the latest: {c.violations[-1].sentence}")
        for sentence in c.fatigue_sentences():
            lines.append(f"  alarms: {sentence}")
        if cap.normality is not None:
            lines.append(f"  normality: {cap.normality.note}")
        for note in (*cap.notes, *c.notes):
            lines.append(f"  note: {note}")
    return printable("\n".join(lines) + "\n", keep="\n")
