"""DTR/RTS lines and serial settings, observed through a simulator serving RFC 2217.

A pseudo-terminal has no modem lines; an RFC 2217 connection carries them with the data, so
these tests see what the station does to the lines of a real cable.
"""

from __future__ import annotations

import pytest
from gaugekit import make_asset, shipped

from inspect_station.gauges import (
    ConnectedEvent,
    DisconnectedEvent,
    ErrorEvent,
    ErrorKind,
    LinesUnsupported,
    ReadingEvent,
)

# pyserial 3.5's RFC 2217 client calls Thread.setDaemon/setName, deprecated since Python 3.10.
pytestmark = [
    pytest.mark.filterwarnings("ignore:setDaemon:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:setName:DeprecationWarning"),
]


def test_duplex_cable_gets_dtr_on_rts_off_and_its_settings(start_sim, start_reader, events):
    sim = start_sim(shipped("sylvac-duplex"), rfc2217=0)
    reader = start_reader(sim.port, shipped("sylvac-duplex"), [])
    events.expect(ConnectedEvent)
    wanted = {"baudrate": 4800, "bytesize": 7, "parity": "E", "stopbits": 2}
    assert sim.line_state.settings() == wanted
    assert (sim.line_state.dtr, sim.line_state.rts) == (True, False)
    assert reader.settings["bytesize"] == 7
    sim.set_value("12.345")
    reader.request()
    assert events.expect(ReadingEvent).value == "12.345"


def test_simplex_cable_is_asked_by_a_dtr_pulse(start_sim, start_reader, events):
    profile = shipped("sylvac-simplex")
    sim = start_sim(profile, rfc2217=0)
    asset = make_asset("SYL-1", "sylvac-simplex", sim.port)
    reader = start_reader(sim.port, profile, [asset])
    events.expect(ConnectedEvent)
    assert (sim.line_state.dtr, sim.line_state.rts) == (True, True)
    sim.set_value("4.321")
    reader.request("SYL-1")
    reading = events.expect(ReadingEvent)
    assert (reading.asset, reading.value, reading.unit) == ("SYL-1", "4.321", "mm")
    assert sim.requests.get(timeout=1) == b"<DTR pulse>"
    dtr_levels = [dtr for dtr, _ in sim.lines]
    assert dtr_levels[-2:] == [False, True]  # dropped, then back on
    notes = [t.note for t in reader.traffic()]
    assert "DTR pulse 120 ms" in notes


def test_simplex_on_a_port_without_lines_says_so(start_sim, start_reader, events):
    profile = shipped("sylvac-simplex")
    sim = start_sim(profile)  # a pseudo-terminal
    asset = make_asset("SYL-1", "sylvac-simplex", sim.port)
    reader = start_reader(sim.port, profile, [asset])
    events.expect(ConnectedEvent)
    reader.request("SYL-1")
    error = events.expect(ErrorEvent)
    assert error.kind is ErrorKind.PORT and isinstance(error.error, LinesUnsupported)
    assert error.asset == "SYL-1"
    assert error.reason.endswith("cannot be asked for a value.")
    sim.press("4.5")  # the DATA key still works
    assert events.expect(ReadingEvent).value == "4.5"


def test_an_rfc2217_gauge_survives_its_server_going_away(start_sim, start_reader, events):
    profile = shipped("sylvac-simplex")
    sim = start_sim(profile, rfc2217=0)
    start_reader(sim.port, profile, [])
    events.expect(ConnectedEvent)
    sim.unplug()
    gone = events.expect(DisconnectedEvent)
    assert "went away" in gone.reason
    sim.replug()
    events.expect(ConnectedEvent)
    sim.press("1.25")
    assert events.expect(ReadingEvent).value == "1.25"
