"""A part session measures parts headless: gauges in, verdicts and records out, no screen."""

from __future__ import annotations

import datetime as dt
import queue
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from userkit import add_users

from inspect_station.config import CalibrationStatus
from inspect_station.demo import demo_config
from inspect_station.gauges.codec import Reading
from inspect_station.gauges.events import ConnectedEvent, GaugeEvent, ReadingEvent
from inspect_station.gauges.hub import AssetState, GaugeHub, GaugeState
from inspect_station.gauges.simulator import SimulatorBank
from inspect_station.measuring import (
    Capture,
    ManualPrompt,
    NeedsDefect,
    NeedsReason,
    Notice,
    NotRecorded,
    PartClosed,
    PartSession,
    Poll,
    PressData,
    Recorded,
)
from inspect_station.station import StationService
from inspect_station.wiring import build_service

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[StationService]:
    """The demo station's configuration (simulated ports, one overdue gauge) with the usual
    test users, built as the station command builds it."""
    (tmp_path / "ports").mkdir()
    service = build_service(demo_config(tmp_path, today=TODAY), today=TODAY)
    add_users(service.store)
    yield service
    service.store.close()


def session_for(
    service: StationService, part: str = "BRK-1042@C", lot: str = "L-1", gauges=None
) -> PartSession:
    """A session of ann's on a new lot of ``part``."""
    user = service.users.get("ann")
    spec = service.library.get(part)
    progress = service.start_lot(user, spec, lot, lot_size=50)
    return PartSession(service, user, spec, progress, gauges=gauges)


def reading(asset: str, value: str, unit: str | None = "mm") -> ReadingEvent:
    """What a reader delivers for a frame of ``asset`` carrying ``value``."""
    raw = f"01A+{value}\r".encode()
    at = dt.datetime.now(dt.UTC)
    return ReadingEvent(f"ports/{asset}", at, asset, Reading(value, unit, 1, None, raw))


def measurements(service: StationService) -> list[dict]:
    """The measurement rows of the record, in journal order."""
    return service.store.query(
        "SELECT uuid, serial, characteristic, value, source, gauge_asset, raw, supersedes, reason "
        "FROM measurements ORDER BY seq"
    )


@dataclass
class FakeGauges:
    """A hub whose gauges all answer polls; remembers what was asked."""

    asked: list[str] = field(default_factory=list)

    def state(self, asset_id: str) -> AssetState:
        return AssetState(
            asset_id, "port", "profile", GaugeState.CONNECTED, CalibrationStatus.OK, TODAY, True
        )

    def request(self, asset_id: str) -> None:
        self.asked.append(asset_id)


# -- from real (simulated) gauges ---------------------------------------------------------------


def next_reading(events: queue.Queue[GaugeEvent]) -> ReadingEvent:
    """The next reading the hub delivers (the wait only bounds how long a failure takes)."""
    while True:
        event = events.get(timeout=15)
        if isinstance(event, ReadingEvent):
            return event


def test_a_part_is_measured_from_its_gauges_and_closed_without_a_screen(service):
    config = service.config
    events: queue.Queue[GaugeEvent] = queue.Queue()
    with SimulatorBank(config) as bank, GaugeHub(config, events=events, today=lambda: TODAY) as hub:
        connected: set[str] = set()
        while len(connected) < len(config.gauge):
            event = events.get(timeout=15)
            if isinstance(event, ConnectedEvent):
                connected.update(event.assets)
        session = session_for(service, gauges=hub)
        session.open_part()
        assert (session.serial, session.ready) == ("001", True)

        bank.for_asset(config, "CAL-0042").press("120.02")  # the caliper pushes
        caliper = session.take(next_reading(events))
        assert isinstance(caliper, Recorded) and caliper.evaluation.passed
        assert session.live["CAL-0042"] == "120.02 mm"

        for asset, value in [("BG-0007", "12.008"), ("IND-0113", "0.012")]:  # polled
            bank.for_asset(config, asset).set_value(value)
            poll = session.poll()
            assert isinstance(poll, Poll) and poll.asset.asset == asset
            assert session.request(poll) is None
            outcome = session.take(next_reading(events))
            assert isinstance(outcome, Recorded) and outcome.value.value == value

        thread = session.judge("pass")
        assert isinstance(thread, Capture)
        last = session.record(thread)
        assert isinstance(last, Recorded) and last.complete

        closed = session.close_part()
        assert isinstance(closed, PartClosed) and closed.accepted
        assert closed.progress.inspected == 1
        assert (session.serial, session.values) == ("002", {})

    rows = measurements(service)
    assert [(r["characteristic"], r["source"], r["gauge_asset"]) for r in rows] == [
        ("1", "gauge", "CAL-0042"),
        ("2", "gauge", "BG-0007"),
        ("3", "gauge", "IND-0113"),
        ("4", "manual", None),
    ]
    assert rows[0]["raw"] == "01A+00120.02\r"  # the frame as the caliper sent it
    results = service.store.query("SELECT serial, result FROM results")
    assert results == [{"serial": "001", "result": "accept"}]
    assert service.store.verify().ok


# -- where a reading goes ----------------------------------------------------------------------


def test_a_reading_goes_to_the_open_characteristic_its_gauge_type_measures(service):
    session = session_for(service)
    session.open_part()
    session.move(2)  # #3, the indicator's
    outcome = session.take(reading("CAL-0042", "120.01"))
    assert isinstance(outcome, Recorded) and outcome.ack.characteristic == "1"
    assert session.active_char.id == "2"  # on to the next open characteristic


def test_a_reading_no_open_characteristic_needs_is_not_used(service):
    session = session_for(service)
    session.open_part()
    session.take(reading("CAL-0042", "120.01"))
    unused = session.take(reading("CAL-0042", "120.02"))  # #2 highlighted: a bore gauge's
    assert unused == Notice(
        "Reading from CAL-0042 not used: no open characteristic needs a caliper."
    )
    assert len(measurements(service)) == 1


def test_a_polled_answer_goes_to_the_characteristic_it_was_asked_for(service):
    gauges = FakeGauges()
    session = session_for(service, gauges=gauges)
    session.open_part()
    session.move(1)  # #2, bore gauge
    poll = session.poll()
    assert isinstance(poll, Poll) and session.request(poll) is None
    assert gauges.asked == ["BG-0007"]
    session.move(1)  # the inspector moves on to #3 before the answer comes
    outcome = session.take(reading("BG-0007", "12.008"))
    assert isinstance(outcome, Recorded) and outcome.ack.characteristic == "2"


def test_a_push_gauge_is_not_polled_and_an_attribute_has_no_gauge(service):
    session = session_for(service, gauges=None)
    session.open_part()
    assert session.poll() == PressData(service.config.asset("CAL-0042"))
    session.move(3)
    assert session.poll() == Notice("Attribute: P for pass, F for fail.")
    assert session.manual_entry() == Notice("Attribute: P for pass, F for fail.")


def test_readings_before_the_part_is_loaded_are_refused(service):
    session = session_for(service)
    refused = session.take(reading("CAL-0042", "120.01"))
    assert refused == Notice("CAL-0042: part not ready yet, press DATA again.", error=True)
    assert measurements(service) == []


# -- what the record refuses ----------------------------------------------------------------------


def test_an_implausible_reading_is_refused_and_its_characteristic_highlighted_again(service):
    session = session_for(service)
    session.open_part()
    refused = session.take(reading("CAL-0042", "12.005"))  # the bore's value on the length
    assert isinstance(refused, NotRecorded)
    assert refused.message.startswith("#1 not recorded:")
    assert "not a plausible reading" in refused.message
    assert (session.active, session.pending, session.values) == (0, set(), {})
    assert measurements(service) == []


def test_an_overdue_gauge_locks_its_characteristic(service):
    session = session_for(service, "SHF-220@A", gauges=FakeGauges())
    session.open_part()
    session.move(2)  # #3 keyway depth: the depth gauge, overdue
    depth = service.config.asset("DG-0301")
    assert session.locked(depth) and session.usable_asset(session.active_char) is None
    assert session.poll() == Notice(
        "No depth-gauge gauge locked (calibration overdue): M for manual entry.", error=True
    )
    prompt = session.manual_entry()
    assert isinstance(prompt, ManualPrompt)
    assert prompt.default_reason == "gauge locked: calibration overdue"
    refused = session.take(reading("DG-0301", "0.130", "in"))
    assert isinstance(refused, NotRecorded) and "recalibrated" in refused.message
    assert measurements(service) == []


# -- corrections -------------------------------------------------------------------------------


def test_a_second_value_for_a_characteristic_is_a_correction_with_a_reason(service):
    session = session_for(service)
    session.open_part()
    session.take(reading("CAL-0042", "120.01"))
    session.move(-1)
    question = session.take(reading("CAL-0042", "120.03"))
    assert isinstance(question, NeedsReason)
    assert question.message == "#1 already has a value: reason for the correction?"
    assert session.correct(question, None) == Notice(
        "#1: re-measure cancelled; the recorded value stands."
    )
    capture = session.correct(question, "caliper slipped")
    assert isinstance(capture, Capture)
    corrected = session.record(capture)
    assert isinstance(corrected, Recorded)
    value = session.values["1"]
    assert (value.value, value.reason) == ("120.03", "caliper slipped")
    first, second = measurements(service)
    assert second["supersedes"] == first["uuid"] and second["reason"] == "caliper slipped"
    assert value.supersedes == first["uuid"]


def test_a_typed_value_is_recorded_as_manual_with_its_unit_and_reason(service):
    session = session_for(service)
    session.open_part()
    capture = session.manual("1", "4.7283in", "gauge unplugged or not answering")
    assert isinstance(capture, Capture)
    outcome = session.record(capture)
    assert isinstance(outcome, Recorded)
    value = session.values["1"]
    assert (value.value, value.unit, value.spec_unit, value.value_in_spec_unit) == (
        "4.7283",
        "in",
        "mm",
        "120.09882",
    )
    assert value.manual and value.manual_reason == "gauge unplugged or not answering"


# -- closing a part -----------------------------------------------------------------------------


def measure_all(session: PartSession, values: dict[str, str]) -> None:
    """Type each characteristic's value (the attribute judged)."""
    for char, value in values.items():
        if char == "4":
            session.active = 3
            step = session.judge(value)
        else:
            step = session.manual(char, value, "test")
        assert isinstance(step, Capture)
        assert isinstance(session.record(step), Recorded)


def test_an_unfinished_part_cannot_be_closed(service):
    session = session_for(service)
    session.open_part()
    measure_all(session, {"1": "120.01"})
    assert session.close_part() == Notice("Not finished: #2, #3, #4 still open.", error=True)
    assert service.store.query("SELECT * FROM results") == []


def test_a_failing_part_is_rejected_with_a_defect_code_and_the_next_part_follows(service):
    session = session_for(service)
    session.open_part()
    measure_all(session, {"1": "120.31", "2": "12.005", "3": "0.02", "4": "pass"})
    question = session.close_part()
    assert isinstance(question, NeedsDefect)
    assert question.failed == ["1"] and "D01" in question.codes
    unknown = session.close_part("D77", "too long")
    assert unknown == Notice("Unknown defect code D77.", error=True)
    assert (session.serial, session.ready) == ("001", True)  # still in hand, still open
    closed = session.close_part(" D01 ", "too long")  # as a scanner may type it
    assert isinstance(closed, PartClosed) and not closed.accepted
    assert closed.progress.nonconforming == 1 and session.serial == "002"
    results = service.store.query("SELECT serial, result, failed, defect_code, note FROM results")
    assert results == [
        {
            "serial": "001",
            "result": "reject",
            "failed": '["1"]',
            "defect_code": "D01",
            "note": "too long",
        }
    ]


def test_a_resumed_part_goes_on_with_its_first_open_characteristic(service):
    first = session_for(service)
    first.open_part()
    first.take(reading("CAL-0042", "120.02"))
    # The station is restarted: the lot's part 001 is still open.
    user, spec = service.users.get("ann"), service.library.get("BRK-1042@C")
    resumed = PartSession(service, user, spec, service.lot_progress("L-1"))
    resumed.open_part()
    assert resumed.serial == "001" and list(resumed.values) == ["1"]
    assert resumed.values["1"]["value"] == "120.02" and resumed.values["1"]["verdict"] == "pass"
    assert resumed.active_char.id == "2"
