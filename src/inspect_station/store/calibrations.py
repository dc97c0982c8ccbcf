"""Named reads of gauge calibration events (ISO 9001 7.1.5.2), for the read side.

A ``calibration`` record says that gauge asset ASSET was calibrated on a date with result pass or
fail, under a certificate, with the next due date, signed by the user who recorded it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inspect_station.store.catalog import read_query
from inspect_station.store.inspections import Reader


@dataclass(frozen=True)
class CalibrationEvent:
    """One recorded calibration of a gauge asset."""

    station: str
    """Station whose journal holds the record."""
    seq: int
    """Its seq there."""
    asset: str
    """Gauge asset id."""
    result: str
    """pass or fail."""
    certificate: str
    """Calibration certificate."""
    calibrated_on: str
    """Date of the calibration (YYYY-MM-DD)."""
    due: str | None
    """Next due date, if set."""
    user_id: str
    """Who recorded it (authenticated)."""
    name: str
    """Their printed name."""
    recorded_at: str
    """When it was recorded (UTC)."""
    note: str | None = None
    """A note (what was found, the lab)."""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CalibrationEvent:
        """An event from its projection row."""
        return cls(
            row["station"],
            row["seq"],
            row["asset"],
            row["result"],
            row["certificate"],
            row["calibrated_on"],
            row["due"],
            row["user_id"],
            row["name"],
            row["recorded_at"],
            row["note"],
        )


OF_ASSET = read_query(
    "calibrations.of_asset",
    "SELECT c.* FROM calibrations c WHERE c.asset = ? AND {bound:c} "
    "ORDER BY c.calibrated_on, c.recorded_at, c.station, c.seq",
    aliases=("c",),
)
"""The calibration events of one gauge asset, oldest first."""

ALL = read_query(
    "calibrations.all",
    "SELECT c.* FROM calibrations c WHERE {bound:c} "
    "ORDER BY c.asset, c.calibrated_on, c.recorded_at, c.station, c.seq",
    aliases=("c",),
)
"""Every calibration event, by asset and then oldest first."""


def latest_of_asset(db: Reader, asset: str) -> CalibrationEvent | None:
    """The calibration of ``asset`` this station recorded last (by date, then by record)."""
    rows = db.query(
        "SELECT * FROM calibrations WHERE asset = ? "
        "ORDER BY calibrated_on DESC, recorded_at DESC, seq DESC LIMIT 1",
        (asset,),
    )
    return CalibrationEvent.from_row(rows[0]) if rows else None
