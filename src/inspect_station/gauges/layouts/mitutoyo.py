"""The Mitutoyo record: ``0``, channel digit, ``A``, sign, zero-padded value (``01A+0000.123``).

Sent by Digimatic-to-RS-232/USB interfaces and multiplexers; it carries no unit (the asset
gives it) and always names its channel.
"""

from __future__ import annotations

from inspect_station.gauges.codec import (
    CodecSpec,
    FrameSettings,
    Reading,
    TextLayout,
    normalize_value,
    register_layout,
)
from inspect_station.gauges.errors import FrameError


class MitutoyoRecord(TextLayout):
    """The fixed 13-byte Mitutoyo record."""

    name = "mitutoyo"

    def check(self, frame: FrameSettings) -> str | None:
        """The record has a fixed layout: no pattern, no unit, no exponent."""
        if frame.pattern is not None:
            return 'pattern is only used with codec = "pattern"'
        if frame.unit_from == "frame":
            return 'the Mitutoyo record carries no unit: use unit_from = "asset"'
        if frame.exponent:
            return "the Mitutoyo record has no exponent"
        return None

    def has_channels(self, frame: FrameSettings) -> bool:
        """Every record names its channel."""
        return True

    def read(self, text: str, frame: bytes, spec: CodecSpec) -> Reading | FrameError:
        """Record ``0`` channel ``A`` sign value (7-9 characters), e.g. ``01A+0000.123``."""
        if not 11 <= len(text) <= 13:
            return FrameError(f"a Mitutoyo record has 12 characters, this one {len(text)}", frame)
        if text[0] != "0":
            return FrameError(f"record type {text[0]!r} is not a data record ('0')", frame)
        if text[1] not in "0123456789":
            return FrameError(f"channel {text[1]!r} is not a digit", frame)
        if text[2] != "A":
            return FrameError(f"expected 'A' after the channel, found {text[2]!r}", frame)
        if text[3] not in "+-":
            return FrameError(f"expected a sign '+' or '-', found {text[3]!r}", frame)
        digits = text[4:]
        if any(c not in "0123456789." for c in digits) or digits.count(".") > 1:
            return FrameError(f"value field {digits!r} is not zero-padded digits", frame)
        try:
            value = normalize_value(text[3] + digits)
        except ValueError:
            return FrameError(f"value field {digits!r} is not a decimal number", frame)
        return Reading(value, None, int(text[1]), None, frame)


register_layout(MitutoyoRecord())
