"""A frame read by the profile's regular expression, with named groups value, unit, channel, flag.

Most ASCII gauges fit it (Sylvac, Mahr, generic ``+012.345 mm`` lines, multiplexers that put
the channel in front): the profile's ``pattern`` says where each part is.
"""

from __future__ import annotations

import re

from inspect_station.gauges.codec import (
    CodecSpec,
    FrameSettings,
    Reading,
    TextLayout,
    ToleranceFlag,
    normalize_value,
    register_layout,
    shorten,
)
from inspect_station.gauges.errors import FrameError
from inspect_station.units import normalize_unit


def _groups(frame: FrameSettings) -> set[str]:
    """The named groups of the profile's pattern (none without one)."""
    return set(re.compile(frame.pattern).groupindex) if frame.pattern else set()


class PatternFrame(TextLayout):
    """A frame matched whole by the profile's regular expression."""

    name = "pattern"

    def check(self, frame: FrameSettings) -> str | None:
        """A pattern is needed, with a unit group when the unit comes from the frame."""
        if not frame.pattern:
            return 'codec = "pattern" needs pattern (a regular expression)'
        if frame.unit_from == "frame" and "unit" not in _groups(frame):
            return 'unit_from = "frame" needs a (?P<unit>...) group in pattern'
        return None

    def has_channels(self, frame: FrameSettings) -> bool:
        """Whether the pattern has a channel group."""
        return "channel" in _groups(frame)

    def read(self, text: str, frame: bytes, spec: CodecSpec) -> Reading | FrameError:
        """The groups of the matched frame: the value by the number grammar, the unit mapped,
        the channel a number, the tolerance flag one the profile knows."""
        assert spec.pattern is not None
        m = spec.pattern.fullmatch(text)
        if m is None:
            return FrameError(
                f"{shorten(text)!r} does not match the profile's frame pattern", frame
            )
        groups = m.groupdict()
        try:
            value = normalize_value(groups["value"] or "", exponent=spec.exponent)
        except ValueError as exc:
            return FrameError(f"the value {str(exc).rstrip('.')}", frame)
        channel: int | None = None
        if groups.get("channel"):
            chan_text = groups["channel"].strip()
            if not chan_text.isascii() or not chan_text.isdigit():
                return FrameError(f"channel {chan_text!r} is not a number", frame)
            channel = int(chan_text)
        unit: str | None = None
        unit_text = (groups.get("unit") or "").strip()
        if spec.unit_from_frame and unit_text:
            mapped = spec.units.get(unit_text, unit_text)
            unit = normalize_unit(mapped)
            if unit is None:
                return FrameError(f"unknown unit {unit_text!r}", frame)
        flag: ToleranceFlag | None = None
        flag_text = (groups.get("flag") or "").strip()
        if flag_text:
            if flag_text not in spec.flags:
                return FrameError(f"unknown tolerance flag {flag_text!r}", frame)
            flag = spec.flags[flag_text]
        return Reading(value, unit, channel, flag, frame)


register_layout(PatternFrame())
