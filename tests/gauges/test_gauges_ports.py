"""Port bindings, resolving USB identities (fabricated port lists), opening and lines."""

from __future__ import annotations

import os
import tty

import pytest
from gaugekit import shipped
from serial.tools.list_ports_common import ListPortInfo

from inspect_station.errors import GaugeError
from inspect_station.gauges import (
    AmbiguousPort,
    PortError,
    PortNotFound,
    parse_binding,
    resolve_port,
)
from inspect_station.gauges.errors import LinesUnsupported, PortOpenError
from inspect_station.gauges.ports import open_port


def port_info(device, vid=None, pid=None, serial=None, location=None) -> ListPortInfo:
    """A real pyserial ListPortInfo as comports() returns it, with the USB facts given."""
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.serial_number, info.location = vid, pid, serial, location
    return info


ITN = dict(vid=0x0FE7, pid=0x4001)
PROLIFIC = dict(vid=0x067B, pid=0x2303)


@pytest.mark.parametrize(
    ("text", "kind", "facts"),
    [
        ("/dev/ttyUSB0", "path", {}),
        ("COM3", "path", {}),
        ("/dev/serial/by-id/usb-FTDI_FT232R_A1234-if00-port0", "path", {}),
        ("socket://10.0.0.5:4001", "url", {}),
        ("rfc2217://bench3:2217", "url", {}),
        ("loop://", "url", {}),
        ("usb:0fe7:4001", "usb", {"vid": 0x0FE7, "pid": 0x4001, "serial_number": None}),
        ("usb:0FE7:4001:SN12345", "usb", {"serial_number": "SN12345"}),
        ("usb:067b:2303@1-1.4", "usb", {"location": "1-1.4", "serial_number": None}),
        ("usb:067b:2303:X9@1-1.4:1.0", "usb", {"serial_number": "X9", "location": "1-1.4:1.0"}),
    ],
)
def test_parse_binding_recognises_every_form(text, kind, facts):
    binding = parse_binding(text)
    assert binding.kind == kind
    assert str(binding) == text
    for key, value in facts.items():
        assert getattr(binding, key) == value


@pytest.mark.parametrize("text", ["usb:", "usb:0fe7", "usb:zz:4001", "usb:0fe7:4001:a:b", " "])
def test_a_malformed_binding_is_one_sentence(text):
    with pytest.raises(PortError) as caught:
        parse_binding(text)
    assert str(caught.value).endswith(".")


def test_paths_and_urls_resolve_to_themselves():
    ports = [port_info("/dev/ttyUSB0", **ITN)]
    assert resolve_port("/dev/ttyACM3", ports) == "/dev/ttyACM3"
    assert resolve_port("socket://host:4001", ports) == "socket://host:4001"


def test_usb_identity_follows_the_gauge_to_its_new_device_name():
    before = [port_info("/dev/ttyUSB0", **ITN, serial="SN12345", location="1-1.2")]
    after = [
        port_info("/dev/ttyUSB0", **PROLIFIC, location="1-1.3"),
        port_info("/dev/ttyUSB1", **ITN, serial="SN12345", location="1-1.4"),
    ]
    assert resolve_port("usb:0fe7:4001:SN12345", before) == "/dev/ttyUSB0"
    assert resolve_port("usb:0fe7:4001:SN12345", after) == "/dev/ttyUSB1"


def test_serial_number_tells_identical_adapters_apart():
    ports = [
        port_info("/dev/ttyUSB0", **ITN, serial="SN1"),
        port_info("/dev/ttyUSB1", **ITN, serial="sn2"),
    ]
    assert resolve_port("usb:0fe7:4001:SN2", ports) == "/dev/ttyUSB1"


def test_a_missing_usb_gauge_is_not_found():
    ports = [port_info("/dev/ttyUSB0", **ITN, serial="SN1")]
    with pytest.raises(PortNotFound, match=r"No USB serial adapter 0fe7:4001 with serial number"):
        resolve_port("usb:0fe7:4001:SN9", ports)
    with pytest.raises(PortNotFound):
        resolve_port("usb:067b:2303", ports)


def test_two_adapters_without_serial_numbers_are_reported_not_guessed():
    ports = [
        port_info("/dev/ttyUSB1", **PROLIFIC, location="1-1.4"),
        port_info("/dev/ttyUSB0", **PROLIFIC, location="1-1.2"),
    ]
    with pytest.raises(AmbiguousPort) as caught:
        resolve_port("usb:067b:2303", ports)
    message = str(caught.value)
    assert "/dev/ttyUSB0 (location 1-1.2) and /dev/ttyUSB1 (location 1-1.4)" in message
    assert "usb:067b:2303@1-1.2, usb:067b:2303@1-1.4" in message
    assert caught.value.candidates == ["/dev/ttyUSB0", "/dev/ttyUSB1"]


def test_the_usb_location_tells_them_apart_when_bound_to_it():
    ports = [
        port_info("/dev/ttyUSB1", **PROLIFIC, location="1-1.4"),
        port_info("/dev/ttyUSB0", **PROLIFIC, location="1-1.2"),
    ]
    assert resolve_port("usb:067b:2303@1-1.4", ports) == "/dev/ttyUSB1"
    with pytest.raises(PortNotFound, match=r"at USB location 1-1\.9"):
        resolve_port("usb:067b:2303@1-1.9", ports)


def test_identical_adapters_without_locations_are_still_reported():
    ports = [port_info("/dev/ttyUSB0", **PROLIFIC), port_info("/dev/ttyUSB1", **PROLIFIC)]
    with pytest.raises(AmbiguousPort, match="/dev/ttyUSB0 and /dev/ttyUSB1"):
        resolve_port("usb:067b:2303", ports)


def test_a_usb_binding_opens_the_device_it_resolves_to(tmp_path):
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        pts = os.ttyname(slave)
        ports = [port_info(pts, **ITN, serial="SN7")]
        port = open_port("usb:0fe7:4001:SN7", shipped("mitutoyo-ascii").serial, ports)
        try:
            os.write(master, b"01A+0000.123\r")
            data = b""
            while not data.endswith(b"\r"):
                data += port.read()
            assert data == b"01A+0000.123\r"
            assert port.device == pts
        finally:
            port.close()
    finally:
        os.close(master)
        os.close(slave)


def test_a_missing_device_path_is_one_sentence_and_a_gauge_error():
    with pytest.raises(PortOpenError) as caught:
        open_port("/dev/does-not-exist", shipped("mitutoyo-ascii").serial)
    assert isinstance(caught.value, GaugeError)
    assert str(caught.value) == (
        "Cannot open gauge port /dev/does-not-exist: no such device (is the gauge plugged in?)."
    )
    assert caught.value.absent


def test_a_refused_tcp_serial_server_is_one_sentence():
    with pytest.raises(PortOpenError, match=r"^Cannot open gauge port socket://127.0.0.1:1: "):
        open_port("socket://127.0.0.1:1", shipped("mitutoyo-ascii").serial)


def test_a_port_in_use_by_another_program_is_reported(tmp_path):
    master, slave = os.openpty()
    try:
        pts = os.ttyname(slave)
        first = open_port(pts, shipped("mitutoyo-ascii").serial)
        try:
            with pytest.raises(PortOpenError, match="in use by another program"):
                open_port(pts, shipped("mitutoyo-ascii").serial)
        finally:
            first.close()
    finally:
        os.close(master)
        os.close(slave)


def test_settings_are_applied_and_a_pty_without_lines_is_noted():
    master, slave = os.openpty()
    try:
        port = open_port(os.ttyname(slave), shipped("sylvac-duplex").serial)
        try:
            settings = port.settings
            assert (settings["baudrate"], settings["bytesize"]) == (4800, 7)
            assert (settings["parity"], settings["stopbits"]) == ("E", 2)
            assert port.lines_supported is False
            with pytest.raises(LinesUnsupported, match="has no modem control lines"):
                port.pulse_dtr(110)
        finally:
            port.close()
    finally:
        os.close(master)
        os.close(slave)


def test_loop_url_echoes_through_the_port_owner():
    port = open_port("loop://", shipped("sylvac-duplex").serial)
    try:
        port.write(b"?\r")
        assert port.read() + port.read() == b"?\r"
        port.set_lines(True, False)  # loop:// accepts line changes
        assert port.lines_supported
    finally:
        port.close()
