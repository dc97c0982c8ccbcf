"""GaugeHub over a station configuration: one reader per port, states, requests, lockout."""

from __future__ import annotations

import datetime as dt

import pytest
from gaugekit import FAST, EventLog, make_asset, shipped

from inspect_station.config import CalibrationStatus, StationConfig
from inspect_station.errors import ConfigError, GaugeError
from inspect_station.gauges import (
    ConnectedEvent,
    DisconnectedEvent,
    ErrorEvent,
    ErrorKind,
    GaugeHub,
    GaugeState,
    ProfileError,
    ReadingEvent,
    SimulatorBank,
)

TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def station(tmp_path) -> StationConfig:
    """A bench with a caliper, a Sylvac on a poll port, and two gauges on a multiplexer, one of
    them overdue and one due soon; every port a simulator link under tmp_path."""
    links = tmp_path / "gauges"
    return StationConfig(
        station="BENCH-T",
        calibration_warning_days=14,
        gauge=[
            make_asset("CAL-0042", "mitutoyo-ascii", str(links / "caliper")),
            make_asset("SYL-0007", "sylvac-duplex", str(links / "sylvac")),
            make_asset("MUX-1", "mitutoyo-mux", str(links / "mux"), channel=1),
            make_asset(
                "MUX-2", "mitutoyo-mux", str(links / "mux"), channel=2, due=dt.date(2026, 5, 1)
            ),
            make_asset("MUX-3", "mitutoyo-mux", str(links / "mux"), channel=3, due=TODAY),
        ],
    )


@pytest.fixture
def bank(station):
    """Simulators for every port of the station."""
    with SimulatorBank(station) as bank:
        yield bank


def connected(events: EventLog, count: int) -> set[str]:
    ports = set()
    for _ in range(count):
        ports.add(events.expect(ConnectedEvent).port)
    return ports


def test_one_reader_per_port_and_readings_routed_to_assets(station, bank):
    events = EventLog()
    with GaugeHub(station, events=events.queue, backoff=FAST, today=lambda: TODAY) as hub:
        assert len(hub.readers) == 3
        assert connected(events, 3) == {a.port for a in station.gauge}
        assert all(s.state is GaugeState.CONNECTED for s in hub.states())
        bank.for_asset(station, "MUX-1").press("5.5", channel=1)
        reading = events.expect(ReadingEvent)
        assert (reading.asset, reading.value, reading.unit) == ("MUX-1", "5.5", "mm")
        assert reading.trace == station.asset("MUX-1").trace()
        state = hub.state("MUX-1")
        assert state.last_reading == reading.reading
        assert state.last_reading_at == reading.received_at


def test_calibration_status_and_lockout_per_asset(station, bank):
    events = EventLog()
    with GaugeHub(station, events=events.queue, backoff=FAST, today=lambda: TODAY) as hub:
        connected(events, 3)
        assert hub.state("MUX-1").calibration is CalibrationStatus.OK
        assert hub.state("MUX-2").calibration is CalibrationStatus.OVERDUE
        assert hub.state("MUX-3").calibration is CalibrationStatus.DUE
        bank.for_asset(station, "MUX-2").press("1.0", channel=2)
        refused = events.expect(ErrorEvent)
        assert (refused.kind, refused.asset) == (ErrorKind.CALIBRATION, "MUX-2")
        assert hub.state("MUX-2").state is GaugeState.ERROR
        assert "cannot be used until it is recalibrated" in hub.state("MUX-2").reason
        assert hub.state("MUX-2").last_reading is None
        bank.for_asset(station, "MUX-3").press("1.0", channel=3)
        assert events.expect(ReadingEvent).asset == "MUX-3"


def test_request_polls_the_asset_and_a_timeout_marks_it_in_error(station, bank):
    events = EventLog()
    with GaugeHub(station, events=events.queue, backoff=FAST, today=lambda: TODAY) as hub:
        connected(events, 3)
        sim = bank.for_asset(station, "SYL-0007")
        assert hub.state("SYL-0007").can_request and not hub.state("CAL-0042").can_request
        sim.set_value("0.875")
        hub.request("SYL-0007")
        assert events.expect(ReadingEvent).value == "0.875"
        sim.set_silent(True)
        hub.request("SYL-0007")
        timeout = events.expect(ErrorEvent)
        assert timeout.kind is ErrorKind.TIMEOUT
        assert hub.state("SYL-0007").state is GaugeState.ERROR
        sim.set_silent(False)
        hub.request("SYL-0007")
        events.expect(ReadingEvent)
        assert hub.state("SYL-0007").state is GaugeState.CONNECTED
        assert [t.data for t in hub.traffic("SYL-0007") if t.direction == "tx"][-1] == b"?\r"


def test_unplugging_one_gauge_leaves_the_others_connected(station, bank):
    events = EventLog()
    calls = []
    with GaugeHub(
        station, events=events.queue, on_event=calls.append, backoff=FAST, today=lambda: TODAY
    ) as hub:
        connected(events, 3)
        bank.for_asset(station, "MUX-1").unplug()
        gone = events.expect(DisconnectedEvent)
        assert gone.assets == ("MUX-1", "MUX-2", "MUX-3")
        states = {s.asset: s.state for s in hub.states()}
        assert states == {
            "CAL-0042": GaugeState.CONNECTED,
            "SYL-0007": GaugeState.CONNECTED,
            "MUX-1": GaugeState.DISCONNECTED,
            "MUX-2": GaugeState.DISCONNECTED,
            "MUX-3": GaugeState.DISCONNECTED,
        }
        bank.for_asset(station, "MUX-1").replug()
        events.expect(ConnectedEvent)
        assert hub.state("MUX-1").state is GaugeState.CONNECTED
    assert len(calls) == 5  # the callback saw what the queue saw


def test_hub_refuses_unknown_assets_and_mixed_profiles_on_one_port(station, tmp_path):
    hub = GaugeHub(station)
    with pytest.raises(GaugeError, match="No gauge asset 'NOPE'"):
        hub.state("NOPE")
    mixed = StationConfig(
        gauge=[
            make_asset("A", "mitutoyo-mux", "/dev/x", channel=1),
            make_asset("B", "mitutoyo-uwave", "/dev/x", channel=2),
        ]
    )
    with pytest.raises(ConfigError, match="use different profiles"):
        GaugeHub(mixed)
    unknown = StationConfig(gauge=[make_asset("A", "no-such-profile", "/dev/x")])
    with pytest.raises(ProfileError, match="There is no gauge profile 'no-such-profile'"):
        GaugeHub(unknown)


def test_a_station_profile_folder_overrides_the_shipped_one(tmp_path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    text = shipped("mitutoyo-ascii").source.read_text()
    (folder / "mitutoyo-ascii.toml").write_text(text.replace("9600", "4800", 1))
    config = StationConfig(
        gauge_profiles=[folder], gauge=[make_asset("A", "mitutoyo-ascii", "/dev/x")]
    )
    hub = GaugeHub(config)
    assert hub.reader_for("A").profile.serial.baudrate == 4800
