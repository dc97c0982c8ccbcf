"""Named reads of the review tables: rejects, their measurements, dispositions, signatures.

The reads are catalogue queries (:mod:`inspect_station.store.catalog`), dialect-neutral, so a
record source runs each of them over a station's local record and over a central store alike;
the review never writes SQL. The two guards at the end are read inside the signer's own write
transaction, so a check and the signature it guards are one transaction.

A *reject* is the current result row (``results.result = 'reject'``, not superseded by a later
result of the same part inspection).
"""

from __future__ import annotations

from inspect_station.store.catalog import read_query
from inspect_station.store.people import Queryable
from inspect_station.vocabulary import PartResult

_CURRENT = "NOT EXISTS (SELECT 1 FROM results c WHERE c.supersedes = r.uuid AND {bound:c})"
"""The result row ``r`` is current: no later result of the part inspection replaced it."""

_COMPLETE_AND_UNCONTESTED = (
    "EXISTS (SELECT 1 FROM dispositions d WHERE d.reject = r.uuid AND {bound:d} "
    "AND d.signers_required <= (SELECT COUNT(*) FROM signatures s "
    "WHERE s.disposition = d.uuid AND {bound:s}) "
    "AND NOT EXISTS (SELECT 1 FROM dispositions o WHERE o.reject = r.uuid "
    "AND o.uuid <> d.uuid AND {bound:o}))"
)
"""The reject ``r`` has a disposition with every signature it needs and no other disposition
(whether a resolution settled several is decided with the signatures, by the review)."""

_IS_REJECT = f"r.result = '{PartResult.REJECT.value}'"
"""The result row ``r`` rejected the part (a literal, so SQLite can use the partial index of
rejects)."""

REJECT_QUEUE = read_query(
    "review.reject_queue",
    "SELECT r.* FROM results r WHERE " + _IS_REJECT + " AND {bound:r} AND " + _CURRENT + " "
    "AND r.lot = COALESCE(?, r.lot) AND r.part_number = COALESCE(?, r.part_number) "
    "AND r.station = COALESCE(?, r.station) "
    "AND r.closed_at <= COALESCE(?, r.closed_at) AND r.closed_at >= COALESCE(?, r.closed_at) "
    "AND (? = 1 OR NOT " + _COMPLETE_AND_UNCONTESTED + ") "
    "ORDER BY r.closed_at, r.station, r.seq",
    aliases=("r", "c", "d", "s", "o"),
)
"""Current rejects, oldest first. Parameters: lot, part number, station, closed at or before,
closed at or after (each None for any), and 1 to include rejects whose disposition is complete
and uncontested (0 to leave them out)."""

REJECT_BY_UUID = read_query(
    "review.reject_by_uuid",
    "SELECT r.* FROM results r WHERE r.uuid = ? AND " + _IS_REJECT + " AND {bound:r}",
    aliases=("r",),
)
"""The reject result row with this UUID (current or not)."""

REJECTS_BY_PREFIX = read_query(
    "review.rejects_by_prefix",
    "SELECT r.* FROM results r WHERE r.uuid LIKE ? AND " + _IS_REJECT + " AND {bound:r}",
    aliases=("r",),
)
"""Reject result rows whose UUID matches a LIKE pattern (``prefix%``)."""

LATER_RESULTS = read_query(
    "review.later_results",
    "SELECT r.uuid FROM results r WHERE r.supersedes = ? AND {bound:r}",
    aliases=("r",),
)
"""UUIDs of the results that replaced the result with this UUID."""

INSPECTION_MEASUREMENTS = read_query(
    "review.inspection_measurements",
    "SELECT m.*, j.hash AS record_hash FROM measurements m JOIN journal j "
    "ON j.station = m.station AND j.seq = m.seq "
    "WHERE m.lot = ? AND m.serial = ? AND m.inspection = ? AND {bound:m} ORDER BY m.seq",
    aliases=("m",),
)
"""Every measurement row of one part inspection (lot, serial, inspection UUID) with its record's
hash, corrections and superseded values included, in seq order."""

REINSPECTION_ORIGINS = read_query(
    "review.reinspection_origins",
    "SELECT ri.uuid, ri.reinspection_of FROM reinspections ri WHERE ri.uuid IN {in} AND {bound:ri}",
    aliases=("ri",),
)
"""For each of these inspection UUIDs that is a re-inspection: the reject it re-inspects."""

REINSPECTIONS_OF = read_query(
    "review.reinspections_of",
    "SELECT ri.* FROM reinspections ri WHERE ri.reinspection_of = ? AND {bound:ri} "
    "ORDER BY ri.opened_at",
    aliases=("ri",),
)
"""The re-inspections opened for the reject with this UUID, oldest first."""

CURRENT_RESULTS = read_query(
    "review.current_results",
    "SELECT r.inspection, r.result FROM results r WHERE r.inspection IN {in} "
    "AND {bound:r} AND " + _CURRENT,
    aliases=("r", "c"),
)
"""The current result of each of these inspection UUIDs that was closed."""

DISPOSITIONS_OF = read_query(
    "review.dispositions_of",
    "SELECT d.* FROM dispositions d WHERE d.reject IN {in} AND {bound:d}",
    aliases=("d",),
)
"""Disposition rows of these reject UUIDs."""

SIGNATURES_OF = read_query(
    "review.signatures_of",
    "SELECT s.* FROM signatures s WHERE s.disposition IN {in} AND {bound:s}",
    aliases=("s",),
)
"""Signature rows (first and later signers) of these disposition UUIDs."""

RESOLUTIONS_OF = read_query(
    "review.resolutions_of",
    "SELECT x.* FROM resolutions x WHERE x.reject IN {in} AND {bound:x}",
    aliases=("x",),
)
"""Resolution rows (signed decisions between conflicting dispositions) of these reject UUIDs."""


def has_disposition(q: Queryable, reject: str) -> bool:
    """Whether the signer's own record already holds a disposition of this reject."""
    return bool(q.query("SELECT 1 FROM dispositions WHERE reject = ? LIMIT 1", (reject,)))


def signers(q: Queryable, disposition: str) -> set[str]:
    """User ids of the signatures the signer's own record holds on this disposition."""
    rows = q.query("SELECT user_id FROM signatures WHERE disposition = ?", (disposition,))
    return {r["user_id"] for r in rows}


__all__ = [
    "CURRENT_RESULTS",
    "DISPOSITIONS_OF",
    "INSPECTION_MEASUREMENTS",
    "LATER_RESULTS",
    "REINSPECTIONS_OF",
    "REINSPECTION_ORIGINS",
    "REJECTS_BY_PREFIX",
    "REJECT_BY_UUID",
    "REJECT_QUEUE",
    "RESOLUTIONS_OF",
    "SIGNATURES_OF",
    "has_disposition",
    "signers",
]
