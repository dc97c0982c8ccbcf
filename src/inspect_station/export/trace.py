"""Gauge traceability: every result taken with one gauge asset (ISO 9001 7.1.5.2).

When a gauge is found out of calibration, the results it produced since its last good
calibration must be assessed. ``trace_gauge`` lists every measurement record taken with the
asset (optionally since a date), with the calibration due date and certificate in force when
it was taken, whether a correction superseded it, the result of the part it belongs to and
that part's disposition.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

from inspect_station.clock import start_of_day_utc
from inspect_station.errors import InspectStationError
from inspect_station.export.csvfile import spreadsheet_safe
from inspect_station.records import RecordSource
from inspect_station.review.queries import Standing, Status, load_dispositions, load_resolutions
from inspect_station.store import calibrations, queries
from inspect_station.store.calibrations import CalibrationEvent
from inspect_station.vocabulary import PartResult


class UnknownGauge(InspectStationError):
    """No gauge asset of that id is configured here or named by any record read."""

    exit_code = 3


@dataclass(frozen=True)
class TracedResult:
    """One measurement taken with the gauge, and what became of its part."""

    measured_at: str
    """When (UTC)."""
    station: str
    """Station whose journal holds the record."""
    seq: int
    """The record's seq there."""
    uuid: str
    """The record's UUID."""
    lot: str
    """Lot id."""
    part_number: str
    """Part number."""
    revision: str
    """Spec revision."""
    serial: str
    """Part serial."""
    characteristic: str
    """Characteristic id."""
    characteristic_name: str | None
    """Characteristic name."""
    value: str
    """Value as measured."""
    unit: str | None
    """Unit as measured."""
    verdict: str
    """pass or fail."""
    status: str
    """current or superseded."""
    gauge_serial: str | None
    """Instrument serial number recorded."""
    gauge_certificate: str | None
    """Calibration certificate in force."""
    calibration_due: str | None
    """Calibration due date in force."""
    inspector: str
    """Who measured."""
    part_result: str | None
    """The part inspection's result in force (accept / reject), None while open."""
    disposition: str | None
    """The disposition of the part's reject, if signed."""
    disposition_status: str | None
    """Whether that disposition is complete ('disposed') or still 'awaiting second
    signature' (it does not take effect until then)."""

    def json(self) -> dict[str, Any]:
        """The result as a JSON object."""
        return dict(self.__dict__)


TRACE_COLUMNS: tuple[str, ...] = tuple(TracedResult.__dataclass_fields__)
"""CSV columns of a gauge trace, in order (the fields of ``TracedResult``)."""


def trace_gauge(
    source: RecordSource, asset: str, since: dt.date | None = None
) -> list[TracedResult]:
    """Every measurement taken with gauge ``asset`` (since the UTC start of ``since``), by time."""
    if since is None:
        rows = source.rows(queries.GAUGE_MEASUREMENTS, [asset])
    else:
        start = start_of_day_utc(since)
        rows = source.rows(queries.GAUGE_MEASUREMENTS_SINCE, [asset, start])
    results: dict[str, dict[str, Any]] = {}
    for r in source.rows(queries.INSPECTION_RESULTS, values=[row["inspection"] for row in rows]):
        results[r["inspection"]] = r  # the last one is in force
    rejects = [r["uuid"] for r in results.values() if r["result"] == PartResult.REJECT]
    dispositions = load_dispositions(source, rejects)
    resolutions = load_resolutions(source, rejects)
    out = []
    for row in rows:
        result = results.get(row["inspection"])
        standing = (
            Standing(
                tuple(dispositions.get(result["uuid"], [])),
                tuple(resolutions.get(result["uuid"], [])),
            )
            if result
            else None
        )
        disposition = status = None
        if standing is not None and standing.dispositions:
            status = standing.status.value
            if standing.conflict:
                disposition = Status.CONFLICT.value
            elif standing.in_force:
                disposition = standing.in_force.disposition.value
        out.append(
            TracedResult(
                measured_at=row["measured_at"],
                station=row["station"],
                seq=row["seq"],
                uuid=row["uuid"],
                lot=row["lot"],
                part_number=row["part_number"],
                revision=row["revision"],
                serial=row["serial"],
                characteristic=row["characteristic"],
                characteristic_name=row["characteristic_name"],
                value=row["value"],
                unit=row["unit"],
                verdict=row["verdict"],
                status=row["status"],
                gauge_serial=row["gauge_serial"],
                gauge_certificate=row["gauge_certificate"],
                calibration_due=row["gauge_calibration_due"],
                inspector=row["inspector"],
                part_result=result["result"] if result else None,
                disposition=disposition,
                disposition_status=status,
            )
        )
    return out


def _disposition_text(r: TracedResult) -> str:
    """The part's disposition for the table; one that lacks its second signature says so."""
    if r.disposition is None:
        return "—"
    if r.disposition_status == Status.AWAITING_SECOND.value:
        return f"{r.disposition} (awaiting second signature)"
    return r.disposition


def recorded_assets(source: RecordSource) -> set[str]:
    """Every gauge asset that fed a measurement in the source, at any time."""
    return {row["gauge_asset"] for row in source.rows(queries.GAUGE_ASSETS)}


def trace_csv(results: list[TracedResult]) -> str:
    """The results as CSV text (header row, CRLF, spreadsheet-safe cells)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TRACE_COLUMNS)
    for r in results:
        writer.writerow([spreadsheet_safe(getattr(r, c)) for c in TRACE_COLUMNS])
    return buffer.getvalue()


def trace_table(results: list[TracedResult]) -> str:
    """The results as a fixed-width table for a terminal."""
    header = (
        "Time (UTC)",
        "Station",
        "Lot",
        "Part",
        "Serial",
        "Char",
        "Value",
        "Verdict",
        "Due",
        "Inspector",
        "Part",
        "Disposition",
    )
    rows = [
        (
            r.measured_at[:19].replace("T", " "),
            f"{r.station}:{r.seq}",
            r.lot,
            f"{r.part_number} {r.revision}",
            r.serial,
            r.characteristic,
            f"{r.value} {r.unit or ''}".strip()
            + (" (superseded)" if r.status != "current" else ""),
            r.verdict.upper(),
            r.calibration_due or "—",
            r.inspector,
            r.part_result or "open",
            _disposition_text(r),
        )
        for r in results
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    return "\n".join(lines) + "\n"


def trace_json(results: list[TracedResult]) -> str:
    """The results as a JSON array."""
    return json.dumps([r.json() for r in results], ensure_ascii=False, indent=1) + "\n"


def calibration_history(source: RecordSource, asset: str) -> list[CalibrationEvent]:
    """Every calibration recorded for gauge ``asset``, oldest first (none from an older file)."""
    if not source.has_table("calibrations"):
        return []
    return [CalibrationEvent.from_row(row) for row in source.rows(calibrations.OF_ASSET, [asset])]


def calibration_table(asset: str, events: list[CalibrationEvent]) -> str:
    """The calibration history of a gauge for a terminal, one line per event."""
    if not events:
        return f"Calibrations of {asset}: none recorded.\n"
    lines = [f"Calibrations of {asset}:"]
    for e in events:
        due = f", next due {e.due}" if e.due else ""
        note = f"; {e.note}" if e.note else ""
        lines.append(
            f"  {e.calibrated_on}  {e.result.upper():<4}  certificate {e.certificate}{due}, "
            f"recorded by {e.name} ({e.user_id}) at {e.station}:{e.seq}{note}"
        )
    return "\n".join(lines) + "\n"
