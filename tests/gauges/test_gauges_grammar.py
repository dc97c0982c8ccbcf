"""Frames are read by the one number grammar: no digits of other scripts, no exponent unless
the profile declares one, at most 30 digits."""

from __future__ import annotations

from pathlib import Path

import pytest
from gaugekit import SHIPPED_NAMES, shipped

from inspect_station.gauges import FrameError, Reading, parse_profile

LASER = """format = 1
description = "a laser gauge that sends an exponent"
[protocol]
mode = "push"
terminator = "\\r"
[frame]
codec = "pattern"
pattern = '(?P<value>[+\\-0-9.eE]+) ?(?P<unit>mm)?'
unit_from = "frame"
{exponent}
[simulate]
reading = "{{minus}}{{abs}} mm"
"""


def laser(tmp_path: Path, exponent: bool):
    path = tmp_path / "laser.toml"
    path.write_text(LASER.format(exponent="exponent = true" if exponent else ""))
    return parse_profile(path)


def test_an_exponent_is_read_only_where_the_profile_declares_one(tmp_path: Path):
    plain = laser(tmp_path, exponent=False).decode(b"1.2345E+01 mm\r")
    assert isinstance(plain, FrameError) and "exponent is not allowed" in plain.reason
    declared = laser(tmp_path, exponent=True)
    reading = declared.decode(b"1.2345E+01 mm\r")
    assert isinstance(reading, Reading)
    assert (reading.value, reading.unit) == ("12.345", "mm")  # written out, every digit kept
    assert declared.decode(b"-1.5e-3 mm\r").value == "-0.0015"
    for frame in (b"1e-40 mm\r", b"1e99999 mm\r", b"1e mm\r", b"1E+1E+1 mm\r"):
        assert isinstance(declared.decode(frame), FrameError), frame


def test_a_pattern_written_with_backslash_d_never_reads_other_scripts(tmp_path: Path):
    path = tmp_path / "loose.toml"
    path.write_text(LASER.format(exponent="").replace("[+\\\\-0-9.eE]+", "[+\\\\-\\\\d.]+"))
    profile = parse_profile(path)
    assert isinstance(profile.decode(b"12.5 mm\r"), Reading)
    for digits in ("١٢.٥", "１２.５", "১২.৫"):
        decoded = profile.decode(digits.encode("utf-8") + b" mm\r")
        assert not isinstance(decoded, Reading), digits


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_no_shipped_profile_reads_more_than_30_digits(name):
    profile = shipped(name)
    frame = profile.encode("1" * 30)
    assert isinstance(profile.decode(frame), Reading | FrameError)
    too_long = frame.replace(b"1" * 30, b"1" * 31)
    assert not isinstance(profile.decode(too_long), Reading)
