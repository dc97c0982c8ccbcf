"""Gauge profiles: how a device family talks, read from ``gauges/*.toml`` (data, not code).

A profile has five parts: ``[serial]`` (line settings and the DTR/RTS levels the cable needs),
``[protocol]`` (push or poll, the request, timeouts, terminator, echo, double press), ``[frame]``
(the layout of a reading and where its unit comes from), ``[[error]]`` (device error frames and
their meaning) and ``[simulate]`` (how the simulator for this family answers). The profile's name
is its file name without ``.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from inspect_station.gauges.codec import (
    LAYOUTS,
    CodecSpec,
    Decoded,
    ErrorRule,
    Reading,
    ToleranceFlag,
    decode,
    format_frame,
    normalize_value,
)
from inspect_station.gauges.errors import DeviceError, FrameError, ProfileError
from inspect_station.gauges.layouts import layout_names
from inspect_station.tomlfile import TomlFileError, locate, read_toml, validation_problems
from inspect_station.units import normalize_unit

FORMAT_VERSION = 1
_PATTERN_GROUPS = {"value", "unit", "channel", "flag"}
# The stop bit counts a serial line can have (gauges/ports.py maps them to pyserial's constants).
_STOPBITS = frozenset({Decimal("1"), Decimal("1.5"), Decimal("2")})

Seconds = Annotated[Decimal, Field(ge=0, le=60)]


def _compile(pattern: str, what: str) -> re.Pattern[str]:
    """Compile a profile's regular expression, with the reason in the error if it is invalid."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{what} is not a valid regular expression: {exc}") from None


def _ascii(text: str, what: str) -> str:
    """Check that ``text`` is ASCII (gauge protocols are)."""
    if not text.isascii():
        raise ValueError(f"{what} must be ASCII text")
    return text


class _Model(BaseModel):
    """Base of the profile models: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SerialSettings(_Model):
    """Line settings of the port and the control line levels the cable needs."""

    baudrate: Annotated[int, Field(gt=0, le=4_000_000)] = 9600
    """Bits per second (nominal on a USB virtual port)."""
    bytesize: Literal[5, 6, 7, 8] = 8
    """Data bits."""
    parity: Literal["none", "even", "odd", "mark", "space"] = "none"
    """Parity."""
    stopbits: Decimal = Decimal("1")
    """Stop bits: 1, 1.5 or 2."""
    flow_control: Literal["none", "rts-cts", "dsr-dtr", "xon-xoff"] = "none"
    """Handshake."""
    dtr: bool | None = None
    """Level to hold DTR at (cables powered from it); unset leaves the driver's default."""
    rts: bool | None = None
    """Level to hold RTS at; unset leaves the driver's default."""

    @field_validator("stopbits", mode="before")
    @classmethod
    def _stopbits(cls, value: object) -> object:
        if isinstance(value, int | Decimal | str) and Decimal(str(value)) in _STOPBITS:
            return Decimal(str(value))
        raise ValueError("stopbits must be 1, 1.5 or 2")

    def describe(self) -> str:
        """Short text such as ``4800 7E2``."""
        parity = self.parity[0].upper()
        return f"{self.baudrate} {self.bytesize}{parity}{self.stopbits.normalize()}"


class Protocol(_Model):
    """How readings are obtained: pushed by the gauge, or requested by the station."""

    mode: Literal["push", "poll"]
    """push: the gauge sends when its DATA key is pressed; poll: the station asks."""
    terminator: Annotated[str, Field(min_length=1, max_length=4)]
    """Bytes that end every frame, e.g. "\\r" or "\\r\\n"."""
    request: str | None = None
    """Bytes that ask for a value; ``{channel}`` is replaced by the channel number."""
    request_by: Literal["bytes", "dtr-pulse"] = "bytes"
    """How a value is requested: send ``request``, or drop DTR for ``dtr_pulse_ms``."""
    dtr_pulse_ms: Annotated[int, Field(ge=1, le=5000)] = 110
    """How long DTR is dropped to request a value on a simplex cable."""
    reply_timeout: Annotated[Decimal, Field(gt=0, le=60)] = Decimal("0.5")
    """Seconds to wait for the answer to a request before reporting a timeout."""
    poll_interval: Seconds = Decimal("0")
    """Seconds between automatic requests for a poll gauge; 0 asks only when told to."""
    data_key: bool = True
    """The gauge also sends a frame by itself when its DATA key is pressed."""
    echo: bool = False
    """The gauge may echo each command line before answering; an exact echo is skipped."""
    double_press_window: Seconds = Decimal("0.3")
    """An identical unsolicited reading within this many seconds is a double press, dropped."""
    frame_timeout: Annotated[Decimal, Field(gt=0, le=60)] = Decimal("0.5")
    """An unfinished frame older than this many seconds is dropped as garbage."""
    max_frame: Annotated[int, Field(ge=4, le=4096)] = 256
    """Longest frame in bytes; a longer run without terminator is dropped as garbage."""

    @field_validator("terminator", "request")
    @classmethod
    def _ascii_bytes(cls, value: str | None) -> str | None:
        return None if value is None else _ascii(value, "it")

    @field_validator("request")
    @classmethod
    def _request_template(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.format(channel=1)
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"request may only use the field {{channel}}, not {exc}") from None
        return value

    @model_validator(mode="after")
    def _request_needed(self) -> Protocol:
        if self.mode == "poll" and self.request_by == "bytes" and not self.request:
            raise ValueError("a poll gauge needs request (the bytes that ask for a value)")
        return self

    def request_bytes(self, channel: int | None) -> bytes:
        """The request for ``channel`` (1 when the gauge has no channels)."""
        assert self.request is not None
        return self.request.format(channel=1 if channel is None else channel).encode("ascii")


class FrameFormat(_Model):
    """The layout of a reading frame."""

    codec: str
    """The frame layout (a module of gauges/layouts/): mitutoyo, the fixed 13-byte Mitutoyo
    record; pattern, a regular expression."""
    pattern: str | None = None
    """For codec = "pattern": a regular expression matching the whole frame (without its
    terminator and surrounding blanks) with named groups value (required), unit, channel, flag."""
    unit_from: Literal["frame", "asset"] = "asset"
    """Where the unit comes from: the frame's unit group (else the asset), or the asset only."""
    units: dict[str, str] = Field(default_factory=dict)
    """Unit text as the gauge writes it -> unit (mm, in, um, ...), e.g. { M = "mm" }."""
    flags: dict[str, ToleranceFlag] = Field(default_factory=dict)
    """Tolerance symbol as sent -> below / within / above, e.g. { "<" = "below" }."""
    ignore: list[str] = Field(default_factory=list)
    """Regular expressions of status or identification frames (matched at the start)."""
    exponent: bool = False
    """The value may carry an exponent (``1.2345E+01``), as some laser and CMM interfaces
    send; it is read exactly and recorded written out in full. Off by default: everywhere
    else an exponent is refused."""

    @field_validator("codec")
    @classmethod
    def _known_layout(cls, value: str) -> str:
        if value not in LAYOUTS:
            names = [repr(name) for name in layout_names()]
            choices = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
            raise ValueError(f"Input should be {choices}")
        return value

    @field_validator("units")
    @classmethod
    def _known_units(cls, value: dict[str, str]) -> dict[str, str]:
        for text, unit in value.items():
            if normalize_unit(unit) is None:
                raise ValueError(f"unit {unit!r} for {text!r} is not a known unit")
        return value

    @field_validator("ignore")
    @classmethod
    def _ignore_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            _compile(pattern, f"ignore pattern {pattern!r}")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_groups(cls, value: str | None) -> str | None:
        if value is None:
            return None
        groups = set(_compile(value, "pattern").groupindex)
        if "value" not in groups:
            raise ValueError("pattern needs a named group (?P<value>...)")
        unknown = groups - _PATTERN_GROUPS
        if unknown:
            names = ", ".join(sorted(unknown))
            raise ValueError(f"pattern has unknown groups {names}; use value, unit, channel, flag")
        return value

    @model_validator(mode="after")
    def _fits_layout(self) -> FrameFormat:
        problem = LAYOUTS[self.codec].check(self)
        if problem is not None:
            raise ValueError(problem)
        return self


class ErrorFrame(_Model):
    """A device error frame, e.g. ``ERR3``, and what its codes mean."""

    pattern: Annotated[str, Field(min_length=1)]
    """Regular expression matching the whole frame; a (?P<code>...) group names the code."""
    meaning: str = "device error"
    """What the error means when its code is not listed in codes."""
    codes: dict[str, str] = Field(default_factory=dict)
    """Code -> meaning, e.g. { ERR3 = "range exceeded" }."""

    @field_validator("pattern")
    @classmethod
    def _valid_pattern(cls, value: str) -> str:
        compiled = _compile(value, "pattern")
        unknown = set(compiled.groupindex) - {"code"}
        if unknown:
            raise ValueError(f"error pattern may only have a (?P<code>...) group, not {unknown}")
        return value


class Simulation(_Model):
    """How the simulator of this family formats what it sends."""

    reading: Annotated[str, Field(min_length=1)]
    """Template of a reading frame without terminator. Fields: {sign} (+/-), {minus} (''/-),
    {sign_space} (' '/-), {abs} (the value without sign; pad with e.g. {abs:0>8}), {channel},
    {unit}, {flag}."""
    values: list[str] = Field(default_factory=lambda: ["12.345"], min_length=1)
    """Values shown, one per DATA press, cycling."""
    unit: str = ""
    """Unit text the device prints in {unit}."""
    error: str | None = None
    """Frame of a typical device error, e.g. ERR3."""
    power_on: str | None = None
    """Frame the device sends once when it is plugged in (identification), if any."""
    channels: list[Annotated[int, Field(ge=0, le=99999)]] = Field(
        default_factory=lambda: [1], min_length=1
    )
    """Channels the simulated device serves (several for a multiplexer)."""

    @field_validator("values", mode="before")
    @classmethod
    def _values_as_text(cls, value: object) -> object:
        if isinstance(value, list):
            return [str(v) if isinstance(v, int | Decimal) else v for v in value]
        return value

    @field_validator("values")
    @classmethod
    def _decimal_values(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                normalize_value(item)
            except ValueError:
                raise ValueError(f"value {item!r} is not a decimal number") from None
        return value

    @field_validator("reading", "error", "power_on", "unit")
    @classmethod
    def _ascii_text(cls, value: str | None) -> str | None:
        return None if value is None else _ascii(value, "it")

    @field_validator("reading")
    @classmethod
    def _template_fields(cls, value: str) -> str:
        try:
            format_frame(value, b"", "-1.5", channel=1, unit="mm", flag="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"template uses an unknown field or format: {exc}") from None
        return value


class GaugeProfile(_Model):
    """One gauges/*.toml file: everything the station needs to talk to a device family."""

    format: int
    """Format version of the file; this version reads 1."""
    description: Annotated[str, Field(min_length=1)]
    """What devices the profile is for."""
    serial: SerialSettings = Field(default_factory=SerialSettings)
    """Line settings."""
    protocol: Protocol
    """Push or poll, request, timeouts."""
    frame: FrameFormat
    """Layout of a reading."""
    error: list[ErrorFrame] = Field(default_factory=list)
    """Device error frames."""
    simulate: Simulation
    """How the simulator formats frames."""
    name: str = Field(default="", exclude=True)
    """Profile name (file name without .toml), set by the loader."""
    source: Path | None = Field(default=None, exclude=True)
    """File the profile was read from."""

    @field_validator("format")
    @classmethod
    def _format_version(cls, value: int) -> int:
        if value != FORMAT_VERSION:
            raise ValueError(f"unsupported format {value}; this version reads format 1")
        return value

    def consistency_problems(self) -> list[tuple[tuple[str, ...], str]]:
        """(key path, message) for each way the simulator and the frame format disagree."""
        # The simulator's frames must decode to the values it sends: this proves that the
        # template and the pattern agree before anyone relies on either.
        problems: list[tuple[tuple[str, ...], str]] = []
        sim = self.simulate
        for value in sim.values:
            frame = self.encode(value, channel=sim.channels[0])
            decoded = decode(frame, self.codec)
            if not isinstance(decoded, Reading) or decoded.value != normalize_value(value):
                if isinstance(decoded, Reading):
                    got = f"the value {decoded.value}"
                elif isinstance(decoded, FrameError):
                    got = f"garbage ({decoded.reason})"
                else:
                    got = type(decoded).__name__

                problems.append(
                    (
                        ("simulate", "reading"),
                        f"the simulator would send {frame!r} for {value}, which the frame "
                        f"format reads as {got}; the template and the frame pattern disagree",
                    )
                )
                break
        if sim.error is not None:
            decoded = decode(sim.error.encode("ascii") + self.terminator, self.codec)
            if not isinstance(decoded, DeviceError):
                problems.append(
                    (("simulate", "error"), f"{sim.error!r} matches no [[error]] pattern")
                )
        return problems

    @property
    def terminator(self) -> bytes:
        """The frame terminator as bytes."""
        return self.protocol.terminator.encode("ascii")

    @property
    def channels(self) -> bool:
        """Whether frames or requests name a channel (a multiplexer or a wireless receiver)."""
        if self.protocol.request and "{channel}" in self.protocol.request:
            return True
        return LAYOUTS[self.frame.codec].has_channels(self.frame)

    @cached_property
    def codec(self) -> CodecSpec:
        """The compiled codec of this profile."""
        fmt = self.frame
        return CodecSpec(
            layout=LAYOUTS[fmt.codec],
            terminator=self.terminator,
            pattern=_compile(fmt.pattern, "pattern") if fmt.pattern else None,
            unit_from_frame=fmt.unit_from == "frame",
            units=dict(fmt.units),
            flags=dict(fmt.flags),
            ignore=tuple(_compile(p, "ignore") for p in fmt.ignore),
            exponent=fmt.exponent,
            errors=tuple(
                ErrorRule(_compile(e.pattern, "error"), e.meaning, dict(e.codes))
                for e in self.error
            ),
        )

    def decode(self, frame: bytes) -> Decoded:
        """Decode one frame (terminator included) with this profile's codec."""
        return decode(frame, self.codec)

    def encode(self, value: str, *, channel: int = 1, flag: str = "") -> bytes:
        """A reading frame as a device of this family sends it (for simulators)."""
        return format_frame(
            self.simulate.reading,
            self.terminator,
            value,
            channel=channel,
            unit=self.simulate.unit,
            flag=flag,
        )


def parse_profile(path: Path, name: str | None = None) -> GaugeProfile:
    """Read and validate one profile file; ProfileError with ``file:line: key: message`` lines."""
    try:
        data, text = read_toml(path)
    except TomlFileError as exc:
        raise ProfileError(exc.problems[0], exc.problems) from None
    try:
        profile = GaugeProfile.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(path, text, exc)
        raise ProfileError(problems[0], problems) from None
    problems = []
    for loc, message in profile.consistency_problems():
        line = locate(text, loc)
        where = f"{path}:{line}" if line else str(path)
        problems.append(f"{where}: {' > '.join(loc)}: {message}")
    if problems:
        raise ProfileError(problems[0], problems)
    return profile.model_copy(update={"name": name or path.stem, "source": path})


def check_profiles(paths: Iterable[Path]) -> tuple[int, list[str]]:
    """Validate profile files and folders; the number of files checked and every problem."""
    checked = 0
    problems: list[str] = []
    for path in paths:
        files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
        for file in files:
            checked += 1
            try:
                parse_profile(file)
            except ProfileError as exc:
                problems.extend(exc.problems)
    return checked, problems


def available_profiles(search_path: Sequence[Path]) -> dict[str, Path]:
    """Profile name -> file, searching folders in order (the first file of a name wins)."""
    found: dict[str, Path] = {}
    for folder in search_path:
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.toml")):
            found.setdefault(file.stem, file)
    return found


def load_profile(name_or_path: str | Path, search_path: Sequence[Path]) -> GaugeProfile:
    """The profile named ``name_or_path`` (or that file); ProfileError if missing or invalid."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" and candidate.is_file():
        return parse_profile(candidate)
    profiles = available_profiles(search_path)
    path = profiles.get(str(name_or_path))
    if path is None:
        known = ", ".join(sorted(profiles)) or "none"
        raise ProfileError(f"There is no gauge profile {str(name_or_path)!r} (known: {known}).")
    return parse_profile(path, str(name_or_path))
