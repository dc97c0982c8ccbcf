"""The certificate's appendix: the record of each part, measurement by measurement.

The body of the certificate summarises a lot; the appendix is what an auditor checks it
against: for every part (in serial order) each inspection of it, and each measurement record
as it was recorded -- the value as measured and in the spec's unit, the limits and rule in
force, the verdict, where the value came from (the gauge asset with its serial number,
calibration certificate and due date then, and the raw frame it sent; or the reason it was
typed), who took it and when, and the record's place and hash in its journal. A correction is
listed after the value it superseded, with its reason; the superseded value stays, struck
through.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from inspect_station.export.model import InspectionData, LotData
from inspect_station.vocabulary import PartResult, Verdict


def _e(value: Any) -> str:
    """Escaped text of a value ('—' for none)."""
    if value is None or value == "":
        return "—"
    return html.escape(str(value), quote=True)


def frame_text(raw: str | None) -> str:
    """A raw frame as readable text: printable characters as they are, the others escaped
    (``\\r``, ``\\n``, ``\\t``, ``\\xNN``), so nothing the gauge sent is hidden or lost."""
    if raw is None:
        return ""
    named = {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\\": "\\\\"}
    out = []
    for char in raw:
        code = ord(char)
        if char in named:
            out.append(named[char])
        elif 0x20 <= code < 0x7F or 0xA1 <= code <= 0xFF:  # printable ASCII and Latin-1
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out)


def _limits(row: dict[str, Any]) -> str:
    if row["kind"] == "attribute":
        return "pass / fail"
    lower, upper, unit = row["lower"], row["upper"], row["spec_unit"] or ""
    if lower is not None and upper is not None:
        text = f"{_e(lower)} … {_e(upper)} {_e(unit)}"
    elif upper is not None:
        text = f"≤ {_e(upper)} {_e(unit)}"
    elif lower is not None:
        text = f"≥ {_e(lower)} {_e(unit)}"
    else:
        text = "—"
    rule = row["decision_rule"] or ""
    if '"guard-band"' in rule or '"custom"' in rule:
        text += '<br><span class="muted">guard band</span>'
    return text


def _value(row: dict[str, Any]) -> str:
    if row["kind"] == "attribute":
        return _e(str(row["value"]).upper())
    text = f"{_e(row['value'])} {_e(row['unit'] or '')}".rstrip()
    if row["unit"] not in (None, row["spec_unit"]) and row["value_in_spec_unit"]:
        text += f"<br>= {_e(row['value_in_spec_unit'])} {_e(row['spec_unit'])}"
    return text


def _verdict(row: dict[str, Any]) -> str:
    passed = row["verdict"] == Verdict.PASS
    word = '<span class="pass">PASS</span>' if passed else '<span class="fail">FAIL</span>'
    if row["zone"] == "guard-band":
        word += " (guard band)"
    unit = f" {_e(row['spec_unit'])}" if row["spec_unit"] else ""
    if row["exceeds_by"]:
        word += f"<br>{_e(row['limit_broken'])} limit by {_e(row['exceeds_by'])}{unit}"
    elif row["deviation"]:
        word += f"<br>deviation {_e(row['deviation'])}{unit}"
    return word


def _source(row: dict[str, Any]) -> str:
    if row["source"] == "manual":
        return f"entered by hand: {_e(row['manual_reason'])}"
    text = (
        f"{_e(row['gauge_asset'])}, S/N {_e(row['gauge_serial'])}<br>"
        f"cert. {_e(row['gauge_certificate'])}, cal. due {_e(row['gauge_calibration_due'])}"
    )
    raw = frame_text(row["raw"])
    return text + (f"<br>frame <code>{_e(raw)}</code>" if raw else "<br>no frame recorded")


def _record(row: dict[str, Any], superseded_by: str | None) -> str:
    text = (
        f"{_e(row['inspector'])}, {_e(row['measured_at'])}<br>"
        f"{_e(row['station'])}:{row['seq']} "
        f'<code class="hash">{_e((row["record_hash"] or "")[:16])}…</code>'
    )
    if row["supersedes"]:
        text += f"<br>correction of <code>{_e(row['supersedes'][:8])}</code>: {_e(row['reason'])}"
    if superseded_by:
        text += f'<br><span class="fail">superseded by</span> <code>{_e(superseded_by[:8])}</code>'
    return text


def _measurement_rows(rows: Iterable[dict[str, Any]], superseded_by: dict[str, str]) -> str:
    out = []
    for row in rows:
        replaced = superseded_by.get(row["uuid"])
        css = ' class="superseded"' if replaced else ""
        cells = [
            f"{_e(row['characteristic'])} {_e(row['characteristic_name'])}",
            f'<span class="value">{_value(row)}</span>',
            _limits(row),
            _verdict(row),
            _source(row),
            _record(row, replaced),
        ]
        out.append(f"<tr{css}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return "".join(out)


_HEAD = (
    "<thead><tr><th>Characteristic</th><th>Value</th><th>Limits</th><th>Verdict</th>"
    "<th>Gauge (serial, certificate, calibration due) and raw frame, or why typed</th>"
    "<th>Taken by, at (UTC); record</th></tr></thead>"
)


def _inspection_line(inspection: InspectionData) -> str:
    what = "Re-inspection" if inspection.reinspection_of else "Inspection"
    text = (
        f"{what} opened by {_e(inspection.inspector)} at {_e(inspection.opened_at)} "
        f"({_e(inspection.station)}:{inspection.seq})"
    )
    if inspection.reinspection_of and inspection.sent_back_by:
        text += (
            f", after the disposition of reject <code>{_e(inspection.reinspection_of[:8])}</code>"
        )
    elif inspection.reinspection_of:  # no disposition: an SPC alarm's answer sent it back
        text += (
            ", sent back by an SPC alarm's answer (containment) after "
            f"<code>{_e(inspection.reinspection_of[:8])}</code>"
        )
    results = []
    for result in inspection.results:
        found = f"{_e(result['result'])} at {_e(result['closed_at'])}"
        if result["result"] == PartResult.REJECT:
            found += f" (defect {_e(result['defect_code'])}: {_e(result['note'])})"
        results.append(found)
    text += "; result " + ("; then ".join(results) if results else "open (not closed)")
    return f'<p class="inspection">{text}.</p>'


def render_appendix(data: LotData) -> str:
    """The appendix as an HTML section: one sub-section per part of the lot."""
    by_serial: dict[str, list[InspectionData]] = {}
    for inspection in data.inspections:
        by_serial.setdefault(inspection.serial, []).append(inspection)
    parts = []
    for number, (serial, rows) in enumerate(data.part_measurements(), start=1):
        inspections = by_serial.get(serial, [])
        by_inspection: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_inspection.setdefault(row["inspection"], []).append(row)
        blocks = []
        for inspection in inspections:
            measured = by_inspection.pop(inspection.uuid, [])
            table = (
                f'<table class="measurements">{_HEAD}<tbody>'
                f"{_measurement_rows(measured, data.superseded_by)}</tbody></table>"
                if measured
                else "<p>No measurement was recorded.</p>"
            )
            blocks.append(_inspection_line(inspection) + table)
        for orphans in by_inspection.values():  # measurements of an inspection not loaded
            blocks.append(
                f'<table class="measurements">{_HEAD}<tbody>'
                f"{_measurement_rows(orphans, data.superseded_by)}</tbody></table>"
            )
        parts.append(
            f'<section class="part" id="part-{number}"><h3>Part {_e(serial)}</h3>'
            + "".join(blocks)
            + "</section>"
        )
    count = len(parts)
    intro = (
        f"<p>The record of each of the {count} part(s) of lot {_e(data.lot)}, as written in "
        "the journal: every measurement record with the value as measured (and in the spec's "
        "unit where it was converted), the limits and verdict, the gauge asset with its "
        "serial number, calibration certificate and due date at the time and the raw frame it "
        "sent, or the reason the value was entered by hand; who took it and when; and the "
        "record's station, seq and hash. A correction follows the value it superseded, which "
        "stays, struck through.</p>"
    )
    return (
        '<section class="appendix" id="appendix"><h2>Appendix: the record of each part</h2>'
        + intro
        + "".join(parts)
        + "</section>"
    )
