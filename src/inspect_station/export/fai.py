# Over 500 lines: the AS9102 Form 3 -- its rows, how the record builds them, its renderings.
"""AS9102 Rev C first-article inspection: Form 3 (characteristic accountability) of one part.

``load_form3`` reads the part's lot the way the lot exports do (``load_lot``: a snapshot of a
station's record or a central store, with the chains verified) and builds a ``Form3``: the Form 1
header fields the record knows (part number and name, revision, serial, FAIR number,
organisation from ``station.toml``), and one ``Form3Row`` for every characteristic of the spec, in
its order, measured or not:

- 5 char no. = the balloon id; 6 reference location = the spec's ``location``;
- 7 characteristic designator = the class (Critical, Major, Minor);
- 8 requirement as written: name, nominal and tolerance (``40.00 ±0.05 mm``, ``6.000
  +0.012/+0.000 mm``), absolute limits, ``≤``/``≥`` for one-sided limits, the method of an
  attribute, and a decision rule other than simple acceptance;
- 9 result: the value in force as measured, with its unit (and converted to the unit of the
  limits where it was measured in another), or pass/fail for an attribute; ``NOT MEASURED``
  when the record holds no value for the characteristic;
- 10 designed / qualified tooling: the spec's gauge type and the gauge asset that measured it
  (serial number, certificate, calibration due date), or the manual entry and its reason;
- 11 nonconformance number: the reject(s) of this part in which the characteristic failed (the
  first 8 characters of the reject's id, as ``rejects show`` takes it);
- 12 additional fields: the verdict (PASS, FAIL, NOT MEASURED), the journal record the result
  comes from (station:seq and hash), and comments (corrections with the superseded values,
  guard-band fails, earlier inspections and their dispositions, re-inspection).

The value in force is the current (not superseded) measurement in the part's latest inspection
that measured the characteristic. The form names the chain head of every station it was made
from and the chains' verification. The header's "First Article" field
is the record's first-article declaration of the part (``record --first-article``: the part or
its whole lot), with who declared it, when and the record holding it; the FAIR number is the one
given for the form, else the one declared, else made from part, revision and serial (and marked
so). A part that is not declared is said to be so (``declared`` False): ``export fai`` refuses
it unless asked for an undeclared draft.

Written as a printable HTML page, a CSV table (one row per characteristic, the header fields
repeated, UTF-8 with BOM, CRLF, spreadsheet-safe like the lot CSV) or an .xlsx workbook laid
out as the form (openpyxl), each next to a SHA-256 manifest.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import IO, Any

from inspect_station import __version__
from inspect_station.export.csvfile import spreadsheet_safe
from inspect_station.export.formats import HashingWriter
from inspect_station.export.model import ExportError, InspectionData, LotData, load_lot
from inspect_station.records import ChainCheck, RecordSource
from inspect_station.review.queries import DispositionInfo
from inspect_station.spec.model import Characteristic, Kind, PartSpec, Rule
from inspect_station.store import LocalStore
from inspect_station.store.first_articles import OF_PART, FirstArticle
from inspect_station.vocabulary import PartResult, Verdict

FORMATS: tuple[str, ...] = ("html", "csv", "xlsx")
"""Formats of the Form 3 export, by the name ``--format`` takes; the file extension is the same."""
TITLE = "AS9102 Rev C Form 3 — Characteristic Accountability, Verification and Compatibility"
"""The form's title."""
NOT_MEASURED = "NOT MEASURED"
"""Result and verdict of a characteristic the record holds no value for."""
NOT_DECLARED = (
    "NOT DECLARED: no first-article declaration is recorded for this part or its lot; this "
    "is a draft listing what was inspected, not a first-article inspection report"
)
"""What the header says of a part that the record does not declare a first article."""

COLUMNS: tuple[tuple[str, str], ...] = (
    ("part_number", "1. Part number."),
    ("part_name", "2. Part name (the spec's description)."),
    ("serial", "3. Serial number."),
    ("fair_number", "4. FAI report number."),
    ("revision", "Part (drawing) revision."),
    ("organisation", "Organisation (station.toml), empty if not configured."),
    ("lot", "Lot the part was inspected in."),
    ("first_article", "The record's first-article declaration (or that there is none)."),
    ("char_no", "5. Characteristic number: the balloon id."),
    ("reference_location", "6. Reference location on the drawing (empty: not in the spec)."),
    ("designator", "7. Characteristic designator: Critical, Major or Minor."),
    ("requirement", "8. Requirement as written, with its tolerance."),
    ("result", "9. Result: value and unit as measured, pass/fail, or NOT MEASURED."),
    ("tooling", "10. Designed / qualified tooling: gauge type and asset, or manual entry."),
    ("nonconformance", "11. Nonconformance number(s): the reject(s) it failed in."),
    ("verdict", "PASS, FAIL or NOT MEASURED."),
    ("record", "Journal record of the result: station:seq."),
    ("record_hash", "That record's hash (SHA-256 of its RFC 8785 bytes)."),
    ("measured_at", "When the result was recorded (UTC)."),
    ("inspector", "Who recorded it."),
    ("comments", "Corrections, guard band, earlier inspections, dispositions."),
    ("chain_heads", "Chain head of each station the form was made from: station:seq:hash."),
    ("chains_verified", "Verification of those chains: OK, BROKEN or NOT VERIFIED."),
)
"""The CSV columns, in order, with what each holds."""


@dataclass(frozen=True)
class Form3Row:
    """One characteristic's line of Form 3."""

    char_no: str
    """5. The balloon id."""
    reference_location: str | None
    """6. Where the characteristic is on the drawing, if the spec says."""
    designator: str
    """7. Critical, Major or Minor."""
    requirement: str
    """8. The requirement as written, with its tolerance."""
    result: str
    """9. The value as measured with its unit, pass/fail, or NOT MEASURED."""
    tooling: str
    """10. The gauge type and asset that measured it, or the manual entry."""
    nonconformance: str | None
    """11. The reject(s) in which the characteristic failed (short ids), if any."""
    verdict: str
    """PASS, FAIL or NOT MEASURED."""
    value: str | None
    """The recorded value of the result (None if not measured)."""
    unit: str | None
    """Its recorded unit."""
    record: str | None
    """station:seq of the measurement record of the result."""
    record_hash: str | None
    """That record's hash."""
    measured_at: str | None
    """When it was recorded (UTC)."""
    inspector: str | None
    """Who recorded it."""
    comments: str
    """Corrections, guard band, earlier inspections and dispositions."""


@dataclass
class Form3:
    """Form 3 of one part, with the Form 1 header fields the record knows."""

    part_number: str
    """1. Part number."""
    part_name: str
    """2. Part name (the spec's description)."""
    serial: str
    """3. Serial number."""
    fair_number: str
    """4. FAI report number."""
    fair_number_derived: bool
    """True when the FAIR number was made from part, revision and serial (none was given)."""
    revision: str
    """Drawing revision."""
    organisation: str | None
    """The inspecting organisation (station.toml), if configured."""
    lot: str
    """The lot the part was inspected in."""
    work_order: str | None
    """The lot's work order."""
    spec_hash: str
    """Content hash of the spec revision."""
    spec_hash_verified: bool
    """Whether the recorded spec content still hashes to it."""
    first_article: str
    """The record's first-article declaration, or that there is none."""
    declared: bool
    """Whether the record declares the part (or its lot) a first article."""
    part_result: str
    """accept, reject or open: the result of the part's latest inspection."""
    inspections: list[str]
    """One line per inspection of the part (when, where, who, result)."""
    heads: list[tuple[str, int, str]]
    """(station, seq, hash) of each chain head the form was made from."""
    verification: list[ChainCheck] | None
    """The chains' verification, or None if not verified."""
    source: str
    """Where the records came from (no password)."""
    rows: list[Form3Row] = field(default_factory=list)
    """One row per characteristic of the spec, in its order."""
    generated_at: str = ""
    """When the form was made (UTC)."""

    @property
    def verification_text(self) -> str:
        """OK, BROKEN or NOT VERIFIED."""
        if self.verification is None:
            return "NOT VERIFIED"
        return "OK" if all(c.ok for c in self.verification) else "BROKEN"

    @property
    def heads_text(self) -> str:
        """Chain heads as station:seq:hash, '; ' between."""
        return "; ".join(f"{station}:{seq}:{hash_}" for station, seq, hash_ in self.heads)


# -- building the form -----------------------------------------------------------------------


def _signed(value: Decimal) -> str:
    text = str(value)
    return text if text.startswith("-") else f"+{text}"


def requirement_text(spec: PartSpec, ch: Characteristic) -> str:
    """The requirement as the drawing writes it: name, nominal and tolerance or limits."""
    if ch.kind is Kind.ATTRIBUTE:
        return f"{ch.name}: attribute, {ch.method or 'pass / fail'}"
    unit = spec.unit_of(ch)
    lower, upper = ch.limits
    if ch.tolerance is not None and ch.nominal is not None:
        low, high = ch.tolerance
        if low == -high:
            limits = f"{ch.nominal} ±{high} {unit}"
        else:
            limits = f"{ch.nominal} {_signed(high)}/{_signed(low)} {unit}"
    elif lower is not None and upper is not None:
        limits = f"{lower} – {upper} {unit}"
        if ch.nominal is not None:
            limits += f" (nominal {ch.nominal})"
    elif upper is not None:
        limits = f"≤ {upper} {unit}"
    else:
        limits = f"≥ {lower} {unit}"
    text = f"{ch.name}: {limits}"
    if ch.decision.rule is not Rule.SIMPLE:
        text += f"; {ch.decision.describe()} (ISO 14253-1)"
    if ch.rounding != "none":
        text += f"; reading rounded to {ch.step} ({ch.rounding.upper()})"
    return text


def _tooling(ch: Characteristic, row: dict[str, Any] | None) -> str:
    kind = f"{ch.gauge}: " if ch.gauge else ""
    if row is None:
        return f"{ch.gauge} (none recorded)" if ch.gauge else "—"
    if row["gauge_asset"]:
        facts = [
            f"S/N {row['gauge_serial']}" if row["gauge_serial"] else None,
            f"cert. {row['gauge_certificate']}" if row["gauge_certificate"] else None,
            f"cal. due {row['gauge_calibration_due']}" if row["gauge_calibration_due"] else None,
        ]
        details = ", ".join(f for f in facts if f)
        return f"{kind}{row['gauge_asset']}" + (f" ({details})" if details else "")
    return f"{kind}manual entry ({row['manual_reason'] or 'no reason recorded'})"


def _result_text(row: dict[str, Any]) -> str:
    if row["kind"] == "attribute":
        return str(row["value"])
    text = f"{row['value']} {row['unit'] or ''}".strip()
    in_spec, spec_unit = row["value_in_spec_unit"], row["spec_unit"]
    if spec_unit and row["unit"] and row["unit"] != spec_unit and in_spec is not None:
        text += f" (= {in_spec} {spec_unit})"
    return text


def _disposition_text(d: DispositionInfo) -> str:
    signers = "; ".join(f"{s.name} ({s.user_id}), {s.meaning}, {s.signed_at}" for s in d.signatures)
    text = f"disposition {d.disposition.label}"
    if d.regrade_to:
        text += f" to {d.regrade_to}"
    text += f": {d.reason} — signed by {signers}"
    if not d.complete:
        text += " (awaiting second signature)"
    return text


class _Builder:
    """Builds the rows of one part from its inspections and measurement rows."""

    def __init__(self, data: LotData, inspections: list[InspectionData], rows: list[dict]) -> None:
        self.data = data
        self.inspections = inspections
        self.order = {i.uuid: n for n, i in enumerate(inspections)}
        self.by_char: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if data.spec.get(row["characteristic"]) is None:
                raise ExportError(
                    f"A measurement of part {row['serial']} is of characteristic "
                    f"{row['characteristic']!r}, which {data.spec.part_number} revision "
                    f"{data.spec.revision} does not have."
                )
            self.by_char.setdefault(row["characteristic"], []).append(row)

    def in_force(self, char_id: str) -> dict[str, Any] | None:
        """The current measurement in the latest inspection that measured the characteristic."""
        rows = [
            r
            for r in self.by_char.get(char_id, [])
            if r["uuid"] not in self.data.superseded_by and r["inspection"] in self.order
        ]
        if not rows:
            return None
        return max(rows, key=lambda r: (self.order[r["inspection"]], r["measured_at"], r["seq"]))

    def rejects(self, char_id: str) -> list[tuple[InspectionData, dict[str, Any]]]:
        """(inspection, reject result in force) of every inspection of the part in which the
        characteristic failed."""
        out = []
        for inspection in self.inspections:
            current = inspection.current_result
            if current is None or current["result"] != PartResult.REJECT:
                continue
            failed = json.loads(current["failed"] or "[]")
            if char_id in failed:
                out.append((inspection, current))
        return out

    def row(self, ch: Characteristic) -> Form3Row:
        """The Form 3 line of one characteristic."""
        spec = self.data.spec
        current = self.in_force(ch.id)
        comments: list[str] = []
        rejects = self.rejects(ch.id)
        nonconformance = ", ".join(r["uuid"][:8] for _, r in rejects) or None
        for inspection, result in rejects:
            failed_value = next(
                (
                    r
                    for r in reversed(self.by_char.get(ch.id, []))
                    if r["inspection"] == inspection.uuid
                    and r["uuid"] not in self.data.superseded_by
                ),
                None,
            )
            found = self.data.dispositions.get(result["uuid"])
            text = f"reject {result['uuid'][:8]} ({inspection.opened_at[:10]}"
            if failed_value is not None:
                text += f", {_result_text(failed_value)} FAIL"
            text += ")"
            text += f": {_disposition_text(found[0])}" if found else ": awaiting disposition"
            later = [i for i in self.inspections if i.reinspection_of == result["uuid"]]
            for again in later:
                text += f"; re-inspected {again.opened_at[:10]}: {again.result or 'open'}"
            comments.append(text)
        if current is None:
            comments.append("no measurement of this characteristic is recorded for this part")
            return Form3Row(
                char_no=ch.id,
                reference_location=ch.location,
                designator=ch.class_.value.capitalize(),
                requirement=requirement_text(spec, ch),
                result=NOT_MEASURED,
                tooling=_tooling(ch, None),
                nonconformance=nonconformance,
                verdict=NOT_MEASURED,
                value=None,
                unit=None,
                record=None,
                record_hash=None,
                measured_at=None,
                inspector=None,
                comments="; ".join(comments),
            )
        earlier = [
            r
            for r in self.by_char.get(ch.id, [])
            if r["inspection"] == current["inspection"] and r["uuid"] in self.data.superseded_by
        ]
        for r in earlier:
            successor = self.data.superseded_by[r["uuid"]]
            reason = next(
                (c["reason"] for c in self.by_char[ch.id] if c["uuid"] == successor), None
            )
            comments.insert(
                0,
                f"corrected: {_result_text(r)} ({r['verdict'].upper()}) superseded, "
                f"reason: {reason or '—'}",
            )
        latest = self.inspections[-1]
        if current["inspection"] != latest.uuid:
            comments.append(
                f"result from the inspection of {current['measured_at'][:10]}; the latest "
                "inspection has no value for it"
            )
        if current["verdict"] == Verdict.FAIL:
            if current["zone"] == "guard-band":
                comments.insert(0, "in the guard band: conformance not proven (ISO 14253-1)")
            elif current["limit_broken"]:
                comments.insert(
                    0, f"{current['limit_broken']} limit exceeded by {current['exceeds_by']}"
                )
        return Form3Row(
            char_no=ch.id,
            reference_location=ch.location,
            designator=ch.class_.value.capitalize(),
            requirement=requirement_text(spec, ch),
            result=_result_text(current),
            tooling=_tooling(ch, current),
            nonconformance=nonconformance,
            verdict=str(current["verdict"]).upper(),
            value=current["value"],
            unit=current["unit"],
            record=f"{current['station']}:{current['seq']}",
            record_hash=current["record_hash"],
            measured_at=current["measured_at"],
            inspector=current["inspector"],
            comments="; ".join(comments),
        )


def part_lot(source: RecordSource, serial: str, lot: str | None) -> str:
    """The lot part ``serial`` was inspected in (``lot`` if given); ExportError if unclear."""
    lots = source.serial_lots(serial)
    if lot is not None:
        lot = lot.strip()
        if lot in lots:
            return lot
        if not lots:
            raise ExportError(f"There is no part {serial!r} in the {source.description}.")
        raise ExportError(
            f"Part {serial} was not inspected in lot {lot} (it was in {', '.join(lots)})."
        )
    if not lots:
        raise ExportError(f"There is no part {serial!r} in the {source.description}.")
    if len(lots) > 1:
        raise ExportError(
            f"Part {serial} was inspected in lots {', '.join(lots)}; give --lot to choose one."
        )
    return lots[0]


def load_form3(
    source: RecordSource,
    serial: str,
    *,
    lot: str | None = None,
    fair_number: str | None = None,
    organisation: str | None = None,
    verify: bool = True,
    writer: LocalStore | None = None,
) -> Form3:
    """Form 3 of part ``serial`` from ``source``; ExportError if the part cannot be found."""
    serial = (serial or "").strip()
    if not serial:
        raise ExportError("Give the serial number of the part.")
    lot = part_lot(source, serial, lot)
    data = load_lot(source, lot, verify=verify, writer=writer)
    inspections = sorted(
        (i for i in data.inspections if i.serial == serial),
        key=lambda i: (i.opened_at, i.station, i.seq),
    )
    (rows,) = list(data.source.part_measurements(lot, [serial]))
    builder = _Builder(data, inspections, rows)
    spec = data.spec
    fair = (fair_number or "").strip()
    latest = inspections[-1] if inspections else None
    lines = []
    for i in inspections:
        line = f"{i.opened_at} at {i.station} by {i.inspector}: {i.result or 'open'}"
        if i.reinspection_of:
            line += f" (re-inspection after reject {i.reinspection_of[:8]})"
        lines.append(line)
    stations = {i.station for i in inspections} | {r["station"] for r in rows}
    declarations = (
        [FirstArticle.from_row(r) for r in data.source.rows(OF_PART, [lot, serial])]
        if data.source.has_table("first_articles")
        else []
    )
    declared = declarations[0] if declarations else None
    if not fair and declared is not None and declared.fair_number:
        fair = declared.fair_number
    return Form3(
        part_number=spec.part_number,
        part_name=spec.description,
        serial=serial,
        fair_number=fair or f"{spec.part_number}-{spec.revision}-{serial}",
        fair_number_derived=not fair,
        revision=spec.revision,
        organisation=organisation,
        lot=lot,
        work_order=data.work_order,
        spec_hash=data.spec_hash,
        spec_hash_verified=data.spec_hash_verified,
        first_article=declared.describe() if declared else NOT_DECLARED,
        declared=declared is not None,
        part_result=(latest.result if latest else None) or "open",
        inspections=lines,
        heads=[
            (station, seq, hash_)
            for station, (seq, hash_) in sorted(data.source.heads.items())
            if station in stations
        ],
        verification=(
            None
            if data.verification is None
            else [c for c in data.verification if c.station in stations]
        ),
        source=f"{data.source.kind}: {data.source.description}",
        rows=[builder.row(ch) for ch in spec.characteristic],
        generated_at=data.generated_at,
    )


# -- writing ---------------------------------------------------------------------------------


def header_fields(form: Form3) -> list[tuple[str, str]]:
    """The header of the form as (label, text), in the order every format shows them."""
    fair = form.fair_number + (
        " (made from part number, revision and serial: none was given)"
        if form.fair_number_derived
        else ""
    )
    verified = form.verification_text
    return [
        ("1. Part Number", form.part_number),
        ("2. Part Name", form.part_name or "—"),
        ("3. Serial Number", form.serial),
        ("4. FAI Report Number", fair),
        ("Part Revision Level", form.revision),
        ("Organization Name", form.organisation or "not configured (organisation in station.toml)"),
        ("Lot", form.lot),
        ("Work Order", form.work_order or "—"),
        ("First Article", form.first_article),
        ("Part Result", form.part_result),
        ("Inspections", "; ".join(form.inspections) or "—"),
        (
            "Specification",
            f"SHA-256 {form.spec_hash}"
            + ("" if form.spec_hash_verified else " — the recorded content does NOT match it"),
        ),
        ("Made From Chain Heads", form.heads_text or "—"),
        ("Chains Verified", verified),
        ("Source", form.source),
        ("Generated", f"{form.generated_at} (UTC) by inspect-station {__version__}"),
    ]


TABLE_HEADERS: tuple[str, ...] = (
    "5. Char No.",
    "6. Reference Location",
    "7. Characteristic Designator",
    "8. Requirement",
    "9. Results",
    "10. Designed / Qualified Tooling",
    "11. Nonconformance Number",
    "12. Verdict",
    "12. Record",
    "12. Comments",
)
"""Column headings of the form's table (12: additional fields)."""


def table_cells(row: Form3Row) -> list[str]:
    """A row's cells in ``TABLE_HEADERS`` order."""
    record = f"{row.record} {row.record_hash}" if row.record else "—"
    return [
        row.char_no,
        row.reference_location or "—",
        row.designator,
        row.requirement,
        row.result,
        row.tooling,
        row.nonconformance or "—",
        row.verdict,
        record,
        row.comments or "—",
    ]


def write_csv(form: Form3, out: HashingWriter) -> None:
    """Form 3 as CSV: one row per characteristic, the header fields repeated on each row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([name for name, _ in COLUMNS])
    head = [
        form.part_number,
        form.part_name,
        form.serial,
        form.fair_number,
        form.revision,
        form.organisation,
        form.lot,
        form.first_article,
    ]
    for row in form.rows:
        cells = [
            *head,
            row.char_no,
            row.reference_location,
            row.designator,
            row.requirement,
            row.result,
            row.tooling,
            row.nonconformance,
            row.verdict,
            row.record,
            row.record_hash,
            row.measured_at,
            row.inspector,
            row.comments,
            form.heads_text,
            form.verification_text,
        ]
        writer.writerow([spreadsheet_safe(c) for c in cells])
    out.write(buffer.getvalue().encode("utf-8"))


def _e(value: Any) -> str:
    return html.escape("—" if value is None or value == "" else str(value), quote=True)


def render_html(form: Form3, manifest_name: str = "") -> str:
    """Form 3 as one self-contained, printable HTML page."""
    facts = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in header_fields(form))
    head = "".join(f"<th>{_e(h)}</th>" for h in TABLE_HEADERS)
    body = []
    for row in form.rows:
        cells = [_e(c) for c in table_cells(row)]
        verdict_class = {"PASS": "pass", "FAIL": "fail"}.get(row.verdict, "missing")
        cells[7] = f'<span class="{verdict_class}">{cells[7]}</span>'
        cells[8] = f'<span class="hash">{cells[8]}</span>'
        css = ' class="unmeasured"' if row.verdict == NOT_MEASURED else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    alerts = []
    if form.verification_text == "BROKEN":
        alerts.append(
            "Record verification FAILED: a chain this form was made from does not verify; "
            "the form cannot be relied on."
        )
    elif form.verification_text == "NOT VERIFIED":
        alerts.append("The chains this form was made from were not verified.")
    if not form.spec_hash_verified:
        alerts.append("The recorded spec content does not match its content hash.")
    if not form.declared:
        alerts.append(
            f"Part {form.serial} is not a declared first article: this is a draft, not a FAIR."
        )
    missing = [r.char_no for r in form.rows if r.verdict == NOT_MEASURED]
    if missing:
        alerts.append(
            f"{len(missing)} characteristic(s) have no recorded result: {', '.join(missing)}."
        )
    template = Template(files("inspect_station.export").joinpath("fai.html").read_text("utf-8"))
    return template.substitute(
        title=_e(TITLE),
        part_number=_e(form.part_number),
        serial=_e(form.serial),
        alerts="".join(f'<div class="alert">{_e(a)}</div>' for a in alerts),
        header=f'<table class="facts"><tbody>{facts}</tbody></table>',
        table=f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>",
        generator=_e(f"inspect-station {__version__}"),
        manifest_name=_e(manifest_name or "the .sha256 file"),
    )


def write_html(form: Form3, out: HashingWriter, manifest_name: str = "") -> None:
    """Form 3 as an HTML file."""
    out.write(render_html(form, manifest_name).encode("utf-8"))


def _xlsx_text(value: Any) -> Any:
    """A cell value openpyxl stores as text: control characters escaped (\\xNN)."""
    if value is None:
        return None
    text = str(value)
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        text = "".join(c if ord(c) >= 32 or c in "\t\n\r" else f"\\x{ord(c):02x}" for c in text)
    return text


def write_xlsx(form: Form3, out: HashingWriter) -> None:
    """Form 3 as an .xlsx workbook laid out as the form (one sheet, 'Form 3')."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = "Form 3"
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")

    def put(row: int, column: int, value: Any, *, bold: bool = False) -> None:
        cell = sheet.cell(row=row, column=column)
        cell.value = _xlsx_text(value)
        # Text stays text: a value starting with '=' is never stored as a formula.
        if cell.value is not None:
            cell.data_type = "s"
        cell.alignment = wrap
        if bold:
            cell.font = Font(bold=True)

    put(1, 1, TITLE, bold=True)
    sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
    row = 3
    for label, text in header_fields(form):
        put(row, 1, label, bold=True)
        put(row, 2, text)
        sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=len(TABLE_HEADERS))
        row += 1
    row += 1
    header_row = row
    fill = PatternFill("solid", fgColor="EEEEEE")
    for column, heading in enumerate(TABLE_HEADERS, start=1):
        put(row, column, heading, bold=True)
        sheet.cell(row=row, column=column).fill = fill
        sheet.cell(row=row, column=column).border = box
    for form_row in form.rows:
        row += 1
        for column, text in enumerate(table_cells(form_row), start=1):
            put(row, column, text)
            sheet.cell(row=row, column=column).border = box
    widths = (8, 14, 13, 40, 22, 34, 16, 12, 30, 50)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.column_dimensions["A"].width = 22
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    book.properties.creator = f"inspect-station {__version__}"
    book.properties.title = _xlsx_text(f"{TITLE}: {form.part_number} serial {form.serial}")
    buffer = io.BytesIO()
    book.save(buffer)
    out.write(buffer.getvalue())


_WRITERS: dict[str, Callable[[Form3, HashingWriter, str], None]] = {
    "html": lambda form, out, manifest: write_html(form, out, manifest),
    "csv": lambda form, out, manifest: write_csv(form, out),
    "xlsx": lambda form, out, manifest: write_xlsx(form, out),
}


def manifest_text(form: Form3, fmt: str, name: str, sha256: str, size: int) -> str:
    """A sha256sum-compatible manifest: comment lines describing the form, then the hash."""
    lines = [
        "# inspect-station AS9102 Form 3 manifest (check with: sha256sum -c THIS-FILE)",
        f"# part {form.part_number} revision {form.revision} serial {form.serial}; "
        f"lot {form.lot}; FAIR {form.fair_number}; spec sha256 {form.spec_hash}",
        f"# format: {fmt}; {size} bytes; {len(form.rows)} characteristics",
        f"# source: {form.source}",
        f"# generated: {form.generated_at} by inspect-station {__version__}",
        f"# chain heads: {form.heads_text or '-'}",
    ]
    if form.verification is None:
        lines.append("# chains: NOT VERIFIED")
    for check in form.verification or []:
        lines.append(f"# chain {check.summary()}")
    lines.append(f"{sha256}  {name}")
    return "\n".join(lines) + "\n"


def write_form3(form: Form3, fmt: str, raw: IO[bytes], manifest_name: str = "") -> HashingWriter:
    """Write Form 3 in ``fmt`` to a binary stream; returns its hash state."""
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ExportError(f"Unknown Form 3 format {fmt!r}; use one of {', '.join(FORMATS)}.")
    out = HashingWriter(raw)
    writer(form, out, manifest_name)
    out.flush()
    return out


@dataclass(frozen=True)
class Form3Result:
    """What a Form 3 export wrote."""

    path: Path
    """The form's file."""
    manifest_path: Path
    """Its SHA-256 manifest."""
    sha256: str
    """SHA-256 of the file."""
    size: int
    """Its size in bytes."""
    form: Form3
    """What was written."""


def export_form3(form: Form3, fmt: str, path: Path, *, force: bool = False) -> Form3Result:
    """Write ``form`` to ``path`` (atomically) and its manifest to ``path.sha256``."""
    path = Path(path)
    if fmt not in _WRITERS:
        raise ExportError(f"Unknown Form 3 format {fmt!r}; use one of {', '.join(FORMATS)}.")
    manifest_path = path.with_name(path.name + ".sha256")
    if not force:
        for target in (path, manifest_path):
            if target.exists():
                raise ExportError(f"{target} already exists; give --force to overwrite it.")
    if path.is_dir():
        raise ExportError(f"{path} is a directory; give a file name to write the form to.")
    if not path.parent.is_dir():
        raise ExportError(f"The folder {path.parent} does not exist.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise ExportError(f"Cannot write to {path.parent}: {exc.strerror}.") from None
    try:
        with os.fdopen(fd, "wb") as raw:
            out = write_form3(form, fmt, raw, manifest_path.name)
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sha = out.sha256.hexdigest()
    manifest_path.write_text(manifest_text(form, fmt, path.name, sha, out.size), encoding="utf-8")
    return Form3Result(path, manifest_path, sha, out.size, form)
