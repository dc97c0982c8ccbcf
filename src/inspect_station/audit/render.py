"""The audit report as a terminal table, JSON (``audit.schema.json``) or a printable HTML page."""

from __future__ import annotations

import html
import json
from importlib.resources import files
from typing import Any

from inspect_station.audit.model import AuditReport

SCHEMA_NAME = "audit.schema.json"
"""The JSON schema of the report, shipped in this package."""


def schema() -> dict[str, Any]:
    """The JSON schema of the report's JSON form."""
    text = files("inspect_station.audit").joinpath(SCHEMA_NAME).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _records(refs: tuple[tuple[str, int], ...], limit: int = 12) -> str:
    """Records as ``station:seq``, the first ``limit`` and how many more."""
    shown = ", ".join(f"{s}:{q}" for s, q in refs[:limit])
    more = len(refs) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def render_table(report: AuditReport) -> str:
    """The report for a terminal: each section, its findings and notes."""
    since = f" since {report.since}" if report.since else ""
    lines = [f"Audit of {report.source}{since}, {report.generated_at}"]
    for section in report.sections:
        state = f"{len(section.findings)} finding(s)" if section.findings else "OK"
        lines += ["", f"{section.clause} — {section.title}: {state}"]
        for f in section.findings:
            lines.append(f"  [{f.check}] {f.what}")
            if f.records:
                lines.append(f"      records: {_records(f.records)}")
            lines.append(f"      show: {f.command}")
        lines += [f"  note: {n}" for n in section.notes]
    total = len(report.findings)
    lines += ["", f"{total} finding(s)." if total else "Nothing to report."]
    return "\n".join(lines) + "\n"


def render_json(report: AuditReport) -> str:
    """The report as JSON text (``audit.schema.json``)."""
    return json.dumps(report.json(), ensure_ascii=False, indent=1) + "\n"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


_CSS = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
    "td,th{border:1px solid #999;padding:4px;vertical-align:top;text-align:left}"
    ".ok{color:#060}.bad{color:#a00}code{font-size:90%}"
)


def render_html(report: AuditReport) -> str:
    """The report as one self-contained, printable HTML page; every record text is escaped."""
    since = f" since {report.since}" if report.since else ""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Audit readiness — {_e(report.source)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Audit readiness report</h1><p>{_e(report.source)}{_e(since)}; made "
        f"{_e(report.generated_at)} (UTC). Records read up to: "
        + _e(", ".join(f"{s}:{q}" for s, (q, _) in sorted(report.heads.items())) or "none")
        + "</p>",
    ]
    for section in report.sections:
        state = (
            f'<span class="bad">{len(section.findings)} finding(s)</span>'
            if section.findings
            else '<span class="ok">OK</span>'
        )
        parts.append(f"<h2>{_e(section.clause)} — {_e(section.title)}: {state}</h2>")
        if section.findings:
            parts.append(
                "<table><thead><tr><th>Clause</th><th>Check</th><th>What is wrong</th>"
                "<th>Records</th><th>Command</th></tr></thead><tbody>"
            )
            for f in section.findings:
                parts.append(
                    f"<tr><td>{_e(f.clause)}</td><td>{_e(f.check)}</td><td>{_e(f.what)}</td>"
                    f"<td>{_e(_records(f.records, 50))}</td><td><code>{_e(f.command)}</code>"
                    "</td></tr>"
                )
            parts.append("</tbody></table>")
        parts += [f"<p>{_e(n)}</p>" for n in section.notes]
    total = len(report.findings)
    parts.append(
        f"<p><b>{total} finding(s).</b></p>" if total else "<p><b>Nothing to report.</b></p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


RENDERERS = {"table": render_table, "json": render_json, "html": render_html}
"""Format name -> renderer."""
