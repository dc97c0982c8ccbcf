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
from typing import Any, Protocol


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
    rows = db.query(
        "SELECT uuid, seq FROM current_measurements "
        "WHERE lot = ? AND serial = ? AND characteristic = ? AND inspection = ?",
        (lot, serial, characteristic, inspection),
    )
    return MeasurementRef(rows[0]["uuid"], rows[0]["seq"]) if rows else None


def current_verdicts(db: Reader, lot: str, serial: str, inspection: str) -> dict[str, str]:
    """Characteristic id -> verdict of the inspection's current measurements."""
    rows = db.query(
        "SELECT characteristic, verdict FROM current_measurements "
        "WHERE lot = ? AND serial = ? AND inspection = ?",
        (lot, serial, inspection),
    )
    return {row["characteristic"]: row["verdict"] for row in rows}


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
    rows = db.query(
        "SELECT uuid, result, failed FROM current_results WHERE inspection = ?", (inspection,)
    )
    if not rows:
        return None
    row = rows[0]
    return ResultRef(row["uuid"], row["result"], json.loads(row["failed"]))


def lot_results(db: Reader, lot: str) -> list[dict[str, Any]]:
    """The results in force of the lot's parts, in journal order (a part closed again comes
    later): serial, result, failed (a list), defect code, note, closed_at, inspector."""
    rows = db.query(
        "SELECT serial, result, failed, defect_code, note, closed_at, inspector "
        "FROM current_results WHERE lot = ? ORDER BY seq",
        (lot,),
    )
    return [row | {"failed": json.loads(row["failed"])} for row in rows]
