"""The review's named queries answer the same at the station and in a central store.

A supervisor at an office terminal filtering the rejects of a plant's PostgreSQL store (or the
embedded SQLite one) must see exactly what the bench's own record shows: the same queue for
every filter, the same detail of a reject, the same content hash to sign.
"""

from __future__ import annotations

import datetime as dt

import pytest
from lots import GOOD, RecordedLot, record_part, ship

from inspect_station.records import LocalSource
from inspect_station.review.model import RejectFilter
from inspect_station.review.service import Review
from inspect_station.sync import open_source

LATER = dt.timedelta(hours=2)
"""How long after the parts were closed the review looks at them."""


@pytest.fixture
def shipped(lot7: RecordedLot, central_url: str) -> RecordedLot:
    """Lot L-7 (P2 rejected, disposed rework and re-inspected) and lot L-8 (Q1 rejected,
    awaiting disposition), shipped to the central store."""
    record_part(lot7.recorder, lot7.spec, "L-8", "Q1", {**GOOD, "3": "0.030"}, defect="D03")
    ship(lot7.store, central_url)
    return lot7


def later_than(moment: dt.datetime):
    """A review clock that reads ``LATER`` after ``moment``."""
    return lambda: moment + LATER


FILTERS = [
    (RejectFilter(), ["Q1"]),
    (RejectFilter(include_disposed=True), ["P2", "Q1"]),
    (RejectFilter(lot="L-7", include_disposed=True), ["P2"]),
    (RejectFilter(lot="L-7"), []),
    (RejectFilter(lot="L-8"), ["Q1"]),
    (RejectFilter(part_number="PLT-77", include_disposed=True), ["P2", "Q1"]),
    (RejectFilter(part_number="SHF-220"), []),
    (RejectFilter(station="TEST-1"), ["Q1"]),
    (RejectFilter(station="BENCH-9"), []),
    (RejectFilter(older_than=dt.timedelta(hours=1)), ["Q1"]),
    (RejectFilter(older_than=dt.timedelta(hours=3)), []),
    (RejectFilter(newer_than=dt.timedelta(hours=1)), []),
    (RejectFilter(newer_than=dt.timedelta(hours=3), include_disposed=True), ["P2", "Q1"]),
]


def test_every_filter_of_the_queue_lists_the_same_rejects_at_the_station_and_centrally(
    shipped: RecordedLot, central_url: str
):
    now = dt.datetime.now(dt.UTC)
    clock = later_than(now)
    local = Review(LocalSource(shipped.store), None, clock=clock)
    with open_source(central_url) as source:
        central = Review(source, None, clock=clock)
        for flt, serials in FILTERS:
            at_station = [(r.station, r.serial, r.status) for r in local.queue(flt)]
            in_central = [(r.station, r.serial, r.status) for r in central.queue(flt)]
            assert [serial for _, serial, _ in at_station] == serials, flt
            assert in_central == at_station, flt


def test_a_rejects_detail_is_the_same_at_the_station_and_centrally(
    shipped: RecordedLot, central_url: str
):
    clock = later_than(dt.datetime.now(dt.UTC))
    reject = shipped.reject_of("P2")
    local = Review(LocalSource(shipped.store), None, clock=clock).detail(reject[:8])
    with open_source(central_url) as source:
        central = Review(source, None, clock=clock).detail(reject[:8])
    assert central.json() == local.json()
    assert central.summary.reject == reject
    assert [m.characteristic for m in central.measurements] == ["1", "2", "3", "4"]
    (disposition,) = central.dispositions
    assert disposition.disposition.value == "rework" and disposition.complete
    (again,) = central.reinspections
    assert again.result == "accept" and again.disposition == disposition.uuid
    assert central.signed_hash == disposition.signed_hash
