"""Pure frame codecs: bytes from a gauge to a Reading, a device error, a notice or a frame error.

Nothing here does I/O. A profile is compiled into a :class:`CodecSpec`; :func:`decode` turns one
frame into exactly one of :class:`Reading`, :class:`~inspect_station.gauges.errors.DeviceError`,
:class:`~inspect_station.gauges.errors.FrameError` or :class:`Notice`, by the profile's
:class:`FrameLayout`. Layouts are registered by name (:data:`LAYOUTS`); each lives in a module
of :mod:`inspect_station.gauges.layouts`, so a gauge family whose frames no layout reads yet is
one new module there.

Values are kept as the decimal text the gauge sent, normalised only where that cannot change the
number or its resolution (see :func:`normalize_value`): ``+0000.123`` becomes ``0.123``,
``-001.2340`` becomes ``-1.2340`` (trailing zeros are the resolution and stay), ``.1455``
becomes ``0.1455`` and a sign written as a space means plus (the blank is stripped). A leading
``-`` is always kept, even on zero (``-0.000``), because that is what the gauge showed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, NamedTuple, Protocol

from inspect_station.gauges.errors import DeviceError, FrameError
from inspect_station.numbers import NumberError, normalize

_WHITESPACE = " \t\r\n"


class ToleranceFlag(StrEnum):
    """A gauge's own tolerance verdict sent after the value (Opto-RS ``<``, ``=``, ``>``)."""

    BELOW = "below"
    WITHIN = "within"
    ABOVE = "above"


@dataclass(frozen=True, slots=True)
class Reading:
    """One value read from a gauge, exactly as sent, with the frame it came in."""

    value: str
    """Decimal text as sent, normalised by :func:`normalize_value` (never a float)."""
    unit: str | None
    """Canonical unit (mm, in, um, ...) from the frame, or from the asset; None if unknown."""
    channel: int | None
    """Multiplexer channel (or transmitter id) the frame names, if the protocol has one."""
    flag: ToleranceFlag | None
    """The gauge's own tolerance flag, if it sent one."""
    raw: bytes
    """The whole frame as received, terminator included."""

    @property
    def decimal(self) -> Decimal:
        """The value as an exact Decimal."""
        return Decimal(self.value)

    def with_unit(self, unit: str | None) -> Reading:
        """The same reading with ``unit`` filled in when the frame carried none."""
        if self.unit is not None or unit is None:
            return self
        return replace(self, unit=unit)

    def with_channel(self, channel: int | None) -> Reading:
        """The same reading with ``channel`` filled in when the frame carried none."""
        if self.channel is not None or channel is None:
            return self
        return replace(self, channel=channel)


@dataclass(frozen=True, slots=True)
class Notice:
    """A frame that is neither a reading nor an error: identification, status, an empty line."""

    text: str
    """The frame's text without its terminator."""
    raw: bytes
    """The whole frame as received."""


Decoded = Reading | DeviceError | FrameError | Notice
"""What :func:`decode` returns for one frame."""


@dataclass(frozen=True, slots=True)
class ErrorRule:
    """A device error frame: a pattern (optionally with a ``code`` group) and what codes mean."""

    pattern: re.Pattern[str]
    meaning: str
    codes: Mapping[str, str] = field(default_factory=dict)


class FrameSettings(Protocol):
    """What a profile's ``[frame]`` table says that a layout checks."""

    @property
    def pattern(self) -> str | None:
        """The regular expression of a pattern frame, if given."""
        ...

    @property
    def unit_from(self) -> str:
        """Where the unit comes from: "frame" or "asset"."""
        ...

    @property
    def exponent(self) -> bool:
        """Whether a value may carry an exponent."""
        ...


class FrameLayout:
    """How a family of gauges lays out a reading frame (a profile's ``[frame] codec``).

    A subclass decodes a whole frame (terminator included) to exactly one of Reading,
    DeviceError, FrameError or Notice, never raising; ASCII text frames subclass
    :class:`TextLayout` instead. Register an instance with :func:`register_layout`.
    """

    name: ClassVar[str]
    """The name profiles use (``codec = "NAME"``)."""

    def check(self, frame: FrameSettings) -> str | None:
        """Why a profile's ``[frame]`` table does not fit this layout (one sentence), or None."""
        return None

    def has_channels(self, frame: FrameSettings) -> bool:
        """Whether this layout's frames name a channel (a multiplexer, a wireless receiver)."""
        return False

    def decode(self, frame: bytes, spec: CodecSpec) -> Decoded:
        """Decode one frame (terminator included); never raises."""
        raise NotImplementedError


class TextLayout(FrameLayout):
    """A layout of ASCII text frames: device errors and ignored frames first, then :meth:`read`."""

    def decode(self, frame: bytes, spec: CodecSpec) -> Decoded:
        """Decode one frame (terminator included) by the profile's rules and :meth:`read`."""
        text = _text_of(frame, spec.terminator)
        if isinstance(text, FrameError):
            return text
        if not text:
            return Notice("", frame)
        for rule in spec.errors:
            m = rule.pattern.fullmatch(text)
            if m is not None:
                code = m.groupdict().get("code") or text
                return DeviceError(code, rule.codes.get(code, rule.meaning), frame)
        for pattern in spec.ignore:
            if pattern.match(text):
                return Notice(text, frame)
        return self.read(text, frame, spec)

    def read(self, text: str, frame: bytes, spec: CodecSpec) -> Reading | FrameError:
        """A reading frame's text (without terminator and surrounding blanks) to a reading."""
        raise NotImplementedError


LAYOUTS: dict[str, FrameLayout] = {}
"""Every frame layout, by name (filled by the modules of :mod:`inspect_station.gauges.layouts`)."""


def register_layout(layout: FrameLayout) -> FrameLayout:
    """Register a frame layout under its name and return it (a name is registered once)."""
    if layout.name in LAYOUTS:
        raise ValueError(f"frame layout {layout.name!r} is registered twice")
    LAYOUTS[layout.name] = layout
    return layout


@dataclass(frozen=True, slots=True)
class CodecSpec:
    """Everything :func:`decode` needs from a profile, compiled."""

    layout: FrameLayout
    terminator: bytes
    pattern: re.Pattern[str] | None = None
    unit_from_frame: bool = False
    units: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, ToleranceFlag] = field(default_factory=dict)
    ignore: tuple[re.Pattern[str], ...] = ()
    errors: tuple[ErrorRule, ...] = ()
    exponent: bool = False


def normalize_value(text: str, *, exponent: bool = False) -> str:
    """Canonical decimal text for a value as sent; ValueError if it is not a number.

    The value is read by the station's one number grammar (:mod:`inspect_station.numbers`),
    after the frame's blanks around it are dropped (a blank sign means plus): an optional
    ``+``/``-`` directly before ASCII digits with at most one decimal point, at most 30 digits,
    an exponent only where the profile declares one (it is then written out in full).
    ``.1455`` is 0.1455; ``12.`` and ``+ 12`` are refused: no gauge sends them, and a corrupted
    digit could. Leading zeros of the integer part and a ``+`` are dropped; the fraction is
    kept digit for digit.
    """
    try:
        return normalize(text.strip(_WHITESPACE), exponent=exponent)
    except NumberError as exc:
        raise ValueError(exc.message) from None


def _text_of(frame: bytes, terminator: bytes) -> str | FrameError:
    """The frame's text without terminator and surrounding whitespace, or why it is garbage."""
    body = frame[: -len(terminator)] if terminator and frame.endswith(terminator) else frame
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError as exc:
        return FrameError(f"byte 0x{body[exc.start]:02x} is not ASCII text", frame)
    for char in text:
        if (char < " " and char not in "\t\r\n") or char == "\x7f":
            return FrameError(f"control byte 0x{ord(char):02x} inside the frame", frame)
    return text.strip(_WHITESPACE)


def decode(frame: bytes, spec: CodecSpec) -> Decoded:
    """Decode one frame (terminator included) by the profile's layout; never raises."""
    return spec.layout.decode(frame, spec)


def shorten(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters for a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Frame(NamedTuple):
    """A chunk cut from the byte stream: a complete frame, garbage, or a broken frame's rest."""

    data: bytes
    complete: bool
    broken: bool = False
    """The rest of a frame interrupted by a silence, up to its terminator: never decoded."""


class Framer:
    """Cuts a byte stream into whole frames on the terminator; anything else is never a frame.

    A run longer than ``max_frame`` is dropped as garbage up to the next terminator. When a
    silence longer than the frame timeout falls inside a frame, the reader calls
    :meth:`interrupt`: the bytes so far are handed back to be reported, and every byte after
    them up to and including the next terminator belongs to the same broken frame and comes
    out as one ``broken`` chunk -- never as a frame of its own, so the tail of a frame is never
    decoded as if it were a whole one (``-`` + pause + ``0.512`` is not 0.512).
    """

    def __init__(self, terminator: bytes, max_frame: int = 256) -> None:
        if not terminator:
            raise ValueError("a frame terminator cannot be empty")
        self.terminator = terminator
        self.max_frame = max_frame
        self._buffer = bytearray()
        self._reported = 0
        """Bytes at the start of the buffer already handed out (kept to match a terminator
        that straddles a silence)."""
        self._discarding: bool | None = None
        """None: reading frames; True: in a broken frame (its rest is reported when the
        terminator comes); False: in an overlong run (its rest is dropped silently)."""

    @property
    def pending(self) -> int:
        """Bytes received and not yet handed out."""
        return len(self._buffer) - self._reported

    @property
    def dirty(self) -> bool:
        """Whether a silence now would break a frame: bytes not yet handed out are waiting for
        their terminator, or an overlong run is being dropped."""
        return self.pending > 0 or self._discarding is False

    @property
    def broken(self) -> bool:
        """Whether the bytes now arriving belong to a broken or overlong frame."""
        return self._discarding is not None

    def feed(self, data: bytes) -> list[Frame]:
        """Add received bytes; return the frames they complete (and any garbage dropped)."""
        self._buffer += data
        out: list[Frame] = []
        term = self.terminator
        while True:
            index = self._buffer.find(term)
            if index < 0:
                break
            end = index + len(term)
            chunk = bytes(self._buffer[:end])
            rest = chunk[self._reported :]
            del self._buffer[:end]
            self._reported = 0
            if self._discarding is not None:
                if self._discarding and rest:
                    out.append(Frame(rest, False, broken=True))
                self._discarding = None
                continue
            out.append(Frame(chunk, len(chunk) - len(term) <= self.max_frame))
        if self.pending > self.max_frame:
            # Keep a possible partial terminator so a frame straddling the cut still ends right.
            keep = len(term) - 1
            cut = len(self._buffer) - keep
            if cut > self._reported:
                out.append(Frame(bytes(self._buffer[self._reported : cut]), False))
            del self._buffer[:cut]
            self._reported = 0
            self._discarding = False
        return out

    def interrupt(self) -> bytes:
        """After a silence: the bytes of the unfinished frame not yet handed out (b"" if none).

        Until the next terminator, whatever arrives is the rest of this broken frame.
        """
        head = bytes(self._buffer[self._reported :])
        if not head and self._discarding is None:
            return b""  # nothing unfinished: a silence between frames breaks nothing
        self._discarding = True
        if not head:
            return b""
        keep = len(self.terminator) - 1
        if keep:
            del self._buffer[: max(0, len(self._buffer) - keep)]
        else:
            self._buffer.clear()
        self._reported = len(self._buffer)
        return head

    def flush(self) -> bytes:
        """Drop and return the unfinished frame and forget any broken one (a disconnect)."""
        data = bytes(self._buffer[self._reported :])
        self._buffer.clear()
        self._reported = 0
        self._discarding = None
        return data


def format_frame(
    template: str,
    terminator: bytes,
    value: str,
    *,
    channel: int = 1,
    unit: str = "",
    flag: str = "",
) -> bytes:
    """Encode a value as a device of the profile would send it (for simulators)."""
    canonical = normalize_value(value)
    negative = canonical.startswith("-")
    magnitude = canonical.lstrip("-")
    text = template.format(
        channel=channel,
        sign="-" if negative else "+",
        minus="-" if negative else "",
        sign_space="-" if negative else " ",
        abs=magnitude,
        unit=unit,
        flag=flag,
    )
    return text.encode("ascii") + terminator


def escape_bytes(data: bytes) -> str:
    """Printable text of raw bytes: ASCII kept, ``\\r``, ``\\n``, ``\\t``, others ``\\xNN``."""
    out = []
    for byte in data:
        if byte == 0x5C:
            out.append("\\\\")
        elif byte == 0x0D:
            out.append("\\r")
        elif byte == 0x0A:
            out.append("\\n")
        elif byte == 0x09:
            out.append("\\t")
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)
