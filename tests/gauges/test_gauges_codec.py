"""Codecs on the real frames of reference/gauge-protocols.md, and the framer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from gaugekit import SHIPPED_NAMES, shipped

from inspect_station.gauges import (
    DeviceError,
    FrameError,
    Framer,
    Notice,
    Reading,
    ToleranceFlag,
    escape_bytes,
    normalize_value,
)

# (profile, frame, value, unit, channel, flag) from manuals and captures.
READINGS = [
    ("mitutoyo-ascii", b"01A+0000.123\r", "0.123", None, 1, None),
    ("mitutoyo-ascii", b"01A+0000.125\r", "0.125", None, 1, None),
    ("mitutoyo-ascii", b"01A+00.12345\r", "0.12345", None, 1, None),
    ("mitutoyo-ascii", b"01A+000.1234\r", "0.1234", None, 1, None),
    ("mitutoyo-ascii", b"01A-001.2340\r", "-1.2340", None, 1, None),
    ("mitutoyo-mux", b"03A+0012.345\r", "12.345", None, 3, None),
    ("mitutoyo-usb-itn", b"01A+0000.123\r", "0.123", None, 1, None),
    # Tolerated value fields of 7 and 9 characters.
    ("mitutoyo-ascii", b"01A+012.345\r", "12.345", None, 1, None),
    ("mitutoyo-ascii", b"01A+00012.345\r", "12.345", None, 1, None),
    ("mitutoyo-uwave", b"DT10000+00000011.88M\r", "11.88", "mm", 10000, None),
    ("mitutoyo-uwave", b"DT00001-0.5\r", "-0.5", None, 1, None),
    ("sylvac-duplex", b"+12.345\r", "12.345", None, None, None),
    ("sylvac-duplex", b"-12.345\r", "-12.345", None, None, None),
    ("sylvac-duplex", b" 12.345\r", "12.345", None, None, None),
    ("sylvac-duplex", b"+12.345 \r", "12.345", None, None, None),
    ("sylvac-duplex", b"+12.345<\r", "12.345", None, None, ToleranceFlag.BELOW),
    ("sylvac-duplex", b"+12.345=\r", "12.345", None, None, ToleranceFlag.WITHIN),
    ("sylvac-duplex", b"-0.020>\r", "-0.020", None, None, ToleranceFlag.ABOVE),
    ("sylvac-simplex", b"+4.250\r", "4.250", None, None, None),
    ("mahr-millimar", b" 12.345 mm\r\n", "12.345", "mm", None, None),
    ("mahr-millimar", b"-0.0042 in\r\n", "-0.0042", "in", None, None),
    ("mahr-millimar", b" 3.5 um\r\n", "3.5", "um", None, None),
    ("mahr-c1202", b"+0.0123\r", "0.0123", None, None, None),
    ("mahr-c1202", b"-0.0042>\r", "-0.0042", None, None, ToleranceFlag.ABOVE),
    ("adept-mux", b"1 MW+00013.67 mm\r\n", "13.67", "mm", 1, None),
    ("adept-mux", b"4 MW-00000.12 mm\r\n", "-0.12", "mm", 4, None),
    ("metro-mux", b"V2: mm     -00001.250000\r\n", "-1.250000", "mm", 2, None),
    ("generic-ascii", b".1455\r", "0.1455", None, None, None),
    ("generic-ascii", b"-.5725\r", "-0.5725", None, None, None),
    ("generic-ascii", b"12.5 mm\r", "12.5", "mm", None, None),
    ("generic-ascii", b"0.4998 in>\r", "0.4998", "in", None, ToleranceFlag.ABOVE),
    ("generic-ascii", b"+007\r", "7", None, None, None),
]


@pytest.mark.parametrize(("name", "frame", "value", "unit", "channel", "flag"), READINGS)
def test_reference_frames_decode_to_the_value_sent(name, frame, value, unit, channel, flag):
    result = shipped(name).decode(frame)
    assert result == Reading(value, unit, channel, flag, frame)
    assert result.decimal == Decimal(value)


def test_no_leading_zero_is_never_read_as_a_whole_number():
    reading = shipped("generic-ascii").decode(b".1455\r")
    assert isinstance(reading, Reading)
    assert reading.decimal == Decimal("0.1455")


def test_mitutoyo_channel_prefix_is_not_the_value():
    reading = shipped("mitutoyo-mux").decode(b"01A+0000.123\r")
    assert reading.decimal == Decimal("0.123")
    assert reading.channel == 1


def test_uwave_transmitter_id_is_the_channel_not_the_value():
    reading = shipped("mitutoyo-uwave").decode(b"DT10000+00000011.88M\r")
    assert reading.decimal == Decimal("11.88")
    assert reading.channel == 10000


# (profile, frame, code, meaning fragment)
DEVICE_ERRORS = [
    ("sylvac-duplex", b"ERR0\r", "ERR0", "sensor error"),
    ("sylvac-duplex", b"ERR1\r", "ERR1", "unknown command"),
    ("sylvac-duplex", b"ERR2\r", "ERR2", "parity"),
    ("sylvac-duplex", b"ERR3\r", "ERR3", "range exceeded"),
    ("sylvac-simplex", b"ERR3\r", "ERR3", "range exceeded"),
    ("mahr-c1202", b"ERR6\r", "ERR6", "deactivated"),
    ("mahr-c1202", b"ERR2\r", "ERR2", "amplifier error"),
    ("mahr-millimar", b"ERR1\r\n", "ERR1", "amplifier error"),
    ("mitutoyo-usb-itn", b"901\r", "01", "not documented"),
    ("generic-ascii", b"ERR12\r", "ERR12", "device error"),
    ("generic-ascii", b"E3\r", "E3", "device error"),
    ("generic-ascii", b"Error\r", "Error", "device error"),
    ("generic-ascii", b"ERROR 7\r", "7", "device error"),
]


@pytest.mark.parametrize(("name", "frame", "code", "meaning"), DEVICE_ERRORS)
def test_device_error_frames_are_errors_with_their_meaning(name, frame, code, meaning):
    result = shipped(name).decode(frame)
    assert isinstance(result, DeviceError)
    assert result.code == code
    assert meaning in result.meaning
    assert result.raw == frame
    assert code in str(result)


def test_err3_is_never_the_measurement_3():
    assert not isinstance(shipped("sylvac-duplex").decode(b"ERR3\r"), Reading)


# (profile, frame) that are status or identification, not readings
NOTICES = [
    ("sylvac-duplex", b"SY289.1\r"),
    ("sylvac-duplex", b"ID SY210A\r"),
    ("mitutoyo-uwave", b"ST10000 OK\r"),
    ("mitutoyo-uwave", b"TI12:00:00\r"),
    ("mitutoyo-usb-itn", b"1USB-ITN 2.0\r"),
    ("mahr-millimar", b"MAHR GMBH,C1208\r\n"),
    ("generic-ascii", b"\r"),
]


@pytest.mark.parametrize(("name", "frame"), NOTICES)
def test_status_frames_are_notices(name, frame):
    assert isinstance(shipped(name).decode(frame), Notice)


# (profile, frame) that are garbage: never a number
GARBAGE = [
    ("mitutoyo-ascii", b"01A+0000.1.3\r"),
    ("mitutoyo-ascii", b"01B+0000.123\r"),
    ("mitutoyo-ascii", b"11A+0000.123\r"),
    ("mitutoyo-ascii", b"0xA+0000.123\r"),
    ("mitutoyo-ascii", b"01A*0000.123\r"),
    ("mitutoyo-ascii", b"01A+00 0.123\r"),
    ("mitutoyo-ascii", b"01A+0000123\r"),  # shorter than the layout? 11 chars, no point: fine
    ("mitutoyo-ascii", b"01A+\r"),
    ("mitutoyo-ascii", b"01A+........\r"),
    ("mitutoyo-ascii", b"01A+0000.123456789\r"),
    ("mitutoyo-ascii", b"\x0001A+0000.123\r"),
    ("mitutoyo-uwave", b"DT1000+0.5\r"),
    ("mitutoyo-uwave", b"DT10000+0.5X\r"),
    ("sylvac-duplex", b"?\r"),
    ("sylvac-duplex", b"+12.3.45\r"),
    ("sylvac-duplex", b"++12.345\r"),
    ("sylvac-duplex", b"+12.345#\r"),
    ("sylvac-duplex", b"\xff\xfe\r"),
    ("mahr-millimar", b" 12.345 furlong\r\n"),
    ("mahr-millimar", b" 12.345\r\n"),
    ("mahr-millimar", b" 12.34  mm\r\n"),
    ("sylvac-duplex", b"+ 2.345\r"),
    ("generic-ascii", b"3. mm\r"),
    ("adept-mux", b"5 MW+00013.67 mm\r\n"),
    ("metro-mux", b"V2: mm\r\n"),
    ("generic-ascii", b"abc\r"),
    ("generic-ascii", b".\r"),
    ("generic-ascii", b"-\r"),
    ("generic-ascii", b"1e5\r"),
    ("generic-ascii", b"NaN\r"),
    ("generic-ascii", b"12,5\r"),
    ("generic-ascii", b"1\x07\r"),
]


@pytest.mark.parametrize(("name", "frame"), GARBAGE)
def test_garbage_is_a_frame_error_never_a_number(name, frame):
    result = shipped(name).decode(frame)
    if frame == b"01A+0000123\r":
        # A value field without a decimal point is a whole number; the layout allows it.
        assert result == Reading("123", None, 1, None, frame)
        return
    assert isinstance(result, FrameError), result
    assert result.raw == frame
    assert str(result).startswith("The gauge sent a malformed frame")


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_every_profile_rejects_an_empty_value(name):
    for frame in (b"+\r", b"-\r", b"+.\r", b"01A+\r"):
        assert not isinstance(shipped(name).decode(frame), Reading)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("+0000.123", "0.123"),
        ("-001.2340", "-1.2340"),
        (".1455", "0.1455"),
        ("-.5725", "-0.5725"),
        (" 12.345", "12.345"),
        ("0", "0"),
        ("-0.000", "-0.000"),
        ("00000011.88", "11.88"),
        ("+007", "7"),
    ],
)
def test_normalize_value_keeps_number_and_resolution(text, canonical):
    assert normalize_value(text) == canonical
    assert Decimal(canonical) == Decimal(text.replace(" ", ""))


@pytest.mark.parametrize(
    "text",
    [
        "",
        ".",
        "-",
        "+-1",
        "1.2.3",
        "1e5",
        "NaN",
        "Infinity",
        "1,5",
        "--1",
        "1 2",
        "٣",
        "12.",
        "+ 12",
    ],
)
def test_normalize_value_refuses_anything_but_a_plain_decimal(text):
    with pytest.raises(ValueError):
        normalize_value(text)


def test_framer_cuts_on_the_terminator_across_reads():
    framer = Framer(b"\r\n", max_frame=64)
    assert framer.feed(b" 12.3") == []
    assert framer.feed(b"45 mm\r") == []
    frames = framer.feed(b"\n 1.0 mm\r\n 2.0")
    assert [f.data for f in frames] == [b" 12.345 mm\r\n", b" 1.0 mm\r\n"]
    assert all(f.complete for f in frames)
    assert framer.pending == 4


def test_framer_splits_a_burst_of_frames():
    burst = b"".join(b"01A+0000.%03d\r" % i for i in range(7))
    frames = Framer(b"\r").feed(burst)
    assert len(frames) == 7


def test_framer_drops_an_overlong_run_and_resyncs_on_the_next_terminator():
    framer = Framer(b"\r", max_frame=16)
    out = framer.feed(b"x" * 40)
    assert len(out) == 1 and not out[0].complete
    assert framer.feed(b"yyyy\r") == []  # the tail of the garbage, dropped with its terminator
    frames = framer.feed(b"01A+0000.123\r")
    assert [f.data for f in frames] == [b"01A+0000.123\r"]


def test_framer_flush_returns_and_forgets_the_partial_frame():
    framer = Framer(b"\r")
    framer.feed(b"\x00\xffjunk")
    assert framer.flush() == b"\x00\xffjunk"
    assert [f.data for f in framer.feed(b"+1.0\r")] == [b"+1.0\r"]


def test_escape_bytes_is_printable_and_unambiguous():
    assert escape_bytes(b"01A+0000.123\r") == "01A+0000.123\\r"
    assert escape_bytes(b"\x00\xff\\\n\t") == "\\x00\\xff\\\\\\n\\t"
