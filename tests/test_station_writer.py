"""The station's writer thread: measurements waiting together are one durable commit.

The app's writer (``StationWriter``) runs every blocking job in order; the measurements waiting
next to each other are recorded with ``measure_many`` in one transaction and each is answered
(acknowledgement or its own refusal) only after that commit. Commits are counted, never timed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from spcstationkit import BASELINE, BORE, locked, measure_parts, session_of, spc_station

from inspect_station.errors import InspectStationError, ReadingError
from inspect_station.measuring import Capture, PartSession, SpcHold
from inspect_station.measuring.writer import GroupedWrite, RecordingBacklog, StationWriter
from inspect_station.recording import ManualSource, MeasurementAck, RecordingError
from inspect_station.station import StationService


@pytest.fixture
def service(tmp_path: Path) -> Iterator[StationService]:
    service = spc_station(tmp_path)
    yield service
    service.store.close()


@pytest.fixture
def writer(service: StationService) -> Iterator[StationWriter]:
    writer = StationWriter(service.recorder)
    yield writer
    writer.shutdown()


def commits(service: StationService) -> list[str]:
    """The COMMIT statements the store's connection runs from now on."""
    seen: list[str] = []
    service.store.conn.set_trace_callback(lambda sql: seen.append(sql) if sql == "COMMIT" else None)
    return seen


def hold(writer: StationWriter) -> threading.Event:
    """Keep the writer busy (a slow disk) until the returned event is set."""
    disk = threading.Event()
    writer.submit(disk.wait)
    return disk


def capture(serial: str, char: str, value: str, reason: str | None = None) -> Capture:
    """A reading typed at the bench for ``char`` of part ``serial``."""
    return Capture(serial, char, value, None, ManualSource("test bench"), reason)


def queue(
    writer: StationWriter, session: PartSession, captures: list[Capture]
) -> list[Future[MeasurementAck]]:
    """Submit captures as the measure screen does."""
    return [writer.submit_measurement(session.grouped(c)) for c in captures]


def outcome(future: Future[MeasurementAck]) -> MeasurementAck | BaseException:
    """The acknowledgement, or the error that refused it."""
    error = future.exception(timeout=60)
    return future.result() if error is None else error


def measured(service: StationService) -> list[tuple[str, str, str]]:
    """(serial, characteristic, value) of every measurement recorded, in journal order."""
    rows = service.store.query(
        "SELECT serial, characteristic, value FROM measurements ORDER BY seq"
    )
    return [(r["serial"], r["characteristic"], r["value"]) for r in rows]


def test_waiting_measurements_are_one_commit_and_each_is_acknowledged_in_order(service, writer):
    session = session_of(service)
    disk = hold(writer)
    futures = queue(
        writer,
        session,
        [capture("001", "1", "10.01"), capture("001", "2", BORE), capture("002", "1", "9.99")],
    )
    seen = commits(service)
    disk.set()
    acks = [outcome(f) for f in futures]
    assert all(isinstance(a, MeasurementAck) for a in acks)
    assert [(a.serial, a.characteristic) for a in acks] == [
        ("001", "1"),
        ("001", "2"),
        ("002", "1"),
    ]
    assert [a.seq for a in acks] == sorted(a.seq for a in acks)
    assert seen == ["COMMIT"]  # one durable commit for the three
    assert writer.groups == [3]
    assert measured(service) == [("001", "1", "10.01"), ("001", "2", BORE), ("002", "1", "9.99")]
    assert service.store.verify().ok


def test_a_refused_measurement_in_the_middle_leaves_the_others_recorded(service, writer):
    session = session_of(service)
    disk = hold(writer)
    futures = queue(
        writer,
        session,
        [
            capture("001", "1", "10.01"),
            capture("001", "1", "10.02"),  # a second value without a reason: refused in the tx
            capture("001", "2", "five"),  # not a number: refused before the tx
            capture("001", "2", BORE),
        ],
    )
    seen = commits(service)
    disk.set()
    first, again, garbage, bore = (outcome(f) for f in futures)
    assert isinstance(first, MeasurementAck) and isinstance(bore, MeasurementAck)
    assert isinstance(again, RecordingError) and "give a reason" in again.message
    assert isinstance(garbage, ReadingError)
    assert seen == ["COMMIT"]
    assert measured(service) == [("001", "1", "10.01"), ("001", "2", BORE)]
    assert service.store.verify().ok


def test_a_job_between_measurements_keeps_its_place(service, writer):
    session = session_of(service)
    disk = hold(writer)
    before = queue(writer, session, [capture("001", "1", "10.01")])
    count = writer.submit(lambda: len(measured(service)))  # e.g. closing the part
    after = queue(writer, session, [capture("001", "2", BORE)])
    disk.set()
    assert [isinstance(outcome(f), MeasurementAck) for f in before + after] == [True, True]
    assert count.result(timeout=60) == 1  # it saw the reading before it, not the one after
    assert writer.groups == [1, 1]


def test_a_lone_measurement_commits_at_once_as_a_group_of_one(service, writer):
    session = session_of(service)
    seen = commits(service)
    (future,) = queue(writer, session, [capture("001", "1", "10.01")])
    assert isinstance(outcome(future), MeasurementAck)
    assert seen == ["COMMIT"] and writer.groups == [1]


def test_a_group_that_fails_as_a_whole_acknowledges_nothing(service, writer):
    session = session_of(service)
    undone: list[str] = []
    writes = []
    for c in [capture("001", "1", "10.01"), capture("001", "2", BORE)]:
        write = session.grouped(c)
        writes.append(GroupedWrite(write.request, lambda c=c: undone.append(c.characteristic)))

    def broken(tx, record) -> None:
        raise OSError("disk I/O error")

    last = writes[-1]
    writes[-1] = GroupedWrite(
        type(last.request)(**{**last.request.__dict__, "after": broken}), last.undo
    )
    disk = hold(writer)
    futures = [writer.submit_measurement(w) for w in writes]
    disk.set()
    errors = [outcome(f) for f in futures]
    assert all(isinstance(e, OSError) for e in errors)
    assert not isinstance(errors[0], InspectStationError)
    assert undone == ["1", "2"]  # the chart the first one fed is forgotten too
    assert measured(service) == []
    assert service.store.verify().ok


def test_an_alarm_inside_a_group_holds_the_next_part_of_the_group(service, writer):
    session = session_of(service)
    measure_parts(session, BASELINE)
    locked(service)
    session.spc.load()
    disk = hold(writer)
    futures = queue(
        writer,
        session,
        [
            capture("011", "1", "10.20"),  # beyond the UCL: an alarm, part 011 held
            capture("011", "2", BORE),  # the same part goes on
            capture("012", "1", "10.00"),  # a new part waits for the alarm's answer
        ],
    )
    disk.set()
    alarmed, bore, held = (outcome(f) for f in futures)
    assert isinstance(alarmed, MeasurementAck) and isinstance(bore, MeasurementAck)
    assert isinstance(held, SpcHold) and "before the next part" in held.message
    alarm = session.spc.outcome(alarmed.uuid)
    assert alarm is not None and alarm.rules == ("1",)
    assert [s for s, _, _ in measured(service)][-2:] == ["011", "011"]
    assert service.store.query("SELECT serial FROM measurements WHERE serial = '012'") == []
    assert service.store.verify().ok


def test_a_full_backlog_refuses_the_next_measurement_at_once_and_keeps_the_rest(service):
    writer = StationWriter(service.recorder, backlog=2)
    try:
        session = session_of(service)
        disk = hold(writer)
        futures = queue(
            writer,
            session,
            [capture("001", "1", "10.01"), capture("001", "2", BORE), capture("002", "1", "9.99")],
        )
        refused = futures[2]
        assert refused.done()  # told at once, while the disk is still stalled
        error = refused.exception()
        assert isinstance(error, RecordingBacklog) and "send this one again" in error.message
        disk.set()
        assert all(isinstance(outcome(f), MeasurementAck) for f in futures[:2])
        again = queue(writer, session, [capture("002", "1", "9.99")])  # room again
        assert isinstance(outcome(again[0]), MeasurementAck)
    finally:
        writer.shutdown()
    assert measured(service) == [("001", "1", "10.01"), ("001", "2", BORE), ("002", "1", "9.99")]
