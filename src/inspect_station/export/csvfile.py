"""Lot export as CSV: one row per measurement record, for spreadsheets and scripts.

The file is UTF-8 with a byte order mark (so spreadsheet programs detect the encoding), comma
separated, fields quoted only where needed (RFC 4180), CRLF line ends, one header row with the
names in ``COLUMNS``. Every measurement record of the lot is a row, including values that a
correction superseded (``status`` says which are in force). Part-level facts (the part's result,
its disposition and signatures) are repeated on each row of the part.

Values, limits and deviations are the exact decimal strings of the record, with a point as
the decimal separator (a spreadsheet may show ``120.00`` as ``120``; the file keeps the digits).
Times are UTC, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``. A text cell that a spreadsheet would run as a
formula (one starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, after any
leading spaces) gets an apostrophe in front; plain numbers such as ``-0.03`` are left alone.
The raw gauge frame is written with backslash escapes (``\\r``, ``\\x02``, ``\\\\``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from inspect_station.export.formats import HashingWriter, register_format
from inspect_station.export.model import ExportOptions, InspectionData, LotData
from inspect_station.records import FIELD, ROW_FIELDS, Capability
from inspect_station.records.source import ROW_FLAG
from inspect_station.vocabulary import PartResult

COLUMNS: tuple[tuple[str, str], ...] = (
    ("lot", "Lot id."),
    ("work_order", "Work order of the lot."),
    ("part_number", "Part number."),
    ("revision", "Spec (drawing) revision."),
    ("spec_hash", "SHA-256 of the spec revision's canonical content."),
    ("serial", "Part serial."),
    ("inspection", "UUID of the part inspection the measurement belongs to."),
    ("reinspection_of", "For a re-inspection after rework or repair: UUID of the original reject."),
    ("record_station", "Station whose journal holds the measurement record."),
    ("record_seq", "The record's seq in that journal."),
    ("record_uuid", "The record's UUID."),
    ("record_hash", "The record's hash (SHA-256 of its RFC 8785 bytes)."),
    ("measured_at", "When it was recorded (UTC)."),
    ("inspector", "User id of the inspector."),
    ("characteristic", "Characteristic id (balloon number)."),
    ("characteristic_name", "Characteristic name."),
    ("characteristic_kind", "variable or attribute."),
    ("value", "The value as measured (attribute: pass or fail)."),
    ("unit", "Unit of the value as measured."),
    ("value_in_spec_unit", "The value converted to the unit of the limits."),
    ("spec_unit", "Unit of nominal and limits."),
    ("nominal", "Nominal in force."),
    ("lower_limit", "Lower specification limit in force (empty: none)."),
    ("upper_limit", "Upper specification limit in force (empty: none)."),
    ("verdict", "pass or fail."),
    ("zone", "inside, guard-band (conformance not proven) or outside."),
    ("deviation", "Value minus nominal, in the spec unit."),
    ("limit_broken", "For a fail: lower or upper."),
    ("exceeds_by", "How far beyond that limit (or into its guard band)."),
    ("decision_rule", "ISO 14253-1 rule applied: simple, guard-band or custom."),
    ("uncertainty", "Expanded uncertainty U the rule used, if any."),
    ("guard_band", "Guard band width applied at each limit, if any."),
    ("source", "gauge or manual."),
    ("manual_reason", "For a manual entry: why no gauge fed it."),
    ("gauge_asset", "Gauge asset id."),
    ("gauge_serial", "Instrument serial number."),
    ("gauge_certificate", "Calibration certificate in force."),
    ("gauge_calibration_due", "Calibration due date in force (YYYY-MM-DD)."),
    ("raw_frame", "The frame as the gauge sent it, backslash-escaped."),
    ("status", "current, or superseded (a later correction replaced it)."),
    ("supersedes", "For a correction: UUID of the measurement record it replaces."),
    ("correction_reason", "For a correction: the reason given."),
    ("superseded_by", "For a superseded value: UUID of the correction."),
    ("part_result", "The part inspection's result in force: accept, reject, or empty if open."),
    ("defect_code", "Defect code of a reject."),
    ("part_note", "The inspector's note on the part."),
    ("disposition", "Disposition of the reject (use-as-is, rework, repair, ...)."),
    ("disposition_reason", "The reason the supervisor gave."),
    (
        "disposition_status",
        "disposed, awaiting second signature, or conflicting dispositions (then every one, '; ').",
    ),
    ("disposition_signatures", "Signatures: name (user id), meaning, UTC time; '; ' between."),
    ("lot_decision", "ISO 2859-1 lot decision: ACCEPT, REJECT, PENDING or NO PLAN."),
    ("chain_verified", "Verification of the chain holding the record: OK, BROKEN, NOT VERIFIED."),
    ("chain_head_seq", "seq of the head of that chain in the export's snapshot."),
    ("chain_head_hash", "SHA-256 of that head record (check with verify --anchor SEQ:HASH)."),
)
"""The columns, in order, with what each holds."""

_NUMBER = re.compile(r"[+-]?[0-9.]+")


_FORMULA_START = frozenset("=+-@\t\r ")


def _safe_cells(cells: list[Any]) -> list[Any]:
    """``spreadsheet_safe`` over a list, checking each cell's first character cheaply first."""
    return [
        spreadsheet_safe(c) if c.__class__ is str and c[:1] in _FORMULA_START else c for c in cells
    ]


def spreadsheet_safe(cell: Any) -> Any:
    """The cell, with an apostrophe in front if a spreadsheet would read it as a formula."""
    if not isinstance(cell, str) or not cell:
        return cell
    if cell[0] in "\t\r" or (
        cell.lstrip(" ")[:1] in ("=", "+", "-", "@") and not _NUMBER.fullmatch(cell)
    ):
        return "'" + cell
    return cell


def escape_raw(raw: str | None) -> str | None:
    """A raw frame (one character per byte) with backslash escapes for non-printable bytes."""
    if raw is None:
        return None
    return raw.encode("unicode_escape").decode("ascii")


def _signatures_text(signatures: tuple[Any, ...]) -> str:
    return "; ".join(f"{s.name} ({s.user_id}), {s.meaning}, {s.signed_at}" for s in signatures)


_RAW = FIELD["raw"]
_INSPECTION = FIELD["inspection"]
_SERIAL = FIELD["serial"]
_CELLS = FIELD["superseded_by"] + 1  # the row fields that are CSV cells, in column order


class _Parts:
    """The part-level cells of each inspection (before and after the measurement's), cached."""

    def __init__(self, data: LotData) -> None:
        self.data = data
        self.by_inspection = data.by_inspection
        self.cache: dict[str, tuple[list[Any], list[Any]]] = {}
        self.chain = {c.station: ("OK" if c.ok else "BROKEN") for c in data.verification or []}
        self.heads = {station: [seq, hash_] for station, seq, hash_ in data.heads}
        self.lot_cells = _safe_cells(
            [data.lot, data.work_order, data.spec.part_number, data.spec.revision, data.spec_hash]
        )
        self.decision = data.decision.decision

    def cells(self, inspection_id: str, serial: str) -> tuple[list[Any], list[Any]]:
        """(cells before, cells after) the measurement's own cells, spreadsheet-safe."""
        inspection: InspectionData | None = self.by_inspection.get(inspection_id)
        reinspection_of = inspection.reinspection_of if inspection else None
        before = [*self.lot_cells, serial, inspection_id, reinspection_of]
        if (
            serial[:1] in _FORMULA_START
            or inspection_id[:1] in _FORMULA_START
            or (reinspection_of or "")[:1] in _FORMULA_START
        ):
            before = self.lot_cells + _safe_cells(before[len(self.lot_cells) :])
        current = inspection.results[-1] if inspection and inspection.results else None
        station = inspection.station if inspection else ""
        chain = [self.chain.get(station, "NOT VERIFIED"), *self.heads.get(station, [None, None])]
        if current is None:
            after = [None, None, None, None, None, None, None, self.decision, *chain]
        elif (current["result"], current["defect_code"], current["note"]) == (
            PartResult.ACCEPT,
            None,
            None,
        ):
            after = [
                PartResult.ACCEPT.value,
                None,
                None,
                None,
                None,
                None,
                None,
                self.decision,
                *chain,
            ]
        else:
            standing = self.data.standing(current["uuid"])
            disposition = standing.in_force
            after = [current["result"], current["defect_code"], current["note"]]
            if standing.conflict:
                found = standing.dispositions
                after += [
                    "; ".join(d.disposition.value for d in found),
                    "; ".join(d.reason for d in found),
                    standing.status.value,
                    "; ".join(_signatures_text(d.signatures) for d in found),
                ]
            elif disposition is None:
                after += [None, None, None, None]
            else:
                after += [
                    disposition.disposition.value,
                    disposition.reason,
                    disposition.status.value,
                    _signatures_text(disposition.signatures),
                ]
            after = [*_safe_cells(after), self.decision, *chain]
        cached = (before, after)
        self.cache[inspection_id] = cached
        return cached


def csv_rows(data: LotData) -> Iterator[list[list[Any]]]:
    """Pages of CSV rows (lists in ``COLUMNS`` order) for every measurement record of the lot."""
    parts = _Parts(data)
    cache = parts.cache
    for page in data.measurement_rows():
        rows: list[list[Any]] = []
        append = rows.append
        for values in page:
            cells = cache.get(values[_INSPECTION])
            if cells is None:
                cells = parts.cells(values[_INSPECTION], values[_SERIAL])
            raw = values[_RAW]
            if raw is not None:
                values[_RAW] = raw.encode("unicode_escape").decode("ascii")
            checked = values[-1] is False
            del values[_CELLS:]
            row = cells[0] + values + cells[1]
            append(row if checked else _safe_cells(row))
        yield rows


def write_csv(data: LotData, out: HashingWriter, options: ExportOptions) -> None:
    """Write the lot as CSV (UTF-8 with BOM, CRLF) to ``out``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([name for name, _ in COLUMNS])
    if Capability.PACKED_PAGES in data.source.capabilities:
        out.write(buffer.getvalue().encode("utf-8"))
        _write_packed(data, out)
        return
    for rows in csv_rows(data):
        writer.writerows(rows)
        out.write(buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()
    out.write(buffer.getvalue().encode("utf-8"))


# -- the packed path -------------------------------------------------------------------------
# A source that can pack pages (the local store: SQLite) returns the measurement's own cells as
# text and flags every row in which a cell could start a formula. The cells of any other row
# are joined with commas; where that is not what csv.writer writes (a cell holds a comma, a
# quote or a line break) the row's cells go through csv.writer instead. A test holds the result
# byte-identical to the portable csv_rows.

_PACKED_FIELDS = (*ROW_FIELDS[:_CELLS], "inspection", "serial", ROW_FLAG)
"""The cells of a packed row: the CSV's measurement cells, the inspection, serial and flag."""
_PACKED_TEXT = frozenset(ROW_FIELDS[:_CELLS]) - {"raw"}
"""Cells given as text, NULL as '' (the raw frame is escaped here, in Python)."""


def _line(cells: list[Any]) -> str:
    """Cells as one CSV line with its CRLF, written by csv.writer."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


def _write_packed(data: LotData, out: HashingWriter) -> None:
    """Write the rows of a lot from packed pages (the same bytes as ``csv_rows``)."""
    parts = _Parts(data)
    texts: dict[str, tuple[str, str]] = {}
    commas = _CELLS - 1
    for page in data.source.packed_pages(data.lot, _PACKED_FIELDS, _PACKED_TEXT):
        lines: list[str] = []
        append = lines.append
        for cells in page:
            formula = cells.pop()
            serial = cells.pop()
            inspection = cells.pop()
            raw = cells[_RAW]
            if raw is None:
                cells[_RAW] = ""
            else:
                cells[_RAW] = raw.encode("unicode_escape").decode("ascii")
            text = texts.get(inspection)
            if text is None:
                before, after = parts.cells(inspection, serial)
                text = texts[inspection] = (_line(before)[:-2] + ",", "," + _line(after))
            if formula:
                before, after = parts.cells(inspection, serial)
                append(_line(_safe_cells(before + cells + after)))
                continue
            joined = ",".join(cells)
            if joined.count(",") != commas or '"' in joined or "\n" in joined or "\r" in joined:
                joined = _line(cells)[:-2]
            append(text[0] + joined + text[1])
        out.write("".join(lines).encode("utf-8"))


register_format("csv", write_csv, order=10)
