"""Every shipped profile end to end through a real pseudo-terminal: simulator <-> reader."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from gaugekit import SHIPPED_NAMES, make_asset, quick, shipped

from inspect_station.gauges import (
    ConnectedEvent,
    DeviceError,
    DisconnectedEvent,
    ErrorEvent,
    ErrorKind,
    FrameError,
    GaugeTimeout,
    ReadingEvent,
)

PUSHES = [
    n for n in SHIPPED_NAMES if shipped(n).protocol.mode == "push" or shipped(n).protocol.data_key
]
POLLS = [
    n
    for n in SHIPPED_NAMES
    if shipped(n).protocol.mode == "poll" and shipped(n).protocol.request_by == "bytes"
]
WITH_ERRORS = [n for n in SHIPPED_NAMES if shipped(n).simulate.error and n != "sylvac-simplex"]


class Bench:
    """A simulated gauge of one profile wired to a reader with one asset per channel."""

    def __init__(self, name, start_sim, start_reader, events, **protocol):
        self.profile = quick(shipped(name), **protocol)
        self.sim = start_sim(self.profile)
        channels = self.sim.channels
        if len(channels) > 1:
            self.assets = [make_asset(f"G-{c}", name, self.sim.port, channel=c) for c in channels]
        else:
            self.assets = [make_asset("G-1", name, self.sim.port)]
        self.events = events
        self.reader = start_reader(self.sim.port, self.profile, self.assets)
        connected = events.expect(ConnectedEvent)
        assert connected.device == self.sim.device
        assert connected.assets == tuple(a.asset for a in self.assets)

    @property
    def pushes(self) -> bool:
        proto = self.profile.protocol
        return proto.mode == "push" or proto.request_by == "dtr-pulse"

    def asset_of(self, channel):
        if len(self.assets) == 1:
            return self.assets[0].asset
        return next(a.asset for a in self.assets if a.channel == channel)

    def obtain(self, value, channel=None):
        """Make the gauge produce ``value`` the way its protocol does; the expected frame."""
        channel = channel if channel is not None else self.sim.channels[0]
        if self.pushes:
            frame = self.sim.press(value, channel=channel)
            assert frame is not None
            return frame
        self.sim.set_value(value, channel=channel)
        self.reader.request(self.asset_of(channel))
        return self.profile.encode(value, channel=channel)

    def expect_reading(self, value, channel=None):
        channel = channel if channel is not None else self.sim.channels[0]
        event = self.events.expect(ReadingEvent)
        assert event.asset == self.asset_of(channel)
        assert event.reading.decimal == Decimal(value)
        return event


@pytest.fixture
def bench(request, start_sim, start_reader, events):
    """Build a Bench for the profile named by the test's parameter."""

    def build(name, **protocol):
        return Bench(name, start_sim, start_reader, events, **protocol)

    return build


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_readings_arrive_with_value_unit_channel_raw_and_time(bench, name):
    b = bench(name)
    for channel in b.sim.channels:
        for value in b.profile.simulate.values:
            before = dt.datetime.now(dt.UTC)
            frame = b.obtain(value, channel)
            event = b.expect_reading(value, channel)
            assert event.raw == frame
            assert event.reading.value == shipped(name).decode(frame).value
            assert event.unit == "mm"  # from the frame where it has one, else from the asset
            assert before <= event.received_at <= dt.datetime.now(dt.UTC)
            assert event.trace["asset"] == event.asset
            if b.profile.channels:
                assert event.reading.channel == channel


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_unplug_is_reported_and_replug_reconnects_without_a_phantom_reading(bench, name):
    b = bench(name)
    b.obtain("1.250")
    b.expect_reading("1.250")
    b.sim.send_raw(b.profile.encode("9.999")[:5])  # half a frame on the line as it is pulled
    b.sim.unplug()
    while not isinstance(gone := b.events.next(), DisconnectedEvent):
        assert isinstance(gone, ErrorEvent) and gone.kind is ErrorKind.FRAME, gone
    assert "went away" in gone.reason
    assert b.reader.state == "disconnected"
    b.sim.replug()
    back = b.events.expect(ConnectedEvent)
    assert back.device == b.sim.device
    # Whatever the replugged device sent first (power-on identification, line noise) must
    # not become a reading: the next event is the value obtained now.
    b.obtain("2.500")
    b.expect_reading("2.500")


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_garbage_is_an_error_then_the_reader_resyncs_on_the_terminator(bench, name):
    b = bench(name)
    noise = b"\x00\xff#~q" + b.profile.terminator
    if b.pushes:
        b.sim.send_raw(noise)
    else:
        b.sim.send_garbage(noise)  # the answer to the next request
        b.reader.request(b.asset_of(b.sim.channels[0]))
    error = b.events.expect(ErrorEvent)
    assert error.kind is ErrorKind.FRAME
    assert isinstance(error.error, FrameError)
    assert error.raw.startswith(b"\x00\xff#~q")
    b.obtain("3.125")
    b.expect_reading("3.125")


@pytest.mark.parametrize("name", PUSHES)
def test_a_partial_frame_is_broken_up_to_its_terminator_then_frames_are_clean(bench, name):
    b = bench(name)
    b.sim.send_raw(b"01A+00")
    error = b.events.expect(ErrorEvent)
    assert error.kind is ErrorKind.FRAME
    assert "no terminator" in error.reason and error.raw == b"01A+00"
    # Everything up to the next terminator belongs to the broken frame, even if it looks
    # like a whole frame: the station cannot tell, so it is reported and never read.
    rest = b.sim.press("4.5")
    broken = b.events.expect(ErrorEvent)
    assert broken.kind is ErrorKind.FRAME and broken.raw == rest
    assert "rest of a frame broken by a silence" in broken.reason
    b.sim.press("4.625")
    b.expect_reading("4.625")


@pytest.mark.parametrize("name", POLLS)
def test_a_silent_gauge_times_out_and_answers_again_later(bench, name):
    b = bench(name)
    b.sim.set_silent(True)
    asset = b.asset_of(b.sim.channels[0])
    b.reader.request(asset)
    error = b.events.expect(ErrorEvent)
    assert error.kind is ErrorKind.TIMEOUT
    assert isinstance(error.error, GaugeTimeout)
    assert error.asset == asset
    assert error.reason == f"{asset} did not answer within 0.2 s."
    b.sim.set_silent(False)
    b.obtain("5.75")
    b.expect_reading("5.75")


@pytest.mark.parametrize("name", WITH_ERRORS)
def test_device_error_frames_are_errors_with_code_and_meaning(bench, name):
    b = bench(name)
    frame = b.sim.send_error()
    if not b.pushes:
        b.reader.request(b.asset_of(b.sim.channels[0]))
    error = b.events.expect(ErrorEvent)
    expected = shipped(name).decode(frame)
    assert isinstance(expected, DeviceError)
    assert error.kind is ErrorKind.DEVICE
    assert (error.code, error.meaning, error.raw) == (expected.code, expected.meaning, frame)
    if len(b.assets) == 1:
        assert error.asset == b.assets[0].asset
    b.obtain("6.0")
    b.expect_reading("6.0")


@pytest.mark.parametrize("name", PUSHES)
def test_a_double_press_is_dropped(bench, name):
    b = bench(name)
    b.sim.press("7.125")
    b.sim.press("7.125")
    b.expect_reading("7.125")
    b.sim.press("7.250")
    b.expect_reading("7.250")  # the duplicate never came out
    notes = [entry.note for entry in b.reader.traffic()]
    assert "double press dropped" in notes


def test_the_same_value_again_after_the_window_is_a_new_reading(bench):
    b = bench("mitutoyo-ascii", double_press_window=Decimal("0.05"))
    b.sim.press("7.125")
    b.expect_reading("7.125")
    b.events.quiet(0.1)  # longer than the window
    b.sim.press("7.125")
    b.expect_reading("7.125")


def test_an_echoing_instrument_s_echo_is_skipped(bench):
    b = bench("sylvac-duplex")
    b.obtain("8.125")
    b.expect_reading("8.125")
    traffic = [(e.direction, e.data, e.note) for e in b.reader.traffic()]
    assert ("tx", b"?\r", "") in traffic
    assert ("rx", b"?\r", "echo skipped") in traffic
    assert b.sim.requests.get(timeout=1) == b"?\r"


def test_a_burst_of_frames_is_seven_readings_not_one(bench):
    b = bench("mitutoyo-mux")
    frames = b"".join(b.profile.encode(f"1.00{i}", channel=1 + i % 3) for i in range(7))
    b.sim.send_raw(frames)
    values = [b.events.expect(ReadingEvent).value for _ in range(7)]
    assert values == [f"1.00{i}" for i in range(7)]
