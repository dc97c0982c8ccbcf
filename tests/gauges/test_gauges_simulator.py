"""The simulators themselves, seen from a plain pyserial port as a station would."""

from __future__ import annotations

import os

import pytest
import serial
from gaugekit import make_asset, shipped

from inspect_station.config import StationConfig
from inspect_station.errors import GaugeError
from inspect_station.gauges import PollSimulator, PushSimulator, SimulatorBank, simulator_for


def open_plain(path: str) -> serial.Serial:
    """The simulated port opened with bare pyserial."""
    return serial.Serial(path, 9600, timeout=2)


def test_the_port_is_a_stable_link_to_the_current_pty(tmp_path):
    link = tmp_path / "by-id" / "usb-Mitutoyo_USB-ITN-if00"
    with simulator_for(shipped("mitutoyo-ascii"), link=link) as sim:
        assert sim.port == str(link)
        first = sim.device
        assert os.readlink(link) == first and first.startswith("/dev/pts/")
        sim.unplug()
        assert not link.exists() and not link.is_symlink() and sim.device is None
        assert sim.press("1.0") is None  # nothing to send on: unplugged
        sim.replug()
        assert os.readlink(link) == sim.device
        with open_plain(sim.port) as port:
            sim.press("1.5")
            assert port.read_until(b"\r") == b"01A+000001.5\r"
    assert not link.is_symlink()


def test_a_simulator_without_a_link_makes_and_removes_its_own_directory():
    sim = simulator_for(shipped("generic-ascii")).start()
    folder = os.path.dirname(sim.port)
    assert os.path.basename(sim.port) == "generic-ascii"
    sim.close()
    assert not os.path.exists(folder)


def test_values_cycle_on_each_press():
    with simulator_for(shipped("mitutoyo-ascii"), values=["1", "2"]) as sim:
        assert isinstance(sim, PushSimulator)
        frames = [sim.press() for _ in range(3)]
        assert frames == [b"01A+00000001\r", b"01A+00000002\r", b"01A+00000001\r"]


def test_a_poll_simulator_answers_its_request_echoing_when_the_profile_says():
    with simulator_for(shipped("sylvac-duplex")) as sim, open_plain(sim.port) as port:
        assert isinstance(sim, PollSimulator)
        sim.set_value("-0.012")
        port.write(b"?\r")
        assert port.read_until(b"\r") == b"?\r"  # the echo
        assert port.read_until(b"\r") == b"-0.012\r"
        sim.send_error()
        port.write(b"?\r")
        assert port.read_until(b"\r") + port.read_until(b"\r") == b"?\rERR3\r"
        sim.set_silent(True)
        port.write(b"?\r")
        port.timeout = 0.2
        assert port.read(1) == b""
        assert [sim.requests.get(timeout=1) for _ in range(3)] == [b"?\r"] * 3


def test_a_channel_poll_simulator_answers_the_channel_asked():
    with simulator_for(shipped("adept-mux"), values=["1.25"]) as sim, open_plain(sim.port) as p:
        sim.set_value("3.5", channel=3)
        p.write(b"3")
        assert p.read_until(b"\r\n") == b"3 MW+000003.5 mm\r\n"
        p.write(b"1")
        assert p.read_until(b"\r\n") == b"1 MW+00001.25 mm\r\n"


def test_a_poll_only_gauge_s_data_key_changes_the_display_without_sending():
    with simulator_for(shipped("mahr-millimar")) as sim, open_plain(sim.port) as port:
        assert sim.press("2.5") is None
        port.write(b"?\r")
        assert port.read_until(b"\r\n") == b" 2.5 mm\r\n"


def test_errors_and_channels_the_profile_cannot_produce_are_refused():
    with simulator_for(shipped("mitutoyo-ascii")) as sim:
        with pytest.raises(GaugeError, match="describes no error frame"):
            sim.send_error()
        with pytest.raises(GaugeError, match="serves channels 1, not 4"):
            sim.press("1", channel=4)


def test_simulator_bank_simulates_every_port_of_a_configuration(tmp_path):
    config = StationConfig(
        gauge=[
            make_asset("A", "mitutoyo-mux", str(tmp_path / "mux"), channel=1),
            make_asset("B", "mitutoyo-mux", str(tmp_path / "mux"), channel=4),
            make_asset("C", "sylvac-duplex", str(tmp_path / "syl")),
        ]
    )
    with SimulatorBank(config) as bank:
        assert set(bank.simulators) == {str(tmp_path / "mux"), str(tmp_path / "syl")}
        assert bank.for_asset(config, "B").channels == [1, 4]
        assert os.readlink(tmp_path / "syl").startswith("/dev/pts/")
    assert not (tmp_path / "syl").is_symlink()


def test_simulator_bank_refuses_a_real_usb_port():
    config = StationConfig(gauge=[make_asset("A", "mitutoyo-ascii", "usb:0fe7:4001")])
    with pytest.raises(GaugeError, match="cannot be simulated"):
        SimulatorBank(config)


def test_a_followed_gauge_reads_what_it_is_put_on_after_a_value_set_by_hand():
    shown = iter(["0.021", "0.034"])
    with simulator_for(shipped("mahr-millimar")) as sim, open_plain(sim.port) as port:
        sim.follow(lambda channel: next(shown))
        sim.set_value("2.5")  # set by hand: answered first
        for expected in (b" 2.5 mm\r\n", b" 0.021 mm\r\n", b" 0.034 mm\r\n"):
            port.write(b"?\r")
            assert port.read_until(b"\r\n") == expected
        sim.follow(lambda channel: None)  # nothing to follow: the display stays
        port.write(b"?\r")
        assert port.read_until(b"\r\n") == b" 0.034 mm\r\n"


def test_a_followed_push_gauge_sends_what_it_is_put_on_when_data_is_pressed():
    with simulator_for(shipped("mitutoyo-ascii")) as sim:
        sim.follow(lambda channel: "120.03")
        assert sim.press() == b"01A+00120.03\r"
        assert sim.press("7") == b"01A+00000007\r"  # a value given with the press wins
