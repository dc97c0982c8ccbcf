"""The read model: a source answers named queries over its snapshot and says what it can do."""

from __future__ import annotations

import pytest

from inspect_station.recording import ManualSource, Recorder
from inspect_station.records import ROW_FIELDS, Capability, LocalSource, RecordSource, SourceError
from inspect_station.store import LocalStore


class Portable(LocalSource):
    """The local record read only through the portable queries a central store answers."""

    capabilities = frozenset()
    measurement_rows = RecordSource.measurement_rows
    lot_measurements = RecordSource.lot_measurements


def test_packed_pages_hold_the_same_rows_as_the_portable_queries(recorded: LocalStore, bracket):
    recorder = Recorder(recorded)
    recorder.measure(
        spec=bracket,
        lot="L1",
        serial="S1",
        inspector="ann",
        characteristic="1",
        value="120.02",
        source=ManualSource("test"),
        reason="re-measured",
    )
    fast = [row for page in LocalSource(recorded).measurement_rows("L1") for row in page]
    slow = [row for page in Portable(recorded).measurement_rows("L1") for row in page]
    assert len(fast) == len(slow) == 5
    # Every field agrees; only the packed rows have checked the formula flag (None: unchecked).
    assert [row[:-1] for row in fast] == [row[:-1] for row in slow]
    assert {row[-1] for row in fast} == {False} and {row[-1] for row in slow} == {None}
    status = ROW_FIELDS.index("status")
    assert sorted(row[status] for row in fast) == ["current"] * 4 + ["superseded"]


def test_a_source_says_what_it_can_do_and_refuses_what_it_cannot(recorded: LocalStore):
    assert Capability.PACKED_PAGES in LocalSource(recorded).capabilities
    portable = Portable(recorded)
    assert Capability.PACKED_PAGES not in portable.capabilities
    with pytest.raises(SourceError, match="cannot build packed pages"):
        next(RecordSource.packed_pages(portable, "L1", ["seq"]))
    with pytest.raises(ValueError, match="not fields of a measurement row: password"):
        next(LocalSource(recorded).packed_pages("L1", ["seq", "password"]))


def test_a_snapshot_keeps_later_records_out_until_refreshed(recorded: LocalStore, bracket):
    source = LocalSource(recorded)
    before = source.serial_lots("S2")
    Recorder(recorded).measure(
        spec=bracket,
        lot="L2",
        serial="S2",
        inspector="ann",
        characteristic="1",
        value="120.00",
        source=ManualSource("test"),
    )
    assert before == source.serial_lots("S2") == []
    assert [list(p) for p in source.lot_measurements("L2")] == []
    source.refresh()
    assert source.serial_lots("S2") == ["L2"]
    assert sum(len(p) for p in source.lot_measurements("L2")) == 1
