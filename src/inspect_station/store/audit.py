"""Named reads of the audit-readiness report (``inspect-station audit``), local and central.

Each is a dialect-neutral catalogue query over the projection tables (times are RFC 3339 UTC
text, which compares in time order); the audit package judges the rows. ``?`` after a time
column is the ``--since`` bound ('' for everything).
"""

from __future__ import annotations

from inspect_station.store.catalog import read_query

GAUGE_MEASUREMENTS = read_query(
    "audit.gauge_measurements",
    "SELECT m.station, m.seq, m.gauge_asset, m.gauge_calibration_due, m.measured_at, m.lot, "
    "m.serial, m.characteristic, m.verdict FROM measurements m "
    "WHERE m.gauge_asset IS NOT NULL AND m.measured_at >= ? AND {bound:m} "
    "ORDER BY m.gauge_asset, m.measured_at, m.station, m.seq",
    aliases=("m",),
)
"""Every measurement a gauge fed (since a time), by asset and time."""

REJECTS = read_query(
    "audit.rejects",
    "SELECT r.station, r.seq, r.uuid, r.lot, r.serial, r.part_number, r.revision, r.closed_at "
    "FROM current_results r WHERE r.result = 'reject' AND r.closed_at >= ? AND {bound:r} "
    "ORDER BY r.closed_at, r.station, r.seq",
    aliases=("r",),
)
"""Every reject in force (not superseded by a correction), since a time, oldest first."""

INSPECTIONS = read_query(
    "audit.inspections",
    "SELECT i.station, i.seq, i.uuid, i.lot, i.serial, i.part_number, i.revision, i.spec_hash, "
    "i.inspector, i.opened_at FROM inspections i WHERE i.opened_at >= ? AND {bound:i} "
    "ORDER BY i.station, i.seq",
    aliases=("i",),
)
"""Every part inspection opened (since a time), by station and seq."""

USER_HISTORY = read_query(
    "audit.user_history",
    "SELECT u.station, u.seq, u.user_id, u.name, u.role, u.qualifications, u.active, "
    "u.changed_at FROM users u WHERE {bound:u} ORDER BY u.station, u.seq",
    aliases=("u",),
)
"""Every user record (a user's whole state after a change), by station and seq."""

REVISION_ACKS = read_query(
    "audit.revision_acks",
    "SELECT a.station, a.seq, a.user_id, a.spec_hash FROM revision_acks a WHERE {bound:a} "
    "ORDER BY a.station, a.seq",
    aliases=("a",),
)
"""Every acknowledgement of a new revision, by station and seq."""

SPEC_REVISIONS = read_query(
    "audit.spec_revisions",
    "SELECT s.* FROM specs s WHERE {bound:s} ORDER BY s.seq",
    aliases=("s",),
)
"""Every spec revision recorded, by seq (a station's own record has no station column here;
a central store's rows carry the station whose chain holds them)."""

SPC_UNANSWERED = read_query(
    "audit.spc_unanswered",
    "SELECT h.* FROM spc_holds h WHERE {bound:h} AND NOT EXISTS "
    "(SELECT 1 FROM spc_answers a WHERE a.alarm = h.uuid AND {bound:a}) "
    "ORDER BY h.station, h.seq",
    aliases=("h", "a"),
)
"""SPC alarms (``spc_hold`` records: the violations of one point and the parts they hold) that
no ``spc_answer`` record answers. Only asked of a
source that has both tables (``RecordSource.has_table``)."""
