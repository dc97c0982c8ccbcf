"""What a gauge reader reports: connected, disconnected, a reading, an error; and raw traffic.

Events are immutable and carry UTC times. They are handed to a callback and/or put on a
``queue.Queue`` from the reader's thread; a UI must hand them over to its own thread (Textual:
``post_message``) and never block in the callback. The reader never blocks on a full queue: what
does not fit is dropped, counted, and reported in its place by a :class:`DroppedEvent`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from inspect_station.errors import InspectStationError
from inspect_station.gauges.codec import Reading


class ErrorKind(StrEnum):
    """What went wrong, for a UI to pick an icon or a wording."""

    DEVICE = "device"
    """The gauge reported an error frame (over range, sensor error, ...)."""
    FRAME = "frame"
    """Garbage or a malformed frame; no value was taken from it."""
    TIMEOUT = "timeout"
    """A polled gauge did not answer in time."""
    CALIBRATION = "calibration"
    """A reading came from an asset past its calibration due date and was refused."""
    UNROUTED = "unrouted"
    """A reading came on a channel no asset is configured for."""
    PORT = "port"
    """The port cannot do what the profile needs (for example no DTR line)."""


@dataclass(frozen=True, slots=True)
class GaugeEvent:
    """Base of every event: the port binding it concerns and when it happened (UTC)."""

    port: str
    """The port binding as configured (path, URL or usb:VID:PID...)."""
    at: dt.datetime
    """When it happened, UTC."""


@dataclass(frozen=True, slots=True)
class ConnectedEvent(GaugeEvent):
    """The port was opened (at start, or again after a disconnect)."""

    device: str
    """The device path or URL actually opened."""
    assets: tuple[str, ...] = ()
    """Assets on this port."""


@dataclass(frozen=True, slots=True)
class DisconnectedEvent(GaugeEvent):
    """The port is gone or cannot be opened; the reader keeps retrying with back-off."""

    reason: str
    """One sentence: why (unplugged, not found, ambiguous, permission denied, ...)."""
    assets: tuple[str, ...] = ()
    """Assets on this port."""


@dataclass(frozen=True, slots=True)
class ReadingEvent(GaugeEvent):
    """A value from a gauge, routed to its asset, that may feed a measurement."""

    asset: str | None
    """Asset id (None when reading a port with no configured assets, e.g. ``gauges read``)."""
    reading: Reading
    """Value as sent, unit, channel, tolerance flag, raw frame."""
    trace: dict[str, str] | None = field(default=None)
    """The asset's facts every measurement records (asset, serial_number, certificate,
    calibration_due), or None without an asset."""

    @property
    def received_at(self) -> dt.datetime:
        """When the frame's last byte was read, UTC."""
        return self.at

    @property
    def value(self) -> str:
        """The value as sent (decimal text)."""
        return self.reading.value

    @property
    def unit(self) -> str | None:
        """The reading's unit."""
        return self.reading.unit

    @property
    def raw(self) -> bytes:
        """The whole frame as received."""
        return self.reading.raw


@dataclass(frozen=True, slots=True)
class ErrorEvent(GaugeEvent):
    """Something the inspector should know about; no value was delivered."""

    asset: str | None
    """The asset concerned, when it is known."""
    kind: ErrorKind
    """What kind of problem it is."""
    reason: str
    """One sentence for the inspector."""
    error: InspectStationError
    """The typed error (DeviceError, FrameError, GaugeTimeout, CalibrationExpired, ...)."""
    code: str | None = None
    """The device's error code (e.g. ERR3), for device errors."""
    meaning: str | None = None
    """What the device's error code means."""
    raw: bytes | None = None
    """The frame concerned, if any."""


@dataclass(frozen=True, slots=True)
class DroppedEvent(GaugeEvent):
    """Events that did not fit in a bounded queue (its reader fell behind) and were dropped.

    It takes the place of the events it stands for, so a consumer sees where the gap is.
    """

    count: int
    """How many events were dropped here."""


@dataclass(frozen=True, slots=True)
class TrafficEntry:
    """One line of a port's raw-traffic view."""

    at: dt.datetime
    """When, UTC."""
    direction: Literal["rx", "tx", "note"]
    """rx: a frame received; tx: bytes sent; note: a line event (connected, DTR pulse, ...)."""
    data: bytes
    """The bytes (empty for a note)."""
    note: str = ""
    """What the reader made of it: reading CAL-0042, echo, garbage, double press dropped, ..."""
