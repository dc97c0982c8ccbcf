"""Frame layouts are a registry: a gauge family no layout reads is one new layout, nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inspect_station.gauges import FrameError, Reading, parse_profile
from inspect_station.gauges.codec import (
    LAYOUTS,
    CodecSpec,
    FrameSettings,
    TextLayout,
    normalize_value,
    register_layout,
)
from inspect_station.gauges.errors import ProfileError
from inspect_station.gauges.layouts import layout_names


class KeyValueFrame(TextLayout):
    """A made-up family that sends ``V=+012.345;U=MM;C=2``: value, unit, channel by key."""

    name = "key-value"

    def check(self, frame: FrameSettings) -> str | None:
        return "the key-value frame has no pattern" if frame.pattern else None

    def has_channels(self, frame: FrameSettings) -> bool:
        return True

    def read(self, text: str, frame: bytes, spec: CodecSpec) -> Reading | FrameError:
        fields = dict(part.partition("=")[::2] for part in text.split(";"))
        try:
            value = normalize_value(fields.get("V", ""))
        except ValueError:
            return FrameError(f"no value in {text!r}", frame)
        unit = {"MM": "mm", "IN": "in"}.get(fields.get("U", ""))
        channel = int(fields["C"]) if fields.get("C", "").isdigit() else None
        return Reading(value, unit, channel, None, frame)


PROFILE = """format = 1
description = "key-value frames"
[protocol]
mode = "push"
terminator = "\\r"
[frame]
codec = "key-value"
unit_from = "frame"
[simulate]
reading = "V={sign}{abs};U=MM;C={channel}"
values = ["12.345", "-0.020"]
"""


@pytest.fixture
def key_value() -> Iterator[KeyValueFrame]:
    """The key-value layout registered for the test (as its module would on import)."""
    layout = KeyValueFrame()
    register_layout(layout)
    yield layout
    del LAYOUTS[layout.name]


def test_the_shipped_layouts_are_registered():
    assert {"mitutoyo", "pattern"} <= set(layout_names())


def test_a_new_family_is_one_registered_layout(tmp_path: Path, key_value):
    path = tmp_path / "key-value.toml"
    path.write_text(PROFILE)
    profile = parse_profile(path)  # the simulator's frames read back: the layout is used
    assert profile.channels
    reading = profile.decode(b"V=-001.250;U=MM;C=3\r")
    assert isinstance(reading, Reading)
    assert (reading.value, reading.unit, reading.channel) == ("-1.250", "mm", 3)
    assert isinstance(profile.decode(b"V=abc;U=MM\r"), FrameError)


def test_a_layout_refuses_a_frame_table_that_does_not_fit_it(tmp_path: Path, key_value):
    path = tmp_path / "key-value.toml"
    path.write_text(PROFILE.replace('unit_from = "frame"', "pattern = '(?P<value>.+)'"))
    with pytest.raises(ProfileError) as caught:
        parse_profile(path)
    assert "frame: the key-value frame has no pattern" in str(caught.value)


def test_an_unknown_layout_is_refused_naming_every_known_one(tmp_path: Path, key_value):
    path = tmp_path / "digimatic.toml"
    path.write_text(PROFILE.replace('codec = "key-value"', 'codec = "digimatic"'))
    with pytest.raises(ProfileError) as caught:
        parse_profile(path)
    assert "frame > codec: Input should be 'key-value', 'mitutoyo' or 'pattern'" in str(
        caught.value
    )


def test_a_layout_name_is_registered_once(key_value):
    with pytest.raises(ValueError, match="registered twice"):
        register_layout(KeyValueFrame())
