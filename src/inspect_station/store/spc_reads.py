"""The SPC report's reads: a part's (or a lot's) variable readings, by name, page by page.

Every query here is a dialect-neutral catalogue query (``store.catalog.read_query``), so the
same report runs on a station's local record and on every central backend through
``RecordSource.rows``. A page holds the readings of one station after a given seq, in chain
order (``ORDER BY m.seq``): the caller streams each station's pages and merges the stations by
time, so a million readings never sit in memory as a million rows at once.

Each row says whether a correction in the snapshot superseded it (``status``), so the report
can leave superseded values out and still count them. Attribute characteristics (pass/fail)
are not read: they have no value to chart.

Parameters of a page query, in order: the part number (or lot), the station, the last seq
read (0 for the first page), then ``since`` (a UTC time: readings at or after it) and the
characteristic id where the query's name says so, then the page size.
"""

from __future__ import annotations

from inspect_station.store.catalog import ReadQuery, read_query

READING_FIELDS: tuple[str, ...] = (
    "station",
    "seq",
    "uuid",
    "measured_at",
    "spec_hash",
    "characteristic",
    "value",
    "unit",
    "value_in_spec_unit",
    "spec_unit",
    "lower",
    "upper",
    "source",
    "status",
)
"""Columns of a reading row, in order (``status`` is ``current`` or ``superseded``; ``value``
and ``unit`` as measured only where the record has no ``value_in_spec_unit``)."""

_SELECT = (
    "SELECT m.station, m.seq, m.uuid, m.measured_at, m.spec_hash, m.characteristic, "
    "CASE WHEN m.value_in_spec_unit IS NULL THEN m.value END AS value, "
    "CASE WHEN m.value_in_spec_unit IS NULL THEN m.unit END AS unit, "
    "m.value_in_spec_unit, m.spec_unit, m.lower, m.upper, m.source, "
    "CASE WHEN EXISTS (SELECT 1 FROM measurements c WHERE c.supersedes = m.uuid "
    "AND {bound:c}) THEN 'superseded' ELSE 'current' END AS status "
    "FROM measurements m WHERE "
)
_SCOPES = {"part": "m.part_number = ?", "lot": "m.lot = ?"}


def _page_query(scope: str, since: bool, characteristic: bool) -> ReadQuery:
    """Register the page query for one combination of filters."""
    name = (
        f"spc.readings_of_{scope}"
        + ("_since" if since else "")
        + ("_char" if characteristic else "")
    )
    sql = (
        _SELECT
        + _SCOPES[scope]
        + " AND m.station = ? AND m.seq > ? AND {bound:m} "
        + "AND (m.kind IS NULL OR m.kind <> 'attribute')"
        + (" AND m.measured_at >= ?" if since else "")
        + (" AND m.characteristic = ?" if characteristic else "")
        + " ORDER BY m.seq LIMIT ?"
    )
    return read_query(name, sql, aliases=("m", "c"))


READING_PAGES: dict[tuple[str, bool, bool], ReadQuery] = {
    (scope, since, char): _page_query(scope, since, char)
    for scope in _SCOPES
    for since in (False, True)
    for char in (False, True)
}
"""(scope ``part`` or ``lot``, with since, with characteristic) -> its page query."""


def _characteristics_query(scope: str, since: bool) -> ReadQuery:
    """Register the query naming the characteristics with variable readings in a scope."""
    name = f"spc.characteristics_of_{scope}" + ("_since" if since else "")
    sql = (
        "SELECT DISTINCT m.characteristic FROM measurements m WHERE "
        + _SCOPES[scope]
        + " AND {bound:m} AND (m.kind IS NULL OR m.kind <> 'attribute')"
        + (" AND m.measured_at >= ?" if since else "")
        + " ORDER BY m.characteristic"
    )
    return read_query(name, sql, aliases=("m",))


CHARACTERISTICS: dict[tuple[str, bool], ReadQuery] = {
    (scope, since): _characteristics_query(scope, since)
    for scope in _SCOPES
    for since in (False, True)
}
"""(scope ``part`` or ``lot``, with since) -> the query of the characteristics with variable
readings in it (parameters: the part number or lot, then ``since`` where named). The report then
reads each characteristic's pages on their own (``reading_page(..., characteristic=True)``),
which the ``measurements_spc`` index (part number, characteristic, seq) serves in seq order
without a sort."""


def characteristics(scope: str, *, since: bool) -> ReadQuery:
    """The query of the characteristics with variable readings in a part or a lot."""
    return CHARACTERISTICS[(scope, since)]


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
