"""The SPC report's reads: a part's (or a lot's) variable readings, by name, page by page.

Every query here is a dialect-neutral catalogue query (``store.catalog.read_query``), so the
same report runs on a station's local record and on every central backend through
``RecordSource.rows`` (``RecordSource.row_tuples`` for the bulk pages). A page holds the
readings of one station after a given seq, in chain order (``ORDER BY m.seq``): the caller
streams each station's pages and merges the stations by time, so a million readings never sit
in memory as a million rows at once.

Each row says whether a correction in the snapshot superseded it (``superseded``), so the
report can leave superseded values out and still count them. Attribute characteristics (pass/fail)
are not read: they have no value to chart.

Parameters of a page query, in order: the part number (or lot), the station, the last seq
read (0 for the first page), for a part the last seq of the window, then ``since`` (a UTC time:
readings at or after it) and the characteristic id where the query's name says so, for a lot
the page size.
"""

from __future__ import annotations

from inspect_station.store.catalog import ReadQuery, read_query

READING_FIELDS: tuple[str, ...] = (
    "seq",
    "uuid",
    "measured_at",
    "characteristic",
    "value",
    "unit",
    "value_in_spec_unit",
    "spec_unit",
    "lower",
    "upper",
    "manual",
    "superseded",
)
"""Columns of a reading row, in order (``value`` and ``unit`` as measured only where the record
has no ``value_in_spec_unit``; ``manual`` and ``superseded`` are 1 or 0). The station is the
one the page was asked for."""

_SELECT = (
    "SELECT m.seq, m.uuid, m.measured_at, m.characteristic, "
    "CASE WHEN m.value_in_spec_unit IS NULL THEN m.value END AS value, "
    "CASE WHEN m.value_in_spec_unit IS NULL THEN m.unit END AS unit, "
    "m.value_in_spec_unit, m.spec_unit, m.lower, m.upper, "
    "CASE WHEN m.source = 'manual' THEN 1 ELSE 0 END AS manual, "
    "CASE WHEN EXISTS (SELECT 1 FROM measurements c WHERE c.supersedes = m.uuid "
    "AND {bound:c}) THEN 1 ELSE 0 END AS superseded "
    "FROM measurements m WHERE "
)
_SCOPES = {"part": "m.part_number = ?", "lot": "m.lot = ?"}
_VARIABLE = "(m.kind IS NULL OR m.kind <> 'attribute')"


def _page_query(scope: str, since: bool, characteristic: bool) -> ReadQuery:
    """Register the page query for one combination of filters.

    A part's page is a window of seq, ``seq > ? AND seq <= ?``, read along the table in seq
    order (``|| ''`` keeps SQLite off the part index, whose rows would need a sort): one pass
    over the station's records for every characteristic at once. A lot's page is the next
    ``LIMIT ?`` rows after a seq, found through the lot index (a lot is small).
    """
    name = (
        f"spc.reading_rows_of_{scope}"
        + ("_since" if since else "")
        + ("_char" if characteristic else "")
    )
    where = (
        "m.part_number || '' = ? AND m.station = ? AND m.seq > ? AND m.seq <= ?"
        if scope == "part"
        else "m.lot = ? AND m.station = ? AND m.seq > ?"
    )
    sql = (
        _SELECT
        + where
        + " AND {bound:m} AND "
        + _VARIABLE
        + (" AND m.measured_at >= ?" if since else "")
        + (" AND m.characteristic = ?" if characteristic else "")
        + " ORDER BY m.seq"
        + (" LIMIT ?" if scope == "lot" else "")
    )
    return read_query(name, sql, aliases=("m", "c"))


READING_PAGES: dict[tuple[str, bool, bool], ReadQuery] = {
    (scope, since, char): _page_query(scope, since, char)
    for scope in _SCOPES
    for since in (False, True)
    for char in (False, True)
}
"""(scope ``part`` or ``lot``, with since, with characteristic) -> its page query."""

LAST_SPEC = {
    scope: read_query(
        f"spc.last_spec_of_{scope}",
        "SELECT m.spec_hash, m.measured_at FROM measurements m WHERE "
        + ("m.part_number || '' = ?" if scope == "part" else "m.lot = ?")
        + " AND m.station = ? AND {bound:m} AND "
        + _VARIABLE
        + " ORDER BY m.seq DESC LIMIT 1",
        aliases=("m",),
    )
    for scope in _SCOPES
}
"""Scope -> the spec hash and time of a station's newest variable reading of a part or lot."""


PART_INSPECTED = read_query(
    "spc.part_inspected",
    "SELECT COUNT(*) AS n FROM inspections i WHERE i.part_number = ? AND {bound:i}",
    aliases=("i",),
)
"""How many inspections of a part number the snapshot holds (0: an unknown part)."""

PART_SPECS = read_query(
    "spc.specs_of_part",
    "SELECT s.seq, s.spec_hash, s.revision, s.content FROM specs s "
    "WHERE s.part_number = ? AND {bound:s} ORDER BY s.seq",
    aliases=("s",),
)
"""Every spec record of a part number (its recorded content), by seq."""


def reading_page(scope: str, *, since: bool, characteristic: bool) -> ReadQuery:
    """The page query for a part or a lot, with or without ``since`` and a characteristic."""
    return READING_PAGES[(scope, since, characteristic)]


LOCKED_LIMITS = read_query(
    "spc_reads.locked_limits",
    "SELECT l.limits, l.limits_hash FROM spc_limits l WHERE l.part_number = ? "
    "AND l.characteristic = ? AND {bound:l} ORDER BY l.effective_from, l.version",
    aliases=("l",),
)
"""The limit versions locked for a characteristic of a part number (``spc_limits`` records,
each with its whole version as JSON and its hash), oldest first."""


ANSWER_TALLY = read_query(
    "spc_reads.answer_tally",
    "SELECT v.part_number, v.characteristic, v.rule, v.chart, v.alarm, v.station, a.cause "
    "FROM spc_violations v LEFT JOIN spc_answers a ON a.alarm = v.alarm "
    "AND a.alarm_station = v.station AND {bound:a} "
    "WHERE v.part_number = ? AND {bound:v} ORDER BY v.station, v.seq",
    aliases=("v", "a"),
)
"""Every SPC violation of a part number with its alarm's answer cause (NULL while open), for
the alarm-fatigue figures (``spc.fatigue.tally_causes``)."""
