"""Reader behaviour beyond one gauge: routing, calibration lockout, polling, outages, robustness."""

from __future__ import annotations

import datetime as dt
import queue
import threading

import pytest
from gaugekit import FAST, EventLog, make_asset, quick, shipped

from inspect_station.errors import CalibrationExpired, GaugeError
from inspect_station.gauges import (
    ConnectedEvent,
    DisconnectedEvent,
    ErrorEvent,
    ErrorKind,
    GaugeReader,
    ReadingEvent,
    UnroutedChannel,
    simulator_for,
)
from inspect_station.gauges.errors import PortOpenError

TODAY = dt.date(2026, 6, 1)


def test_multiplexer_channels_reach_their_assets_and_unknown_channels_are_refused(
    start_sim, start_reader, events
):
    sim = start_sim(shipped("mitutoyo-mux"))
    assets = [
        make_asset("CAL-1", "mitutoyo-mux", sim.port, channel=1),
        make_asset("MIC-2", "mitutoyo-mux", sim.port, channel=2, unit="in"),
    ]
    start_reader(sim.port, shipped("mitutoyo-mux"), assets)
    events.expect(ConnectedEvent)
    sim.press("12.345", channel=2)
    reading = events.expect(ReadingEvent)
    assert (reading.asset, reading.value, reading.unit) == ("MIC-2", "12.345", "in")
    assert reading.trace == assets[1].trace()
    sim.press("0.5", channel=3)
    refused = events.expect(ErrorEvent)
    assert refused.kind is ErrorKind.UNROUTED
    assert isinstance(refused.error, UnroutedChannel)
    assert "channel 3" in refused.reason and refused.asset is None
    sim.press("1.0", channel=1)
    assert events.expect(ReadingEvent).asset == "CAL-1"


def test_an_overdue_asset_cannot_feed_a_reading(start_sim, start_reader, events):
    sim = start_sim(shipped("mitutoyo-mux"))
    ok = make_asset("CAL-1", "mitutoyo-mux", sim.port, channel=1, due=TODAY)
    overdue = make_asset("CAL-2", "mitutoyo-mux", sim.port, channel=2, due=dt.date(2026, 5, 31))
    start_reader(sim.port, shipped("mitutoyo-mux"), [ok, overdue], today=lambda: TODAY)
    events.expect(ConnectedEvent)
    frame = sim.press("4.2", channel=2)
    refused = events.expect(ErrorEvent)
    assert refused.kind is ErrorKind.CALIBRATION
    assert isinstance(refused.error, CalibrationExpired)
    assert refused.asset == "CAL-2" and refused.raw == frame
    assert "2026-05-31" in refused.reason and "SN-CAL-2" in refused.reason
    sim.press("4.2", channel=1)  # due today: still usable
    assert events.expect(ReadingEvent).asset == "CAL-1"


def test_a_single_gauge_given_a_channel_its_protocol_lacks_still_gets_its_readings(
    start_sim, start_reader, events
):
    sim = start_sim(shipped("sylvac-duplex"))
    asset = make_asset("S1", "sylvac-duplex", sim.port, channel=1)
    start_reader(sim.port, shipped("sylvac-duplex"), [asset])
    events.expect(ConnectedEvent)
    sim.press("2.0")  # unsolicited: the frame names no channel
    assert events.expect(ReadingEvent).asset == "S1"


def test_periodic_polling_asks_every_channel(start_sim, start_reader, events):
    sim = start_sim(shipped("adept-mux"), channels=[1, 2])
    sim.set_value("1.5", channel=1)
    sim.set_value("2.5", channel=2)
    assets = [
        make_asset("A1", "adept-mux", sim.port, channel=1),
        make_asset("A2", "adept-mux", sim.port, channel=2),
    ]
    start_reader(sim.port, shipped("adept-mux"), assets, poll_interval=0.05)
    events.expect(ConnectedEvent)
    got = {(e.asset, e.value) for e in (events.expect(ReadingEvent) for _ in range(4))}
    assert got == {("A1", "1.5"), ("A2", "2.5")}
    assert sim.requests.get(timeout=1) == b"1"
    assert sim.requests.get(timeout=1) == b"2"


def test_request_asks_the_right_channel_of_a_feature_amplifier(start_sim, start_reader, events):
    sim = start_sim(shipped("mahr-c1202"))
    sim.set_value("0.0042", channel=2)
    assets = [
        make_asset("F1", "mahr-c1202", sim.port, channel=1),
        make_asset("F2", "mahr-c1202", sim.port, channel=2),
    ]
    reader = start_reader(sim.port, shipped("mahr-c1202"), assets)
    events.expect(ConnectedEvent)
    reader.request("F2")
    reading = events.expect(ReadingEvent)
    assert (reading.asset, reading.value, reading.reading.channel) == ("F2", "0.0042", 2)
    assert sim.requests.get(timeout=1) == b"M2?\r"


def test_a_push_gauge_cannot_be_asked(start_sim, start_reader, events):
    sim = start_sim(shipped("mitutoyo-ascii"))
    reader = start_reader(sim.port, shipped("mitutoyo-ascii"), [])
    assert not reader.can_request
    with pytest.raises(GaugeError, match="push gauge: press the DATA key"):
        reader.request()


def test_a_push_gauge_cannot_be_polled_periodically():
    with pytest.raises(GaugeError, match="push gauge; it sends by itself and cannot be polled"):
        GaugeReader("/dev/x", shipped("mitutoyo-ascii"), poll_interval=1.0)


def test_request_for_an_asset_on_another_port_is_refused(start_sim, start_reader, events):
    sim = start_sim(shipped("sylvac-duplex"))
    asset = make_asset("S1", "sylvac-duplex", sim.port)
    reader = start_reader(sim.port, shipped("sylvac-duplex"), [asset])
    events.expect(ConnectedEvent)
    with pytest.raises(GaugeError, match="not on port"):
        reader.request("OTHER")


def test_assets_sharing_a_port_need_a_protocol_with_channels():
    profile = shipped("sylvac-duplex")
    a = make_asset("S1", "sylvac-duplex", "/dev/x")
    b = make_asset("S2", "sylvac-duplex", "/dev/x")
    with pytest.raises(GaugeError, match="cannot tell their readings apart"):
        GaugeReader("/dev/x", profile, [a, b])
    mux = shipped("mitutoyo-mux")
    one = make_asset("M1", "mitutoyo-mux", "/dev/x", channel=1)
    also_one = make_asset("M2", "mitutoyo-mux", "/dev/x", channel=1)
    with pytest.raises(GaugeError, match="both use channel 1"):
        GaugeReader("/dev/x", mux, [one, also_one])
    with pytest.raises(GaugeError, match="needs a channel"):
        GaugeReader("/dev/x", mux, [one, make_asset("M3", "mitutoyo-mux", "/dev/x")])


def test_a_gauge_plugged_in_after_start_is_found(tmp_path, start_reader, events):
    link = tmp_path / "by-id" / "gauge"
    profile = shipped("mitutoyo-ascii")
    start_reader(str(link), profile, [])
    gone = events.expect(DisconnectedEvent)
    assert "no such device" in gone.reason
    events.quiet(0.15)  # retried several times meanwhile, reported once
    with simulator_for(profile, link=link) as sim:
        assert events.expect(ConnectedEvent).device == sim.device
        sim.press("0.001")
        assert events.expect(ReadingEvent).value == "0.001"


def test_asking_a_gauge_that_is_not_connected_is_one_sentence(tmp_path, start_reader, events):
    profile = shipped("sylvac-duplex")
    port = str(tmp_path / "absent")
    reader = start_reader(port, profile, [make_asset("S1", "sylvac-duplex", port)])
    events.expect(DisconnectedEvent)
    with pytest.raises(GaugeError, match=r"^S1 on port .* is not connected, so it cannot"):
        reader.request("S1")


def test_require_port_raises_when_the_port_cannot_be_opened(tmp_path):
    reader = GaugeReader(str(tmp_path / "missing"), shipped("mitutoyo-ascii"), backoff=FAST)
    with pytest.raises(PortOpenError, match="no such device"):
        reader.start(require_port=True)
    reader.close()


def test_a_failing_callback_does_not_stop_the_reader(start_sim):
    sim = start_sim(shipped("mitutoyo-ascii"))
    seen: queue.Queue = queue.Queue()

    def broken(event):
        seen.put(event)
        raise RuntimeError("consumer bug")

    with GaugeReader(sim.port, shipped("mitutoyo-ascii"), on_event=broken, backoff=FAST):
        assert isinstance(seen.get(timeout=5), ConnectedEvent)
        sim.press("1.0")
        assert seen.get(timeout=5).value == "1.0"
        sim.press("2.0")
        assert seen.get(timeout=5).value == "2.0"


def test_raw_traffic_is_a_bounded_ring_of_the_latest(start_sim, start_reader, events):
    profile = quick(shipped("mitutoyo-ascii"), double_press_window=0)
    sim = start_sim(profile)
    reader = start_reader(sim.port, profile, [], traffic_size=5)
    events.expect(ConnectedEvent)
    for i in range(10):
        sim.press(f"0.00{i}")
        events.expect(ReadingEvent)
    traffic = reader.traffic()
    assert len(traffic) == 5
    assert [t.data for t in traffic] == [profile.encode(f"0.00{i}") for i in range(5, 10)]
    assert all(t.direction == "rx" and t.note == "reading" for t in traffic)


def test_an_overlong_run_of_noise_is_dropped_and_the_reader_recovers(start_sim, start_reader):
    events = EventLog()
    profile = quick(shipped("mitutoyo-ascii"))
    sim = start_sim(profile)
    start_reader(sim.port, profile, [], events=events.queue)
    events.expect(ConnectedEvent)
    sim.send_raw(b"\x55" * 1000)
    error = events.expect(ErrorEvent)
    assert error.kind is ErrorKind.FRAME and "without a frame's end" in error.reason
    events.quiet(0.3)  # silence: the rest of the noise is waited out, no second report
    # The run never ended: up to the next terminator everything belongs to it.
    rest = sim.press("1.5")
    broken = events.expect(ErrorEvent)
    assert broken.kind is ErrorKind.FRAME and broken.raw == rest
    sim.press("1.625")
    assert events.expect(ReadingEvent).value == "1.625"


def test_close_stops_the_thread_promptly(start_sim):
    sim = start_sim(shipped("sylvac-duplex"))
    reader = GaugeReader(sim.port, shipped("sylvac-duplex"), backoff=FAST)
    reader.start()
    reader.close(timeout=2)
    assert reader.state == "stopped"
    assert not [t for t in threading.enumerate() if t.name == f"gauge-reader {sim.port}"]
