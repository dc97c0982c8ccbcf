# Over 500 lines: the pty and RFC 2217 links and the three simulators sharing them.
"""Simulated gauges that speak a profile's protocol on a pseudo-terminal (or over RFC 2217).

The same code drives the demo station, ``inspect-station gauges simulate`` and the tests. A
simulator is started from Python as a context manager::

    with simulator_for(profile, link=Path("/tmp/gauges/CAL-0042")) as sim:
        ...                      # station.toml: port = "/tmp/gauges/CAL-0042"
        sim.press("12.345")      # the inspector presses DATA
        sim.unplug(); sim.replug()

The station binds to ``sim.port``: a symlink in a directory of the simulator's own that always
points at the current pseudo-terminal, like ``/dev/serial/by-id/...`` does for a real adapter. On
unplug the pseudo-terminal is closed (the reader sees the disconnect) and the link removed; on
replug a new pseudo-terminal appears under the same link.

A pseudo-terminal has no modem control lines. A simulator started with ``rfc2217=PORT`` serves
``rfc2217://127.0.0.1:PORT`` instead, where line levels and serial settings travel with the data,
so a simplex cable's DTR pulse can be answered and a duplex cable's DTR/RTS levels observed.

POSIX only (``os.openpty``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import select
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from serial import rfc2217

from inspect_station import locations
from inspect_station.config import StationConfig
from inspect_station.errors import GaugeError
from inspect_station.gauges.codec import normalize_value
from inspect_station.gauges.ports import parse_binding
from inspect_station.gauges.profile import GaugeProfile, load_profile

DTR_PULSE_MIN = 0.1
"""Shortest DTR drop (seconds) a simulated simplex instrument takes as a request."""

GARBAGE = b"\x00\xff#\x13~\x80q"
"""What ``send_garbage()`` sends by default: line noise with no terminator in it."""


def default_link_dir() -> Path:
    """Where ``gauges simulate`` puts its stable port links unless told otherwise."""
    return locations.data_dir() / "simulated-gauges"


class _Link:
    """The simulated device's side of a connection."""

    name: str
    """The stable port name the station binds to."""
    device: str
    """The current device (pty path or URL)."""

    def write(self, data: bytes) -> None:
        """Send bytes to the station."""
        raise NotImplementedError

    def close(self) -> None:
        """Disappear (unplug)."""
        raise NotImplementedError


class _PtyLink(_Link):
    """A pseudo-terminal in raw mode, reachable through a stable symlink."""

    def __init__(self, link: Path, on_input: Callable[[bytes], None]) -> None:
        import tty  # POSIX only: imported here so the station still imports on Windows

        self._master, self._slave = os.openpty()
        # Raw mode before anyone opens it, or early bytes are echoed back and CR mangled.
        tty.setraw(self._slave)
        self.device = os.ttyname(self._slave)
        self.name = str(link)
        self._link = link
        self._on_input = on_input
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._closed = False
        link.parent.mkdir(parents=True, exist_ok=True)
        temp = link.with_name(f".{link.name}.{os.getpid()}.{threading.get_ident()}")
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        os.symlink(self.device, temp)
        os.replace(temp, link)
        self._thread = threading.Thread(target=self._pump, name=f"sim {link.name}", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while True:
            ready, _, _ = select.select([self._master, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            if not data:
                return
            self._on_input(data)

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._closed:
                return
            view = memoryview(data)
            while view:
                written = os.write(self._master, view)
                view = view[written:]

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with contextlib.suppress(OSError):
            if os.readlink(self._link) == self.device:
                self._link.unlink()
        os.write(self._wake_w, b"x")
        self._thread.join()
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)


class _LineState:
    """What an RFC 2217 client set: line levels and serial settings (pyserial's PortManager
    drives it like a serial port)."""

    def __init__(self, on_lines: Callable[[bool | None, bool | None], None]) -> None:
        self._on_lines = on_lines
        self._dtr: bool | None = None
        self._rts: bool | None = None
        self.baudrate = 9600
        self.bytesize = 8
        self.parity = "N"
        self.stopbits = 1
        self.xonxoff = False
        self.rtscts = False
        self.break_condition = False
        self.cts = True
        self.dsr = True
        self.ri = False
        self.cd = True

    @property
    def dtr(self) -> bool | None:
        """DTR as the client last set it."""
        return self._dtr

    @dtr.setter
    def dtr(self, value: bool) -> None:
        self._dtr = bool(value)
        self._on_lines(self._dtr, self._rts)

    @property
    def rts(self) -> bool | None:
        """RTS as the client last set it."""
        return self._rts

    @rts.setter
    def rts(self, value: bool) -> None:
        self._rts = bool(value)
        self._on_lines(self._dtr, self._rts)

    def reset_input_buffer(self) -> None:
        """Nothing is buffered on this side."""

    def reset_output_buffer(self) -> None:
        """Nothing is buffered on this side."""

    def settings(self) -> dict[str, Any]:
        """The serial settings the client asked for."""
        return {
            "baudrate": self.baudrate,
            "bytesize": self.bytesize,
            "parity": self.parity,
            "stopbits": self.stopbits,
        }


class _Rfc2217Link(_Link):
    """An RFC 2217 serial server on 127.0.0.1 for one client at a time."""

    def __init__(
        self,
        tcp_port: int,
        on_input: Callable[[bytes], None],
        lines: _LineState,
    ) -> None:
        self._server = socket.create_server(("127.0.0.1", tcp_port))
        self.tcp_port = self._server.getsockname()[1]
        self.name = self.device = f"rfc2217://127.0.0.1:{self.tcp_port}"
        self._on_input = on_input
        self._lines = lines
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._conn: socket.socket | None = None
        self._manager: rfc2217.PortManager | None = None
        self._wake_r, self._wake_w = os.pipe()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            waiting: list[socket.socket | int] = [self._server, self._wake_r]
            ready, _, _ = select.select(waiting, [], [])
            if self._wake_r in ready:
                return
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._conn = conn
                writer = _SocketWriter(conn, self._send_lock)
                # typeshed's stub wants rfc2217.Serial for both; pyserial only uses what these
                # provide (line levels and settings; write), as its own server examples do.
                self._manager = rfc2217.PortManager(self._lines, writer)  # type: ignore[arg-type]
            try:
                while True:
                    watched: list[socket.socket | int] = [conn, self._wake_r]
                    ready, _, _ = select.select(watched, [], [])
                    if self._wake_r in ready:
                        return
                    data = conn.recv(4096)
                    if not data:
                        break
                    payload = b"".join(self._manager.filter(data))
                    if payload:
                        self._on_input(payload)
            except OSError:
                pass
            finally:
                with self._lock:
                    self._conn = None
                    self._manager = None
                with contextlib.suppress(OSError):
                    conn.close()

    def write(self, data: bytes) -> None:
        with self._lock:
            conn, manager = self._conn, self._manager
        if conn is None or manager is None:
            return
        with self._send_lock, contextlib.suppress(OSError):
            conn.sendall(b"".join(manager.escape(data)))

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            conn = self._conn
        os.write(self._wake_w, b"x")
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join()
        with contextlib.suppress(OSError):
            self._server.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)


class _SocketWriter:
    """The ``connection`` pyserial's PortManager writes its Telnet answers to."""

    def __init__(self, conn: socket.socket, lock: threading.Lock) -> None:
        self._conn = conn
        self._lock = lock

    def write(self, data: bytes) -> None:
        """Send a Telnet/RFC 2217 answer, never interleaved with data being sent."""
        with self._lock, contextlib.suppress(OSError):
            self._conn.sendall(data)


class GaugeSimulator:
    """A simulated device of one profile: DATA presses, errors, garbage, silence, unplugging."""

    behaviour: ClassVar[str] = "push"

    def __init__(
        self,
        profile: GaugeProfile,
        *,
        values: Sequence[str] | None = None,
        channels: Sequence[int] | None = None,
        link: Path | str | None = None,
        rfc2217: int | None = None,
    ) -> None:
        self.profile = profile
        sim = profile.simulate
        self.values = [normalize_value(v) for v in (values or sim.values)]
        """Values shown, one per DATA press, cycling."""
        self.channels = list(channels or sim.channels)
        """Channels this device serves."""
        self._cycle = itertools.cycle(self.values)
        self._display = {c: self.values[0] for c in self.channels}
        self._held: set[int] = set()
        self._source: Callable[[int], str | None] | None = None
        self._override: dict[int, bytes] = {}
        self._own_dir: Path | None = None
        if rfc2217 is None and link is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="inspect-station-sim-"))
            link = self._own_dir / (profile.name or "gauge")
        self._link_path = Path(link) if link is not None else None
        self._tcp_port = rfc2217
        self._link: _Link | None = None
        self._lock = threading.RLock()
        self._silent = False
        self._started = False
        self._inbox = bytearray()
        self.requests: queue.Queue[bytes] = queue.Queue()
        """Commands received from the station, in order (for tests and the console)."""
        self.sent: list[bytes] = []
        """Every frame sent, in order."""
        self.line_state = _LineState(self._lines_changed)
        """Serial settings and DTR/RTS levels the station set (RFC 2217 only)."""
        self.lines: list[tuple[bool | None, bool | None]] = []
        """(DTR, RTS) after each change the station made (RFC 2217 only)."""

    # -- life cycle --------------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The stable port name to bind a gauge asset to (a symlink path or an RFC 2217 URL)."""
        if self._link_path is not None:
            return str(self._link_path)
        return f"rfc2217://127.0.0.1:{self._tcp_port}"

    @property
    def device(self) -> str | None:
        """The pseudo-terminal (or URL) the port currently leads to; None while unplugged."""
        link = self._link
        return link.device if link is not None else None

    @property
    def plugged(self) -> bool:
        """Whether the device is plugged in."""
        return self._link is not None

    def start(self) -> GaugeSimulator:
        """Plug the device in."""
        if self._started:
            raise RuntimeError("simulator already started")
        self._started = True
        self.replug()
        return self

    def close(self) -> None:
        """Unplug and clean up (the link directory too, if the simulator made it)."""
        self.unplug()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def __enter__(self) -> GaugeSimulator:
        if not self._started:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def unplug(self) -> None:
        """Pull the cable: the pseudo-terminal closes and its link disappears."""
        with self._lock:
            link, self._link = self._link, None
            self._inbox.clear()
        if link is not None:
            link.close()

    def replug(self) -> None:
        """Plug the cable back in: a new pseudo-terminal behind the same port name."""
        with self._lock:
            if self._link is not None:
                return
            if self._link_path is not None:
                self._link = _PtyLink(self._link_path, self._received)
            else:
                link = _Rfc2217Link(self._tcp_port or 0, self._received, self.line_state)
                self._tcp_port = link.tcp_port
                self._link = link
            power_on = self.profile.simulate.power_on
        if power_on:
            self._send(power_on.encode("ascii") + self.profile.terminator)

    # -- what the inspector does -------------------------------------------------------------

    def press(
        self, value: str | None = None, *, channel: int | None = None, flag: str = ""
    ) -> bytes | None:
        """The DATA key: the display shows ``value`` (or the next one) and the gauge sends it if
        it sends by itself; returns the frame sent, or None."""
        channel = self._channel(channel)
        if value is None:
            value = self._followed(channel) or next(self._cycle)
        value = normalize_value(value)
        sends = self.behaviour == "push" or self.profile.protocol.data_key
        with self._lock:
            self._display[channel] = value
            if sends:
                self._held.discard(channel)
            else:  # shown until the station asks for it
                self._held.add(channel)
        frame = self.profile.encode(value, channel=channel, flag=flag)
        if sends:
            return frame if self._send(frame) else None
        return None

    def set_value(self, value: str, *, channel: int | None = None) -> None:
        """Change what the display shows (what the next poll answers) without sending."""
        channel = self._channel(channel)
        with self._lock:
            self._display[channel] = normalize_value(value)
            self._held.add(channel)

    def follow(self, source: Callable[[int], str | None] | None) -> None:
        """Let ``source(channel)`` say what the device shows each time it is read (a poll
        answered, DATA pressed without a value), like a gauge put on one part after another;
        a value given with ``set_value`` is answered first, and None from ``source`` keeps the
        display. ``follow(None)`` stops following."""
        self._source = source

    def _followed(self, channel: int) -> str | None:
        source = self._source
        return source(channel) if source is not None else None

    def send_error(self, code: str | None = None, *, channel: int | None = None) -> bytes:
        """A device error frame (``code`` or the profile's typical one): sent now by a push
        gauge, as the next answer by a polled one."""
        text = code or self.profile.simulate.error
        if text is None:
            raise GaugeError(f"Profile {self.profile.name} describes no error frame to simulate.")
        return self._out(text.encode("ascii") + self.profile.terminator, channel)

    def send_garbage(self, data: bytes | None = None, *, channel: int | None = None) -> bytes:
        """Line noise (``data`` or a default burst without terminator): sent now by a push
        gauge, as the next answer by a polled one."""
        return self._out(GARBAGE if data is None else data, channel)

    def send_raw(self, data: bytes) -> bool:
        """Write ``data`` to the line now, as it is (a burst of frames, half a frame, noise);
        False if unplugged or silent."""
        return self._send(data)

    def set_silent(self, silent: bool = True) -> None:
        """Stop (or resume) sending and answering, like a gauge in its menu or switched off."""
        self._silent = silent

    @property
    def silent(self) -> bool:
        """Whether the device is silent."""
        return self._silent

    # -- internals ---------------------------------------------------------------------------

    def _channel(self, channel: int | None) -> int:
        if channel is None:
            return self.channels[0]
        if channel not in self.channels:
            served = ", ".join(str(c) for c in self.channels)
            raise GaugeError(f"The simulated device serves channels {served}, not {channel}.")
        return channel

    def _out(self, frame: bytes, channel: int | None) -> bytes:
        if self.behaviour == "push":
            self._send(frame)
        else:
            with self._lock:
                self._override[self._channel(channel)] = frame
        return frame

    def _send(self, frame: bytes) -> bool:
        with self._lock:
            link = self._link
            if link is None or self._silent:
                return False
            self.sent.append(frame)
        link.write(frame)
        return True

    def _answer(self, channel: int) -> None:
        with self._lock:
            frame = self._override.pop(channel, None)
        if self._silent:
            return
        with self._lock:
            held = channel in self._held
            self._held.discard(channel)
        followed = None if held or frame is not None else self._followed(channel)
        with self._lock:
            if followed is not None:
                self._display[channel] = normalize_value(followed)
            value = self._display[channel]
        self._send(frame or self.profile.encode(value, channel=channel))

    def _received(self, data: bytes) -> None:
        """Bytes from the station; push gauges ignore them."""
        with self._lock:
            self._inbox += data
            if len(self._inbox) > 4096:
                del self._inbox[:-64]
        self._take_requests()

    def _take_requests(self) -> None:
        """Answer complete requests in the inbox (polled behaviours)."""

    def _lines_changed(self, dtr: bool | None, rts: bool | None) -> None:
        self.lines.append((dtr, rts))


class PushSimulator(GaugeSimulator):
    """A gauge that sends a frame when its DATA key is pressed and takes no commands."""

    behaviour = "push"

    def _take_requests(self) -> None:
        with self._lock:
            data = bytes(self._inbox)
            self._inbox.clear()
        if data:
            self.requests.put(data)


class PollSimulator(GaugeSimulator):
    """A gauge that answers request bytes (``?`` CR, ``1`` CR, ``M1?`` CR, a channel byte)."""

    behaviour = "poll"

    def __init__(self, profile: GaugeProfile, **kwargs: Any) -> None:
        super().__init__(profile, **kwargs)
        proto = profile.protocol
        self._commands = {proto.request_bytes(c): c for c in self.channels}

    def _take_requests(self) -> None:
        while True:
            with self._lock:
                found = [(self._inbox.find(cmd), cmd) for cmd in self._commands]
                found = [(i, cmd) for i, cmd in found if i >= 0]
                if not found:
                    return
                index, command = min(found, key=lambda item: (item[0], -len(item[1])))
                del self._inbox[: index + len(command)]
            self.requests.put(command)
            if self._silent:
                continue
            if self.profile.protocol.echo:
                line = command.rstrip(b"\r\n")
                self._send(line + self.profile.terminator)
            self._answer(self._commands[command])


class DtrPulseSimulator(GaugeSimulator):
    """A simplex-cable instrument: dropping DTR for at least 100 ms asks for a value.

    Only an RFC 2217 simulator sees the line; on a pseudo-terminal only the DATA key works.
    """

    behaviour = "dtr-pulse"

    def __init__(self, profile: GaugeProfile, **kwargs: Any) -> None:
        super().__init__(profile, **kwargs)
        self._dtr_low_since: float | None = None
        self._last_dtr: bool | None = None

    def _lines_changed(self, dtr: bool | None, rts: bool | None) -> None:
        super()._lines_changed(dtr, rts)
        now = time.monotonic()
        if dtr is False and self._last_dtr is not False:
            self._dtr_low_since = now
        elif dtr and self._dtr_low_since is not None:
            low_for = now - self._dtr_low_since
            self._dtr_low_since = None
            if low_for >= DTR_PULSE_MIN:
                self.requests.put(b"<DTR pulse>")
                self._answer(self.channels[0])
        self._last_dtr = dtr

    def _take_requests(self) -> None:
        with self._lock:
            self._inbox.clear()


def simulator_for(profile: GaugeProfile, **kwargs: Any) -> GaugeSimulator:
    """The simulator class for the profile's behaviour, not yet started.

    Keyword arguments: ``values``, ``channels``, ``link`` (the stable port path to create) or
    ``rfc2217`` (a TCP port to serve RFC 2217 on instead of a pseudo-terminal).
    """
    proto = profile.protocol
    if proto.mode == "push":
        return PushSimulator(profile, **kwargs)
    if proto.request_by == "dtr-pulse":
        return DtrPulseSimulator(profile, **kwargs)
    return PollSimulator(profile, **kwargs)


class SimulatorBank:
    """Simulators for every gauge port of a station configuration (the demo station)."""

    def __init__(self, config: StationConfig, ports: Iterable[str] | None = None) -> None:
        wanted = set(ports) if ports is not None else None
        by_port: dict[str, list[Any]] = {}
        for asset in config.gauge:
            if wanted is None or asset.port in wanted:
                by_port.setdefault(asset.port, []).append(asset)
        self.simulators: dict[str, GaugeSimulator] = {}
        """Port binding -> its simulator."""
        self._pending: list[tuple[str, GaugeProfile, dict[str, Any]]] = []
        for port, assets in by_port.items():
            profiles = {a.profile for a in assets}
            if len(profiles) > 1:
                raise GaugeError(f"Port {port} is configured with several profiles: {profiles}.")
            profile = load_profile(assets[0].profile, config.profile_paths)
            channels = sorted({a.channel for a in assets if a.channel is not None})
            kwargs: dict[str, Any] = {"channels": channels or None}
            binding = parse_binding(port)
            if binding.kind == "path":
                kwargs["link"] = Path(port)
            elif port.startswith("rfc2217://127.0.0.1:") or port.startswith("rfc2217://localhost:"):
                kwargs["rfc2217"] = int(port.rsplit(":", 1)[1])
            else:
                raise GaugeError(
                    f"Port {port} cannot be simulated; use a file path or rfc2217://127.0.0.1:PORT."
                )
            self._pending.append((port, profile, kwargs))

    def start(self) -> SimulatorBank:
        """Start every simulator."""
        try:
            for port, profile, kwargs in self._pending:
                self.simulators[port] = simulator_for(profile, **kwargs).start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop every simulator."""
        for sim in self.simulators.values():
            sim.close()
        self.simulators.clear()

    def for_asset(self, config: StationConfig, asset_id: str) -> GaugeSimulator:
        """The simulator serving ``asset_id``'s port."""
        return self.simulators[config.asset(asset_id).port]

    def __enter__(self) -> SimulatorBank:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
