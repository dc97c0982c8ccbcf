"""Every read of the projection schema that the read side makes, by name.

Catalogue queries (:func:`~inspect_station.store.catalog.read_query`) are dialect-neutral: the
local store and every central backend answer them over a snapshot (``RecordSource.rows`` in
``inspect_station.records``). A few reads are the local store's alone, where SQLite can do more
than the portable SQL: a lot's measurements read along the table by seq range
(:func:`lot_seq_range`, :func:`lot_measurement_page`), and :class:`PackedPages`, a page of rows
built and flagged by SQLite itself and handed over as one JSON text.

Names say what is read (``measurements.lot_page``), not who reads it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from inspect_station.store.catalog import read_query
from inspect_station.store.projections import TABLES


class Readable(Protocol):
    """A store that answers SQL reads (``LocalStore``)."""

    def query(self, sql: str, params: tuple[Any, ...] = ...) -> list[dict[str, Any]]:
        """Rows of a read query as dicts."""
        ...


# -- the measurement row ------------------------------------------------------------------------

ROW_FIELDS: tuple[str, ...] = (
    "station",
    "seq",
    "uuid",
    "record_hash",
    "measured_at",
    "inspector",
    "characteristic",
    "characteristic_name",
    "kind",
    "value",
    "unit",
    "value_in_spec_unit",
    "spec_unit",
    "nominal",
    "lower",
    "upper",
    "verdict",
    "zone",
    "deviation",
    "limit_broken",
    "exceeds_by",
    "rule",
    "uncertainty",
    "guard",
    "source",
    "manual_reason",
    "gauge_asset",
    "gauge_serial",
    "gauge_certificate",
    "gauge_calibration_due",
    "raw",
    "status",
    "supersedes",
    "reason",
    "superseded_by",
    "inspection",
    "serial",
)
"""Fields of a measurement row as the lot exports read it, in order.

``record_hash`` is the hash of the measurement's journal record; ``rule``, ``uncertainty`` and
``guard`` come from the recorded decision rule, ``status`` is current or superseded,
``superseded_by`` the UUID of the correction that replaced the value.
"""
NUMERIC_FIELDS = frozenset(
    {
        "value",
        "value_in_spec_unit",
        "nominal",
        "lower",
        "upper",
        "deviation",
        "exceeds_by",
        "uncertainty",
        "guard",
    }
)
"""Fields holding decimal strings: a leading sign is a number there, not a formula."""
PAGE_FIELDS = frozenset(
    {c for c, _ in TABLES["measurements"]}
    | {"record_hash", "rule", "uncertainty", "guard", "status", "superseded_by"}
)
"""What a packed page row may hold: the measurement's columns and those derived for a row."""
FORMULA = "formula"
"""The flag a packed page can end a row with: true when a text field of the row may start a
spreadsheet formula (=, +, -, @, tab, CR, space, other than a plain signed number)."""


# -- journal records ----------------------------------------------------------------------------

JOURNAL_REFS = read_query(
    "journal.refs",
    "SELECT j.station, j.seq, j.uuid, j.hash FROM journal j "
    "WHERE j.station = ? AND j.seq IN {in} AND {bound:j}",
    aliases=("j",),
)
"""(station, seq, uuid, hash) of one station's records at the listed seqs."""
JOURNAL_RECORDS = read_query(
    "journal.records",
    "SELECT j.format, j.station, j.seq, j.uuid, j.kind, j.ts, j.prev_hash, j.hash, j.body "
    "FROM journal j WHERE j.station = ? AND j.seq IN {in} AND {bound:j}",
    aliases=("j",),
)
"""Whole journal rows of one station's records at the listed seqs (the body as stored)."""


# -- lots, specs, inspections, results ----------------------------------------------------------

LOT_OPENED = read_query(
    "lots.opened",
    "SELECT l.* FROM lots l WHERE l.lot = ? AND {bound:l} ORDER BY l.opened_at",
    aliases=("l",),
)
"""The lot_opened rows of a lot (one per station that opened it), oldest first."""
SPEC_BY_HASH = read_query(
    "specs.by_hash",
    "SELECT s.* FROM specs s WHERE s.spec_hash = ? AND {bound:s} ORDER BY s.seq",
    aliases=("s",),
)
"""The spec records with this content hash, in journal order."""
LOT_INSPECTIONS = read_query(
    "inspections.of_lot",
    "SELECT i.uuid, i.station, i.seq, i.serial, i.inspector, i.opened_at "
    "FROM inspections i WHERE i.lot = ? AND {bound:i}",
    aliases=("i",),
)
"""Every part inspection opened in a lot."""
SERIAL_LOTS = read_query(
    "inspections.lots_of_serial",
    "SELECT i.lot, MIN(i.opened_at) AS first_opened FROM inspections i "
    "WHERE i.serial = ? AND {bound:i} GROUP BY i.lot ORDER BY first_opened, i.lot",
    aliases=("i",),
)
"""The lots a part serial was inspected in, the one it was first inspected in first."""
LOT_REINSPECTIONS = read_query(
    "reinspections.of_lot",
    "SELECT ri.* FROM reinspections ri WHERE ri.lot = ? AND {bound:ri}",
    aliases=("ri",),
)
"""Every re-inspection (after rework or repair) opened in a lot."""
LOT_RESULTS = read_query(
    "results.of_lot",
    "SELECT r.uuid, r.station, r.seq, r.inspection, r.result, r.failed, r.defect_code, "
    "r.note, r.inspector, r.closed_at, r.supersedes FROM results r "
    "WHERE r.lot = ? AND {bound:r} ORDER BY r.station, r.seq",
    aliases=("r",),
)
"""Every result record of a lot's inspections (corrections included), in journal order."""
INSPECTION_RESULTS = read_query(
    "results.of_inspections",
    "SELECT r.uuid, r.inspection, r.result, r.seq FROM results r "
    "WHERE r.inspection IN {in} AND {bound:r} ORDER BY r.seq",
    aliases=("r",),
)
"""The result records of the listed inspections, by seq (the last one of each is in force)."""


# -- measurements -------------------------------------------------------------------------------

_MEASUREMENTS = (
    "SELECT m.*, j.hash AS record_hash FROM measurements m JOIN journal j "
    "ON j.station = m.station AND j.seq = m.seq "
)

LOT_MEASUREMENT_COUNT = read_query(
    "measurements.count_in_lot",
    "SELECT COUNT(*) AS n FROM measurements m WHERE m.lot = ? AND {bound:m}",
    aliases=("m",),
)
"""How many measurement records a lot has (corrections and superseded values included)."""
LOT_MEASUREMENT_PAGE = read_query(
    "measurements.lot_page",
    _MEASUREMENTS + "WHERE m.lot = ? AND {bound:m} "
    "AND (m.station > ? OR (m.station = ? AND m.seq > ?)) "
    "ORDER BY m.station, m.seq LIMIT ?",
    aliases=("m",),
)
"""A page of a lot's measurement rows (with ``record_hash``) after (station, seq), in journal
order. Parameters: lot, station, station, seq, page size."""
PART_MEASUREMENTS = read_query(
    "measurements.of_parts",
    _MEASUREMENTS + "WHERE m.lot = ? AND m.serial IN {in} AND {bound:m} "
    "ORDER BY m.serial, m.station, m.seq",
    aliases=("m",),
)
"""The measurement rows (with ``record_hash``) of the listed parts of a lot."""
LOT_CORRECTIONS = read_query(
    "measurements.corrections_in_lot",
    "SELECT m.uuid, m.supersedes FROM measurements m "
    "WHERE m.lot = ? AND m.supersedes IS NOT NULL AND {bound:m}",
    aliases=("m",),
)
"""(correction UUID, UUID of the value it supersedes) for every correction in a lot."""
LOT_GAUGES = read_query(
    "measurements.gauges_of_lot",
    "SELECT DISTINCT m.characteristic, m.gauge_asset, m.gauge_serial, "
    "m.gauge_certificate, m.gauge_calibration_due FROM measurements m "
    "WHERE m.lot = ? AND m.gauge_asset IS NOT NULL AND {bound:m} "
    "ORDER BY m.gauge_asset, m.gauge_serial, m.gauge_certificate, "
    "m.gauge_calibration_due, m.characteristic",
    aliases=("m",),
)
"""Each (characteristic, gauge asset, serial, certificate, due date) a lot was measured with."""
LOT_INSPECTION_ENDS = read_query(
    "measurements.inspection_ends_in_lot",
    "SELECT m.inspection, m.station, MAX(m.seq) AS last FROM measurements m "
    "WHERE m.lot = ? AND {bound:m} GROUP BY m.inspection, m.station",
    aliases=("m",),
)
"""(inspection, station, seq of its last measurement record there) for a lot."""

_BY_GAUGE = (
    "SELECT m.station, m.seq, m.uuid, m.measured_at, m.lot, m.part_number, m.revision, "
    "m.serial, m.inspection, m.characteristic, m.characteristic_name, m.value, m.unit, "
    "m.verdict, m.gauge_serial, m.gauge_certificate, m.gauge_calibration_due, m.inspector, "
    "CASE WHEN EXISTS (SELECT 1 FROM measurements c WHERE c.supersedes = m.uuid "
    "AND {bound:c}) THEN 'superseded' ELSE 'current' END AS status "
    "FROM measurements m WHERE m.gauge_asset = ? AND {bound:m}"
)
_BY_TIME = " ORDER BY m.measured_at, m.station, m.seq"
GAUGE_MEASUREMENTS = read_query("measurements.by_gauge", _BY_GAUGE + _BY_TIME, aliases=("m", "c"))
"""Every measurement taken with a gauge asset, with its status (current or superseded), by time."""
GAUGE_MEASUREMENTS_SINCE = read_query(
    "measurements.by_gauge_since",
    _BY_GAUGE + " AND m.measured_at >= ?" + _BY_TIME,
    aliases=("m", "c"),
)
"""``measurements.by_gauge`` from a UTC time on (parameters: asset, time)."""
GAUGE_ASSETS = read_query(
    "measurements.gauge_assets",
    "SELECT DISTINCT m.gauge_asset FROM measurements m "
    "WHERE m.gauge_asset IS NOT NULL AND {bound:m}",
    aliases=("m",),
)
"""Every gauge asset that fed a measurement."""


# -- the local store's own reads of a lot -------------------------------------------------------


def lot_seq_range(store: Readable, lot: str, head: int) -> tuple[int, int] | None:
    """(first, last) seq of a lot's measurement records up to ``head``; None if it has none."""
    bounds = store.query(
        "SELECT MIN(seq) AS first, MAX(seq) AS last FROM measurements WHERE lot = ? AND seq <= ?",
        (lot, head),
    )[0]
    if bounds["first"] is None:
        return None
    return bounds["first"], bounds["last"]


def lot_measurement_page(
    store: Readable, lot: str, after: int, last: int, page: int
) -> list[dict[str, Any]]:
    """Up to ``page`` of a lot's measurement rows (with ``record_hash``) with seq in
    (after, last], by seq: read along the table by rowid, which SQLite does much faster than
    index look-ups plus a sort."""
    return store.query(
        "SELECT m.*, j.hash AS record_hash FROM measurements m "
        "JOIN journal j ON j.seq = m.seq "
        "WHERE +m.lot = ? AND m.seq > ? AND m.seq <= ? ORDER BY m.seq LIMIT ?",
        (lot, after, last, page),
    )


class PackedPages:
    """A lot's measurements as pages of lists, built by SQLite: each row holds the named
    ``fields`` (or the ``FORMULA`` flag), those in ``text`` as text with NULL as ''.

    ``fields`` are names in ``PAGE_FIELDS``. A page crosses into Python as one JSON text
    (``json_group_array``), much faster than a row at a time; the decision rule, the correction
    links and the formula flag are computed in SQL.
    """

    def __init__(self, fields: Sequence[str], text: frozenset[str] = frozenset()) -> None:
        unknown = [f for f in (*fields, *text) if f not in PAGE_FIELDS and f != FORMULA]
        if unknown:
            raise ValueError(f"not fields of a measurement row: {', '.join(unknown)}")
        self.fields = tuple(fields)
        """The cells of a row, in order."""
        self.text = frozenset(text)
        """Fields given as text (NULL as '')."""
        self._sql = _packed_sql([_cell(name, name in self.text) for name in self.fields])

    def page(self, store: Readable, lot: str, after: int, upto: int, head: int) -> list[list[Any]]:
        """The lot's rows with seq in (after, upto], by seq; corrections are seen up to ``head``."""
        result = store.query(self._sql, (lot, after, upto, head))
        rows = json.loads(result[0]["page"])
        rows.sort(key=_first)
        for row in rows:
            del row[0]
        return rows


def _first(row: list[Any]) -> Any:
    return row[0]


def _cell(name: str, text: bool) -> str:
    """The SQLite expression of one cell of a packed row."""
    if name == FORMULA:
        return "json(CASE WHEN m.formula THEN 'true' ELSE 'false' END)"
    if not text:
        return f"m.{name}"
    if name == "seq":
        return "CAST(m.seq AS TEXT)"
    return f"ifnull(m.{name}, '')"


def _starts_like_formula(column: str, numeric: bool) -> str:
    """SQL that is true when the text in ``column`` may start a spreadsheet formula."""
    first = f"unicode({column})"
    if numeric:
        return (
            f"{first} IN (9, 13, 32, 61, 64) OR ({first} IN (43, 45) AND "
            f"(length({column}) < 2 OR substr({column}, 2) GLOB '*[^0-9.]*'))"
        )
    return f"{first} IN (9, 13, 32, 43, 45, 61, 64)"


def _packed_sql(values: Sequence[str]) -> str:
    """The SQLite query behind ``PackedPages`` for these cell expressions over ``m``.

    Parameters: lot, seq after, seq up to, snapshot head.
    """
    text_fields = [
        f"m.{name}" for name in ROW_FIELDS if name not in ("seq", "status", "inspection", "serial")
    ]
    formula = " OR ".join(
        f"({_starts_like_formula(c, c[2:] in NUMERIC_FIELDS)})" for c in text_fields
    )
    inner = (
        "SELECT m.*, j.hash AS record_hash, "
        "(SELECT c.uuid FROM measurements c WHERE c.supersedes = m.uuid AND c.seq <= ?4 "
        "LIMIT 1) AS superseded_by FROM measurements m JOIN journal j ON j.seq = m.seq "
        "WHERE +m.lot = ?1 AND m.seq > ?2 AND m.seq <= ?3"
    )
    middle = (
        "SELECT m.*, json_extract(m.decision_rule, '$.rule') AS rule, "
        "json_extract(m.decision_rule, '$.uncertainty') AS uncertainty, "
        "json_extract(m.decision_rule, '$.guard') AS guard, "
        "CASE WHEN m.superseded_by IS NULL THEN 'current' ELSE 'superseded' END AS status "
        f"FROM ({inner}) m"
    )
    flagged = f"SELECT m.*, CASE WHEN {formula} THEN 1 ELSE 0 END AS formula FROM ({middle}) m"
    return (
        f"SELECT json_group_array(json_array(m.seq, {', '.join(values)})) AS page "
        f"FROM ({flagged}) m"
    )
