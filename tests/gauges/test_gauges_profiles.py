"""Profiles: every shipped one loads, and every way of getting one wrong names file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from gaugekit import DATA, SHIPPED, SHIPPED_NAMES, shipped

from inspect_station.gauges import (
    DeviceError,
    ProfileError,
    Reading,
    check_profiles,
    load_profile,
    parse_profile,
)

BAD_FILES = sorted(DATA.glob("*.toml"))
REQUIRED_FAMILIES = {
    "mitutoyo-ascii",
    "mitutoyo-usb-itn",
    "mitutoyo-mux",
    "sylvac-duplex",
    "sylvac-simplex",
    "mahr-millimar",
    "mahr-c1202",
    "generic-ascii",
}


def test_the_issue_s_device_families_are_all_shipped():
    assert set(SHIPPED_NAMES) >= REQUIRED_FAMILIES
    assert {"adept-mux", "metro-mux"} & set(SHIPPED_NAMES)


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_every_shipped_profile_loads_and_its_simulator_round_trips(name):
    profile = shipped(name)
    assert profile.name == name
    assert profile.format == 1
    for value in profile.simulate.values:
        for channel in profile.simulate.channels:
            reading = profile.decode(profile.encode(value, channel=channel))
            assert isinstance(reading, Reading)
    if profile.simulate.error is not None:
        frame = profile.simulate.error.encode() + profile.terminator
        assert isinstance(profile.decode(frame), DeviceError)
    if profile.protocol.mode == "poll" and profile.protocol.request_by == "bytes":
        assert profile.protocol.request_bytes(profile.simulate.channels[0])


def test_check_profiles_passes_the_shipped_folder():
    checked, problems = check_profiles(SHIPPED)
    assert problems == []
    assert checked == len(SHIPPED_NAMES)


def test_profile_facts_from_the_reference_are_in_the_profiles():
    sylvac = shipped("sylvac-duplex")
    assert sylvac.serial.describe() == "4800 7E2"
    assert (sylvac.serial.dtr, sylvac.serial.rts) == (True, False)
    assert sylvac.protocol.request == "?\r" and sylvac.protocol.echo
    simplex = shipped("sylvac-simplex")
    assert simplex.protocol.request_by == "dtr-pulse"
    assert simplex.protocol.dtr_pulse_ms >= 110
    assert (simplex.serial.dtr, simplex.serial.rts) == (True, True)
    assert shipped("mitutoyo-ascii").terminator == b"\r"  # CR only: CR LF would merge frames
    assert shipped("mahr-millimar").terminator == b"\r\n"
    assert shipped("mitutoyo-uwave").serial.baudrate == 57600
    assert shipped("mahr-c1202").protocol.request_bytes(2) == b"M2?\r"
    assert shipped("adept-mux").protocol.request_bytes(3) == b"3"


def _expectation(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path} lacks its '# expect:' line"
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_a_bad_profile_is_refused_naming_file_line_and_key(path):
    expected = _expectation(path)
    with pytest.raises(ProfileError) as caught:
        parse_profile(path)
    problem = caught.value.problems[0]
    line, _, rest = expected.partition(": ")
    prefix = f"{path}:{line}: " if line else f"{path}: "
    assert problem.startswith(prefix), problem
    assert rest in problem, problem
    assert str(caught.value) == problem


def test_check_profiles_reports_every_bad_file():
    checked, problems = check_profiles([DATA])
    assert checked == len(BAD_FILES)
    assert {p.split(":", 1)[0] for p in problems} == {str(p) for p in BAD_FILES}


def test_load_profile_by_name_searches_folders_in_order(tmp_path):
    override = tmp_path / "mitutoyo-ascii.toml"
    text = (
        (SHIPPED[0] / "mitutoyo-ascii.toml")
        .read_text()
        .replace("double_press_window = 0.3", "double_press_window = 0.1")
    )
    override.write_text(text)
    profile = load_profile("mitutoyo-ascii", [tmp_path, *SHIPPED])
    assert profile.source == override
    assert str(profile.protocol.double_press_window) == "0.1"


def test_load_profile_accepts_a_file_path():
    profile = load_profile(str(SHIPPED[0] / "sylvac-duplex.toml"), [])
    assert profile.name == "sylvac-duplex"


def test_an_unknown_profile_is_one_sentence_listing_the_known_ones():
    with pytest.raises(ProfileError, match=r"There is no gauge profile 'nope' \(known: adept-mux"):
        load_profile("nope", SHIPPED)
