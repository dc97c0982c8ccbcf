# Over 500 lines: a reader thread's life (frames, polls, routes, reconnects) is one machine.
"""A reader thread per port: frames, polls, routes, refuses overdue gauges, survives unplugging.

The reader owns its :class:`~inspect_station.gauges.ports.SerialPort`. It frames the byte stream
on the profile's terminator (dropping garbage and resynchronising), decodes each frame with the
profile's codec, skips echoes, routes multiplexer channels to assets, drops a double DATA press,
turns readings of an overdue asset into a ``CalibrationExpired`` error, sends poll requests (on
:meth:`GaugeReader.request` or periodically) and reports a missing answer as a timeout. When the
port goes away it reports the disconnect and reopens it with back-off, finding a USB gauge again
by its identity. It never touches a UI: everything goes out as events.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from inspect_station.backoff import Backoff
from inspect_station.clock import utc_now
from inspect_station.config import GaugeAsset
from inspect_station.errors import CalibrationExpired, GaugeError, InspectStationError
from inspect_station.gauges.codec import Frame, Framer, Notice, Reading, decode
from inspect_station.gauges.errors import (
    DeviceError,
    Disconnected,
    FrameError,
    GaugeTimeout,
    LinesUnsupported,
    PortError,
    PortOpenError,
    UnroutedChannel,
)
from inspect_station.gauges.events import (
    ConnectedEvent,
    DisconnectedEvent,
    DroppedEvent,
    ErrorEvent,
    ErrorKind,
    GaugeEvent,
    ReadingEvent,
    TrafficEntry,
)
from inspect_station.gauges.ports import (
    PortInfoLike,
    SerialPort,
    comports,
    open_port,
    parse_binding,
)
from inspect_station.gauges.profile import GaugeProfile

log = logging.getLogger(__name__)

EventCallback = Callable[[GaugeEvent], None]


REOPEN = Backoff(initial=0.1, maximum=1.0, jitter=False)
"""Delays between attempts to reopen a lost port: 0.1 s, doubling up to 1 s. The maximum is
short on purpose: an inspector who plugs a gauge back in expects it to work within a second,
and a failed open of an absent device costs next to nothing."""


@dataclass(slots=True)
class _Request:
    """A poll request waiting to be sent or for its answer."""

    asset: str | None
    channel: int | None
    command: bytes = b""
    deadline: float = 0.0


class GaugeReader:
    """Reads one port with one profile and reports events for the assets on it."""

    def __init__(
        self,
        port: str,
        profile: GaugeProfile,
        assets: Sequence[GaugeAsset] = (),
        *,
        on_event: EventCallback | None = None,
        events: queue.Queue[GaugeEvent] | None = None,
        poll_interval: float | None = None,
        channels: Sequence[int] = (),
        backoff: Backoff | None = None,
        warn_days: int = 14,
        today: Callable[[], dt.date] = dt.date.today,
        traffic_size: int = 500,
        list_serial_ports: Callable[[], Sequence[PortInfoLike]] = comports,
    ) -> None:
        self.binding = parse_binding(port)
        self.profile = profile
        self.assets = tuple(assets)
        self._on_event = on_event
        self._events = events
        proto = profile.protocol
        self.poll_interval = float(proto.poll_interval) if poll_interval is None else poll_interval
        """Seconds between automatic requests; 0 asks only on request()."""
        if self.poll_interval > 0 and proto.mode != "poll":
            raise GaugeError(
                f"Profile {profile.name} is a push gauge; it sends by itself and cannot be polled."
            )
        self._backoff = backoff or REOPEN
        self._warn_days = warn_days
        self._today = today
        self._list_ports = list_serial_ports
        self._routes = self._build_routes(channels)
        self._traffic: collections.deque[TrafficEntry] = collections.deque(maxlen=traffic_size)
        self._traffic_lock = threading.Lock()
        self._requests: list[_Request] = []
        self._requests_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: SerialPort | None = None
        self._framer = Framer(profile.terminator, proto.max_frame)
        self._partial_since: float | None = None
        self._pending: _Request | None = None
        self._next_poll = 0.0
        self._last_push: dict[object, tuple[str, float]] = {}
        self._state = "connecting"
        self._last_reason: str | None = None
        self._settings: dict[str, object] | None = None
        self._dropped_pending = 0
        self._dropped_total = 0

    # -- set-up ------------------------------------------------------------------------------

    def _build_routes(self, channels: Sequence[int]) -> dict[int | None, GaugeAsset | None]:
        """Channel -> asset; the key None catches every channel (a single gauge on the port)."""
        profile = self.profile
        if not self.assets:
            routes: dict[int | None, GaugeAsset | None] = {c: None for c in channels}
            routes.setdefault(None, None)
            return routes
        if len(self.assets) == 1 and (self.assets[0].channel is None or not profile.channels):
            return {None: self.assets[0]}
        names = ", ".join(a.asset for a in self.assets)
        if not profile.channels:
            raise GaugeError(
                f"Gauge assets {names} share port {self.binding} but profile {profile.name} "
                "cannot tell their readings apart; give each its own port."
            )
        routes = {}
        for asset in self.assets:
            if asset.channel is None:
                raise GaugeError(
                    f"Gauge asset {asset.asset} shares port {self.binding} with others and needs "
                    "a channel."
                )
            if asset.channel in routes:
                other = routes[asset.channel]
                assert other is not None
                raise GaugeError(
                    f"Gauge assets {other.asset} and {asset.asset} both use channel "
                    f"{asset.channel} on port {self.binding}."
                )
            routes[asset.channel] = asset
        return routes

    # -- public API --------------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The port binding as configured."""
        return self.binding.text

    @property
    def state(self) -> str:
        """connecting, connected, disconnected or stopped."""
        return self._state

    @property
    def device(self) -> str | None:
        """The device currently open, if connected."""
        port = self._port
        return port.device if port is not None else None

    @property
    def settings(self) -> dict[str, object] | None:
        """Line settings the driver held when the port was last opened."""
        return self._settings

    @property
    def can_request(self) -> bool:
        """Whether values can be requested (the profile polls)."""
        return self.profile.protocol.mode == "poll"

    def start(self, require_port: bool = False) -> None:
        """Start the thread; with ``require_port`` open the port first and raise if it cannot."""
        if self._thread is not None:
            raise RuntimeError("reader already started")
        if require_port:
            self._open()
        self._thread = threading.Thread(
            target=self._run, name=f"gauge-reader {self.binding}", daemon=True
        )
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread, wait for it, and close the port."""
        self._stop.set()
        port = self._port
        if port is not None:
            port.cancel_read()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._port is not None:
            self._port.close()
            self._port = None
        self._state = "stopped"

    def __enter__(self) -> GaugeReader:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, asset: str | None = None, channel: int | None = None) -> None:
        """Ask the gauge of ``asset`` (or ``channel``) for a value now; the answer is an event."""
        if not self.can_request:
            raise GaugeError(
                f"Profile {self.profile.name} is a push gauge: press the DATA key to send a value."
            )
        if asset is not None:
            match = [a for a in self.assets if a.asset == asset]
            if not match:
                raise GaugeError(f"Gauge asset {asset} is not on port {self.binding}.")
            channel = match[0].channel
        if self._state != "connected":
            who = asset or "The gauge"
            raise GaugeError(f"{who} on port {self.binding} is not connected, so it cannot answer.")
        if channel is None:
            channel = self._poll_channels()[0]
        self._enqueue(_Request(asset or self._asset_id(channel), channel))

    def traffic(self) -> list[TrafficEntry]:
        """The recent raw traffic on this port, oldest first."""
        with self._traffic_lock:
            return list(self._traffic)

    # -- internals ---------------------------------------------------------------------------

    def _poll_channels(self) -> list[int | None]:
        """The channels a periodic poll asks, in order (None: the gauge has no channels)."""
        return [c for c in self._routes if c is not None] or [None]

    def _asset_id(self, channel: int | None) -> str | None:
        asset = self._routes.get(channel, self._routes.get(None))
        return asset.asset if asset is not None else None

    def _enqueue(self, req: _Request) -> None:
        with self._requests_lock:
            key = (req.asset, req.channel)
            if any((r.asset, r.channel) == key for r in self._requests):
                return
            self._requests.append(req)
        port = self._port
        if port is not None:
            port.cancel_read()

    @property
    def dropped(self) -> int:
        """Events dropped in all because the events queue was full (its reader fell behind)."""
        return self._dropped_total

    def _emit(self, event: GaugeEvent) -> None:
        if self._events is not None:
            self._queue(event)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # a consumer's bug must not kill the reader
                log.exception("gauge event callback failed")

    def _queue(self, event: GaugeEvent) -> None:
        """Put an event on the queue without ever blocking; count what does not fit.

        A bounded queue that is full loses the event; the next time there is room a
        DroppedEvent with the count goes in first, where the gap is.
        """
        events = self._events
        assert events is not None
        try:
            if self._dropped_pending:
                events.put_nowait(DroppedEvent(self.port, utc_now(), self._dropped_pending))
                self._dropped_pending = 0
            events.put_nowait(event)
        except queue.Full:
            self._dropped_pending += 1
            self._dropped_total += 1
            if self._dropped_pending == 1:
                self._note("note", b"", "events queue full: dropping events")

    def _note(self, direction: Literal["rx", "tx", "note"], data: bytes, note: str = "") -> None:
        entry = TrafficEntry(utc_now(), direction, data, note)
        with self._traffic_lock:
            self._traffic.append(entry)

    def _asset_names(self) -> tuple[str, ...]:
        return tuple(a.asset for a in self.assets)

    def _open(self) -> None:
        port = open_port(
            self.binding,
            self.profile.serial,
            self._list_ports() if self.binding.kind == "usb" else None,
        )
        try:
            port.discard_input()
        except Disconnected:
            port.close()
            raise
        self._port = port
        self._settings = port.settings
        self._framer.flush()
        self._partial_since = None
        self._pending = None
        self._next_poll = time.monotonic()
        self._state = "connected"
        self._last_reason = None
        self._note("note", b"", f"connected to {port.device}")
        self._emit(ConnectedEvent(self.port, utc_now(), port.device, self._asset_names()))

    def _disconnected(self, error: PortError) -> None:
        """Record an outage; report it once, and again only if its reason changes."""
        if self._port is not None:
            self._port.close()
            self._port = None
        self._framer.flush()
        self._partial_since = None
        self._pending = None
        with self._requests_lock:
            self._requests.clear()
        reason = str(error)
        # While the gauge is away, reopening fails the same way over and over: report the
        # outage once, and again only when the reason becomes something else to act on
        # (ambiguous adapters, permission denied, ...).
        key = "absent" if getattr(error, "absent", False) else reason
        if self._state != "disconnected" or key != self._last_reason:
            self._state = "disconnected"
            self._last_reason = key
            self._note("note", b"", f"disconnected: {reason}")
            self._emit(DisconnectedEvent(self.port, utc_now(), reason, self._asset_names()))

    def _run(self) -> None:
        failed = 0  # failed attempts to open the port since it was last open
        while not self._stop.is_set():
            if self._port is None:
                try:
                    self._open()
                except Exception as exc:  # whatever a driver raises, the reader carries on
                    if not isinstance(exc, PortError):
                        log.exception("opening %s failed", self.binding)
                        exc = PortOpenError(f"Cannot open gauge port {self.binding}: {exc}.")
                    self._disconnected(exc)
                    self._stop.wait(self._backoff.delay(failed))
                    failed += 1
                    continue
                failed = 0
            try:
                self._service()
            except Disconnected as exc:
                if not self._stop.is_set():
                    self._disconnected(exc)
            except Exception:  # never let the thread die silently
                log.exception("gauge reader on %s failed; reopening the port", self.binding)
                self._disconnected(Disconnected(f"The reader of port {self.binding} failed."))
                self._stop.wait(self._backoff.delay(failed))

    def _service(self) -> None:
        """One turn: send what is due, read what arrived, handle frames and deadlines."""
        port = self._port
        assert port is not None
        now = time.monotonic()
        if self.poll_interval > 0 and now >= self._next_poll:
            self._next_poll = max(self._next_poll + self.poll_interval, now)
            for channel in self._poll_channels():
                self._enqueue(_Request(self._asset_id(channel), channel))
        if self._pending is None:
            self._send_next(port)
        data = port.read()
        now = time.monotonic()
        if data:
            received_at = utc_now()
            had_partial = self._framer.dirty
            frames = self._framer.feed(data)
            for frame in frames:
                self._handle(frame, received_at)
            if not self._framer.dirty:
                self._partial_since = None
            elif frames or not had_partial:
                self._partial_since = now
        elif self._stop.is_set():
            return
        frame_timeout = float(self.profile.protocol.frame_timeout)
        if self._partial_since is not None and now - self._partial_since > frame_timeout:
            # Silence inside a frame: what came so far is reported, and every byte up to the
            # next terminator belongs to the same broken frame -- never read as a value.
            head = self._framer.interrupt()
            self._partial_since = None
            if head:
                error = FrameError(
                    f"silence of more than {frame_timeout:g} s after {len(head)} bytes and no "
                    "terminator: the frame is broken and not read",
                    head,
                )
                self._note("rx", head, "broken frame (silence inside it)")
                self._error(ErrorKind.FRAME, error, self._sole_asset(), raw=head)
        pending = self._pending
        if pending is not None and now > pending.deadline:
            self._pending = None
            timeout = self.profile.protocol.reply_timeout
            who = pending.asset or f"The gauge on {self.binding}"
            silent = GaugeTimeout(f"{who} did not answer within {timeout} s.")
            self._note("note", b"", "no answer (timeout)")
            self._error(ErrorKind.TIMEOUT, silent, pending.asset)

    def _send_next(self, port: SerialPort) -> None:
        with self._requests_lock:
            if not self._requests:
                return
            req = self._requests.pop(0)
        proto = self.profile.protocol
        try:
            if proto.request_by == "dtr-pulse":
                rest = self.profile.serial.dtr if self.profile.serial.dtr is not None else True
                self._note("note", b"", f"DTR pulse {proto.dtr_pulse_ms} ms")
                port.pulse_dtr(proto.dtr_pulse_ms, rest)
            else:
                req.command = proto.request_bytes(req.channel)
                self._note("tx", req.command)
                port.write(req.command)
        except LinesUnsupported as exc:
            self._error(ErrorKind.PORT, exc, req.asset)
            return
        req.deadline = time.monotonic() + float(proto.reply_timeout)
        self._pending = req

    def _sole_asset(self) -> str | None:
        return self.assets[0].asset if len(self.assets) == 1 else None

    def _error(
        self,
        kind: ErrorKind,
        error: InspectStationError,
        asset: str | None,
        *,
        raw: bytes | None = None,
        at: dt.datetime | None = None,
    ) -> None:
        code = error.code if isinstance(error, DeviceError) else None
        meaning = error.meaning if isinstance(error, DeviceError) else None
        self._emit(
            ErrorEvent(
                self.port, at or utc_now(), asset, kind, str(error), error, code, meaning, raw
            )
        )

    def _is_echo(self, data: bytes) -> bool:
        pending = self._pending
        if pending is None or not self.profile.protocol.echo or not pending.command:
            return False
        strip = b" \t\r\n"
        return data.strip(strip) == pending.command.strip(strip)

    def _handle(self, frame: Frame, received_at: dt.datetime) -> None:
        """Decide what one frame is and report it."""
        if frame.broken:
            # The rest of a frame a silence broke: reported with its bytes, never decoded.
            pending = self._pending
            self._pending = None
            asset = pending.asset if pending is not None else self._sole_asset()
            error = FrameError(
                f"the rest of a frame broken by a silence, {len(frame.data)} bytes up to its "
                "terminator: not read",
                frame.data,
            )
            self._note("rx", frame.data, "rest of a broken frame dropped")
            self._error(ErrorKind.FRAME, error, asset, raw=frame.data, at=received_at)
            return
        if not frame.complete:
            error = FrameError(f"{len(frame.data)} bytes without a frame's end", frame.data)
            self._note("rx", frame.data, "garbage dropped (overlong)")
            self._error(ErrorKind.FRAME, error, self._sole_asset(), raw=frame.data, at=received_at)
            return
        if self._is_echo(frame.data):
            self._note("rx", frame.data, "echo skipped")
            return
        decoded = decode(frame.data, self.profile.codec)
        pending = self._pending
        if isinstance(decoded, Notice):
            self._note("rx", frame.data, "status" if decoded.text else "empty line")
            return
        if isinstance(decoded, Reading):
            self._pending = None
            if pending is not None:
                decoded = decoded.with_channel(pending.channel)
            self._reading(decoded, received_at, solicited=pending is not None)
            return
        # A device error or garbage answers a pending request just the same.
        self._pending = None
        asset = pending.asset if pending is not None else self._sole_asset()
        if isinstance(decoded, DeviceError):
            self._note("rx", frame.data, f"device error {decoded.code}")
            self._error(ErrorKind.DEVICE, decoded, asset, raw=frame.data, at=received_at)
        else:
            self._note("rx", frame.data, "garbage")
            self._error(ErrorKind.FRAME, decoded, asset, raw=frame.data, at=received_at)

    def _reading(self, reading: Reading, received_at: dt.datetime, *, solicited: bool) -> None:
        routes = self._routes
        if reading.channel in routes:
            asset = routes[reading.channel]
        elif None in routes and (not self.assets or routes[None] is not None):
            asset = routes[None]
        else:
            channels = ", ".join(str(c) for c in routes if c is not None)
            error = UnroutedChannel(
                f"A reading arrived on channel {reading.channel} of port {self.binding}, "
                f"but no gauge asset is configured for it (configured: {channels})."
            )
            self._note("rx", reading.raw, f"channel {reading.channel} not routed")
            self._error(ErrorKind.UNROUTED, error, None, raw=reading.raw, at=received_at)
            return
        if asset is not None:
            reading = reading.with_unit(asset.unit)
            try:
                asset.require_calibrated(self._today())
            except CalibrationExpired as exc:
                self._note("rx", reading.raw, f"refused: {asset.asset} calibration overdue")
                self._error(
                    ErrorKind.CALIBRATION, exc, asset.asset, raw=reading.raw, at=received_at
                )
                return
        if not solicited:
            # A second identical unsolicited value within the window is a double DATA press
            # (or a bouncing foot switch); it is compared with the last one delivered.
            key = asset.asset if asset is not None else reading.channel
            now = time.monotonic()
            window = float(self.profile.protocol.double_press_window)
            last = self._last_push.get(key)
            if last is not None and last[0] == reading.value and now - last[1] < window:
                self._note("rx", reading.raw, "double press dropped")
                return
            self._last_push[key] = (reading.value, now)
        name = asset.asset if asset is not None else None
        self._note("rx", reading.raw, f"reading {name}" if name else "reading")
        trace = asset.trace() if asset is not None else None
        self._emit(ReadingEvent(self.port, received_at, name, reading, trace))
