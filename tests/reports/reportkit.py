"""A part recorded for the SPC report tests: spec, gauge, readings with the ids a test needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from inspect_station.config import GaugeAsset
from inspect_station.recording import GaugeSource, ManualSource, Recorder
from inspect_station.spec import PartSpec, load_spec
from inspect_station.store import LocalStore
from inspect_station.sync import open_central

TODAY = dt.date(2026, 11, 25)

GRIDDLE = """\
format = 1
part_number = "GRD-5"
revision = "A"
description = "Griddle plate"
status = "released"
unit = "mm"

[sampling]
level = "II"
aql = 10

[[characteristic]]
id = "1"
name = "Length"
nominal = 50.000
tolerance = [-0.030, 0.030]
resolution = 0.001

[[characteristic]]
id = "2"
name = "Runout"
max = 0.040
resolution = 0.001

[[characteristic]]
id = "3"
name = "Wall"
min = 2.000
resolution = 0.001

[[characteristic]]
id = "4"
name = "Visual"
kind = "attribute"
"""

CALIPER = GaugeAsset(
    asset="CAL-7",
    profile="mitutoyo-ascii",
    port="loop://",
    unit="mm",
    serial_number="B7654321",
    certificate="CERT-2026-7",
    calibrated_on=dt.date(2026, 3, 1),
    calibration_due=dt.date(2027, 3, 1),
)


def griddle(folder: Path, text: str = GRIDDLE) -> PartSpec:
    """GRD-5 revision A (or another spec text) loaded from a file in ``folder``."""
    path = folder / "GRD-5-A.toml"
    path.write_text(text, encoding="utf-8")
    return load_spec(path)


def record_values(
    store: LocalStore,
    spec: PartSpec,
    lot: str,
    characteristic: str,
    values: Sequence[str],
    *,
    first_serial: int = 1,
    manual: Iterable[int] = (),
) -> list[str]:
    """Record one reading of ``characteristic`` per part, in order; the record UUIDs.

    Readings at the positions in ``manual`` are entered by hand, the others come from the
    caliper with their raw frame.
    """
    recorder = Recorder(store, today=TODAY)
    by_hand = set(manual)
    uuids = []
    for i, value in enumerate(values):
        source = (
            ManualSource("typed from the dial")
            if i in by_hand
            else GaugeSource(CALIPER, f"01A+{value}\r".encode("latin-1"))
        )
        ack = recorder.measure(
            spec=spec,
            lot=lot,
            serial=f"S{first_serial + i:04d}",
            inspector="ann",
            characteristic=characteristic,
            value=value,
            source=source,
            lot_size=500,
        )
        uuids.append(ack.uuid)
    return uuids


def correct(
    store: LocalStore, spec: PartSpec, lot: str, serial: str, characteristic: str, value: str
) -> str:
    """Record a correction of a part's reading; the correction's UUID."""
    ack = Recorder(store, today=TODAY).measure(
        spec=spec,
        lot=lot,
        serial=serial,
        inspector="ann",
        characteristic=characteristic,
        value=value,
        source=ManualSource("re-measured"),
        reason="keyed wrong",
    )
    return ack.uuid


def ship(store: LocalStore, url: str) -> None:
    """Send every record of a station's local record to the central store."""
    with open_central(url) as central:
        central.ingest(store.station, list(store.records()))
