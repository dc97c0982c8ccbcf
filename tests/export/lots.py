"""A recorded lot for the export tests: spec, gauge, parts, the ids a test needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from inspect_station.config import GaugeAsset
from inspect_station.recording import GaugeSource, ManualSource, Recorder
from inspect_station.records import LocalSource
from inspect_station.review.service import Review
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore
from inspect_station.sync import open_central
from inspect_station.users import UserDirectory

TODAY = dt.date(2026, 11, 25)

# AQL 10 at level II: a lot of 20 is code letter C, n = 5, Ac 1 / Re 2 -- so one reject in a
# sample of five still accepts the lot.
PLATE = """\
format = 1
part_number = "PLT-77"
revision = "B"
description = "Cover plate Ø40 — anodised"
status = "released"
unit = "mm"

[sampling]
level = "II"
aql = 10

[[characteristic]]
id = "1"
name = "Length"
nominal = 40.00
tolerance = [-0.05, 0.05]
decimals = 2

[[characteristic]]
id = "2"
name = "Hole Ø"
nominal = 6.000
tolerance = [0.000, 0.012]
resolution = 0.001
decision = { rule = "guard-band", uncertainty = 0.002 }

[[characteristic]]
id = "3"
name = "Flatness, face A"
max = 0.020
resolution = 0.001

[[characteristic]]
id = "4"
name = "Visual"
kind = "attribute"
method = "visual, 2x loupe"
"""

CALIPER = GaugeAsset(
    asset="CAL-0042",
    profile="mitutoyo-ascii",
    port="loop://",
    unit="mm",
    serial_number="A1234567",
    certificate="CERT-2026-0042",
    calibrated_on=dt.date(2026, 3, 1),
    calibration_due=dt.date(2027, 3, 1),
)

GOOD = {"1": "40.01", "2": "6.005", "3": "0.011", "4": "pass"}


def record_part(
    recorder: Recorder,
    spec: PartSpec,
    lot: str,
    serial: str,
    values: dict[str, str],
    *,
    defect: str | None = None,
    note: str | None = None,
    lot_size: int = 20,
    inspector: str = "ann",
) -> str | None:
    """Measure every characteristic (1 with the caliper and its raw frame).

    A rejected part is closed with ``defect`` and ``note`` when a defect code is given.
    """
    result = None
    for char, value in values.items():
        if char == "1":
            source = GaugeSource(CALIPER, f"01A+{value}\r".encode("latin-1"))
        else:
            source = ManualSource("typed from the dial")
        result = recorder.measure(
            spec=spec,
            lot=lot,
            serial=serial,
            inspector=inspector,
            characteristic=char,
            value=value,
            source=source,
            auto_close=True,
            lot_size=lot_size,
            work_order="WO-881",
        ).result
    if result == "reject" and defect is not None:
        recorder.close_inspection(
            spec=spec, lot=lot, serial=serial, inspector=inspector, defect_code=defect, note=note
        )
    return result


@dataclass
class RecordedLot:
    """A station record holding lot L-7 and the ids a test needs."""

    store: LocalStore
    """The station's local record (station TEST-1)."""
    users: UserDirectory
    """ann (inspector), sam and kim (supervisors); their PINs are ``userkit.PINS``."""
    recorder: Recorder
    """The recorder used."""
    spec: PartSpec
    """PLT-77 revision B."""

    def review(self) -> Review:
        """A review of this station's record, signing into it."""
        return Review(LocalSource(self.store), self.store, self.users)

    def reject_of(self, serial: str) -> str:
        """The UUID of the current reject of a part."""
        rows = self.store.query(
            "SELECT uuid FROM current_results WHERE serial = ? AND result = 'reject'", (serial,)
        )
        return rows[0]["uuid"]


def ship(store: LocalStore, url: str) -> None:
    """Send every record of a station's local record to the central store."""
    with open_central(url) as central:
        central.ingest(store.station, list(store.records()))
