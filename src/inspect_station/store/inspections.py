"""Named reads of lots, specs, part inspections, measurements and results for the write path.

The recorder asks these inside its write transaction (what is already recorded decides what
the next record says: a correction, a new inspection, a result that changed) and the station
service asks them of the store (a lot's progress, the part in hand, the next serial). Each
takes a :class:`Reader` -- a :class:`~inspect_station.store.db.LocalStore` or an open
:class:`~inspect_station.store.db.Transaction` -- so the same read gives the same answer
inside and outside a transaction. Writes are journal records (``Transaction.append``), whose
projection rows the store writes itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol


class Reader(Protocol):
    """Something that answers a read of the local schema: the store or an open transaction."""

    def query(
        self, sql: str, params: tuple[Any, ...] | Mapping[str, Any] = ()
    ) -> list[dict[str, Any]]:
        """Rows of a read query as dicts."""
        ...


# -- lots and specs ----------------------------------------------------------------------------


def lot_row(db: Reader, lot: str) -> dict[str, Any] | None:
    """The projection row of lot ``lot`` (its spec identity, size, plan), if it is recorded."""
    rows = db.query("SELECT * FROM lots WHERE lot = ?", (lot,))
    return rows[0] if rows else None


def recent_lots(db: Reader, limit: int = 50) -> list[str]:
    """The ids of the last ``limit`` lots opened, newest first."""
    rows = db.query("SELECT lot FROM lots ORDER BY seq DESC LIMIT ?", (limit,))
    return [row["lot"] for row in rows]


def spec_recorded(db: Reader, spec_hash: str) -> bool:
    """Whether a spec revision with this content hash is in the record."""
    return bool(db.query("SELECT 1 FROM specs WHERE spec_hash = ?", (spec_hash,)))


def spec_hash_of(db: Reader, part_number: str, revision: str) -> str | None:
    """The content hash a part revision was recorded with, if it was."""
    rows = db.query(
        "SELECT spec_hash FROM specs WHERE part_number = ? AND revision = ?",
        (part_number, revision),
    )
    return rows[0]["spec_hash"] if rows else None


# -- part inspections ---------------------------------------------------------------------------


def latest_inspection(db: Reader, lot: str, serial: str) -> str | None:
    """The UUID of the part's latest inspection (a re-inspection replaces the first), if any."""
    cache = _part_cache(db)
    return (
        _latest_inspection(db, lot, serial)
        if cache is None
        else cache.latest_inspection(lot, serial)
    )


def _part_cache(db: Reader) -> PartCache | None:
    """The write transaction's view of parts when ``db`` is one (else None: ask SQLite)."""
    parts = getattr(db, "parts", None)
    return parts if isinstance(parts, PartCache) else None


def _latest_inspection(db: Reader, lot: str, serial: str) -> str | None:
    rows = db.query(
        "SELECT uuid FROM inspections WHERE lot = ? AND serial = ? ORDER BY seq DESC LIMIT 1",
        (lot, serial),
    )
    return rows[0]["uuid"] if rows else None


def lot_serials(db: Reader, lot: str) -> list[str]:
    """The serial of every inspection of the lot, in the order they were opened."""
    rows = db.query("SELECT serial FROM inspections WHERE lot = ? ORDER BY seq", (lot,))
    return [row["serial"] for row in rows]


def inspected_serials(db: Reader, lot: str) -> list[str]:
    """Each serial of the lot that has an inspection, once, in the order of the inspections."""
    rows = db.query("SELECT DISTINCT serial FROM inspections WHERE lot = ? ORDER BY seq", (lot,))
    return [row["serial"] for row in rows]


# -- measurements -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeasurementRef:
    """Which record holds a characteristic's current measurement."""

    uuid: str
    """Record UUID of the measurement."""
    seq: int
    """Its journal sequence number."""


def current_measurement(
    db: Reader, lot: str, serial: str, characteristic: str, inspection: str
) -> MeasurementRef | None:
    """The current (not superseded) measurement of a characteristic in an inspection, if any."""
    for row in _measured(db, lot, serial, inspection):
        if row.characteristic == characteristic:
            return MeasurementRef(row.uuid, row.seq)
    return None


def current_verdicts(db: Reader, lot: str, serial: str, inspection: str) -> dict[str, str]:
    """Characteristic id -> verdict of the inspection's current measurements."""
    return {row.characteristic: row.verdict for row in _measured(db, lot, serial, inspection)}


def _measured(db: Reader, lot: str, serial: str, inspection: str) -> list[_Measured]:
    """The inspection's current measurements, in seq order (the transaction's view if any)."""
    cache = _part_cache(db)
    if cache is not None:
        return cache.measurements(lot, serial, inspection)
    return _current_measured(db, (lot, serial, inspection))


def _current_measured(db: Reader, key: tuple[str, str, str]) -> list[_Measured]:
    rows = db.query(
        "SELECT uuid, seq, characteristic, verdict FROM current_measurements "
        "WHERE lot = ? AND serial = ? AND inspection = ? ORDER BY seq",
        key,
    )
    return [_Measured(r["uuid"], r["seq"], r["characteristic"], r["verdict"]) for r in rows]


def part_measurements(
    db: Reader, lot: str, serial: str, inspection: str
) -> dict[str, dict[str, Any]]:
    """Characteristic id -> current measurement row (every projection column) of an inspection."""
    rows = db.query(
        "SELECT * FROM current_measurements WHERE lot = ? AND serial = ? AND inspection = ?",
        (lot, serial, inspection),
    )
    return {row["characteristic"]: row for row in rows}


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultRef:
    """An inspection's result in force."""

    uuid: str
    """Record UUID of the result."""
    result: str
    """accept / reject."""
    failed: list[str]
    """The characteristics that failed."""


def current_result(db: Reader, inspection: str) -> ResultRef | None:
    """The result in force of an inspection, if it has been closed."""
    cache = _part_cache(db)
    rows = _current_results(db, inspection) if cache is None else cache.results(inspection)
    if not rows:
        return None
    return ResultRef(rows[0].uuid, rows[0].result, json.loads(rows[0].failed))


def _current_results(db: Reader, inspection: str) -> list[_Result]:
    rows = db.query(
        "SELECT uuid, seq, result, failed FROM current_results WHERE inspection = ? ORDER BY seq",
        (inspection,),
    )
    return [_Result(r["uuid"], r["seq"], r["result"], r["failed"]) for r in rows]


def lot_results(db: Reader, lot: str) -> list[dict[str, Any]]:
    """The results in force of the lot's parts, in journal order (a part closed again comes
    later): serial, result, failed (a list), defect code, note, closed_at, inspector."""
    rows = db.query(
        "SELECT serial, result, failed, defect_code, note, closed_at, inspector "
        "FROM current_results WHERE lot = ? ORDER BY seq",
        (lot,),
    )
    return [row | {"failed": json.loads(row["failed"])} for row in rows]


# -- the write transaction's view of parts -------------------------------------------------------


class _Measured(NamedTuple):
    """A current measurement as the write path asks about it."""

    uuid: str
    seq: int
    characteristic: str
    verdict: str


class _Result(NamedTuple):
    """A result in force as the write path asks about it (``failed`` as stored JSON)."""

    uuid: str
    seq: int
    result: str
    failed: str


class PartCache:
    """What one write transaction has read or written of parts: latest inspections, current
    measurements and results in force, so the reads above need not ask SQLite again.

    Each entry is read from the database once and then kept exactly as the database would
    answer, from the projection rows the transaction inserts (``saw``): an inspection row
    becomes its part's latest inspection (it has the highest seq), a measurement or result row
    joins its inspection's current ones and removes the row it supersedes. An inspection
    opened in the transaction starts with none (no earlier row can name its fresh UUID).
    Rolling back to a savepoint clears it (``clear``): it is only ever a copy.
    """

    def __init__(self, db: Reader) -> None:
        self._db = db
        self._latest: dict[tuple[str, str], str | None] = {}
        self._measured: dict[tuple[str, str, str], list[_Measured]] = {}
        self._measured_at: dict[str, tuple[str, str, str]] = {}
        self._results: dict[str, list[_Result]] = {}
        self._result_at: dict[str, str] = {}

    def clear(self) -> None:
        """Forget everything (the transaction was rolled back to a savepoint)."""
        self._latest.clear()
        self._measured.clear()
        self._measured_at.clear()
        self._results.clear()
        self._result_at.clear()

    def latest_inspection(self, lot: str, serial: str) -> str | None:
        """``latest_inspection`` as the transaction sees it."""
        key = (lot, serial)
        if key not in self._latest:
            self._latest[key] = _latest_inspection(self._db, lot, serial)
        return self._latest[key]

    def measurements(self, lot: str, serial: str, inspection: str) -> list[_Measured]:
        """The inspection's current measurements, in seq order."""
        key = (lot, serial, inspection)
        rows = self._measured.get(key)
        if rows is None:
            rows = _current_measured(self._db, key)
            self._keep_measured(key, rows)
        return rows

    def results(self, inspection: str) -> list[_Result]:
        """The inspection's results in force, in seq order."""
        rows = self._results.get(inspection)
        if rows is None:
            rows = _current_results(self._db, inspection)
            self._keep_results(inspection, rows)
        return rows

    def _keep_measured(self, key: tuple[str, str, str], rows: list[_Measured]) -> None:
        self._measured[key] = rows
        for row in rows:
            self._measured_at[row.uuid] = key

    def _keep_results(self, inspection: str, rows: list[_Result]) -> None:
        self._results[inspection] = rows
        for row in rows:
            self._result_at[row.uuid] = inspection

    def saw(self, table: str, row: Mapping[str, Any]) -> None:
        """A projection row the transaction has just inserted."""
        if table == "inspections":
            self._latest[(row["lot"], row["serial"])] = row["uuid"]
            self._keep_measured((row["lot"], row["serial"], row["uuid"]), [])
            self._keep_results(row["uuid"], [])
        elif table == "measurements":
            superseded = row["supersedes"]
            if superseded is not None and superseded in self._measured_at:
                held = self._measured[self._measured_at.pop(superseded)]
                held[:] = [r for r in held if r.uuid != superseded]
            key = (row["lot"], row["serial"], row["inspection"])
            if key in self._measured:
                new = _Measured(row["uuid"], row["seq"], row["characteristic"], row["verdict"])
                self._measured[key].append(new)
                self._measured_at[row["uuid"]] = key
        elif table == "results":
            superseded = row["supersedes"]
            if superseded is not None and superseded in self._result_at:
                held_results = self._results[self._result_at.pop(superseded)]
                held_results[:] = [r for r in held_results if r.uuid != superseded]
            inspection = row["inspection"]
            if inspection in self._results:
                new_result = _Result(row["uuid"], row["seq"], row["result"], row["failed"])
                self._results[inspection].append(new_result)
                self._result_at[row["uuid"]] = inspection
