"""The one module that owns serial ports: binding, resolving, opening, settings, DTR/RTS lines.

A gauge asset names its port with a *binding*:

- a device path: ``/dev/ttyUSB0``, ``COM3``, ``/dev/serial/by-id/usb-FTDI_..._A1234-if00-port0``;
- a pyserial URL: ``socket://host:4001``, ``rfc2217://host:2217``, ``loop://``;
- a USB identity: ``usb:VID:PID``, ``usb:VID:PID:SERIAL``, optionally ``@LOCATION`` (the USB
  port path, e.g. ``usb:067b:2303@1-1.4``) to tell apart adapters that have no serial number.

:func:`resolve_port` turns a USB identity into today's device name from a list of port infos (pure,
so it is tested with fabricated ones); two adapters that cannot be told apart raise
:class:`AmbiguousPort` naming both, never a guess.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict

import serial
from serial.tools import list_ports

from inspect_station.gauges.errors import (
    AmbiguousPort,
    Disconnected,
    LinesUnsupported,
    PortError,
    PortNotFound,
    PortOpenError,
)
from inspect_station.gauges.profile import SerialSettings

URL_SCHEMES = ("socket://", "rfc2217://", "loop://", "spy://", "hwgrep://", "alt://")
BY_ID_DIR = Path("/dev/serial/by-id")
READ_SLICE = 0.05
"""Seconds a read blocks at most, so a reader notices stop requests and deadlines."""
WRITE_TIMEOUT = 2.0
"""Seconds a write to a device path may block before the port counts as gone."""
_PARITIES = {
    "none": serial.PARITY_NONE,
    "even": serial.PARITY_EVEN,
    "odd": serial.PARITY_ODD,
    "mark": serial.PARITY_MARK,
    "space": serial.PARITY_SPACE,
}
_STOPBITS = {
    Decimal("1"): serial.STOPBITS_ONE,
    Decimal("1.5"): serial.STOPBITS_ONE_POINT_FIVE,
    Decimal("2"): serial.STOPBITS_TWO,
}


class LineSettings(TypedDict):
    """pyserial's keyword arguments for a port's line settings."""

    baudrate: int
    bytesize: int
    parity: str
    stopbits: float
    rtscts: bool
    dsrdtr: bool
    xonxoff: bool


def pyserial_settings(settings: SerialSettings) -> LineSettings:
    """Keyword arguments for a pyserial port with a profile's line settings."""
    return LineSettings(
        baudrate=settings.baudrate,
        bytesize=settings.bytesize,
        parity=_PARITIES[settings.parity],
        stopbits=_STOPBITS[settings.stopbits],
        rtscts=settings.flow_control == "rts-cts",
        dsrdtr=settings.flow_control == "dsr-dtr",
        xonxoff=settings.flow_control == "xon-xoff",
    )


def comports() -> Sequence[PortInfoLike]:
    """The serial ports the operating system lists now (pyserial's ``list_ports``)."""
    return list_ports.comports()


class PortInfoLike(Protocol):
    """What :func:`resolve_port` needs from ``serial.tools.list_ports`` entries."""

    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    location: str | None


@dataclass(frozen=True, slots=True)
class PortBinding:
    """How an asset finds its port: a path, a pyserial URL or a USB identity."""

    kind: Literal["path", "url", "usb"]
    text: str
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None
    location: str | None = None

    def __str__(self) -> str:
        return self.text


def parse_binding(text: str) -> PortBinding:
    """Parse an asset's ``port`` setting; PortError with the expected forms if it is malformed."""
    text = text.strip()
    if not text:
        raise PortError("A gauge port binding is empty; give a device path, URL or usb:VID:PID.")
    if text.lower().startswith("usb:"):
        spec, _, location = text[4:].partition("@")
        parts = spec.split(":")
        if len(parts) not in (2, 3) or not all(parts[:2]):
            raise PortError(
                f"USB port binding {text!r} is malformed; expected usb:VID:PID[:SERIAL][@LOCATION]."
            )
        try:
            vid, pid = (int(p, 16) for p in parts[:2])
        except ValueError:
            raise PortError(
                f"USB port binding {text!r} needs hexadecimal VID and PID, e.g. usb:0fe7:4001."
            ) from None
        if not (0 <= vid <= 0xFFFF and 0 <= pid <= 0xFFFF):
            raise PortError(f"USB port binding {text!r} has a VID or PID above ffff.")
        serial_number = parts[2] if len(parts) == 3 and parts[2] else None
        return PortBinding("usb", text, vid, pid, serial_number, location or None)
    if "://" in text:
        return PortBinding("url", text)
    return PortBinding("path", text)


def _describe(info: PortInfoLike) -> str:
    """``/dev/ttyUSB0 (serial X, location 1-1.2)`` for messages."""
    extras = []
    if info.serial_number:
        extras.append(f"serial {info.serial_number}")
    if info.location:
        extras.append(f"location {info.location}")
    return f"{info.device} ({', '.join(extras)})" if extras else info.device


def resolve_port(binding: PortBinding | str, ports: Iterable[PortInfoLike]) -> str:
    """Today's device name or URL for ``binding`` given the ports the machine lists.

    Paths and URLs are returned as they are. A USB identity must match exactly one port by
    VID:PID, serial number (if given) and location (if given); PortNotFound if none does,
    AmbiguousPort if several do.
    """
    if isinstance(binding, str):
        binding = parse_binding(binding)
    if binding.kind != "usb":
        return binding.text
    matches = [p for p in ports if p.vid == binding.vid and p.pid == binding.pid]
    ident = f"{binding.vid:04x}:{binding.pid:04x}"
    if binding.serial_number is not None:
        wanted = binding.serial_number.casefold()
        matches = [p for p in matches if (p.serial_number or "").casefold() == wanted]
        ident += f" with serial number {binding.serial_number}"
    if binding.location is not None:
        matches = [p for p in matches if p.location == binding.location]
        ident += f" at USB location {binding.location}"
    if not matches:
        raise PortNotFound(f"No USB serial adapter {ident} is plugged in.")
    if len(matches) > 1:
        matches.sort(key=lambda p: p.device)
        names = " and ".join(_describe(p) for p in matches)
        hint = ", ".join(
            f"usb:{binding.vid:04x}:{binding.pid:04x}"
            + (f":{binding.serial_number}" if binding.serial_number else "")
            + f"@{p.location}"
            for p in matches
            if p.location
        )
        advice = f"; bind the asset to one of {hint}" if hint else ""
        raise AmbiguousPort(
            f"Several USB serial adapters match {ident} and cannot be told apart: {names}{advice}.",
            [p.device for p in matches],
        )
    return matches[0].device


@dataclass(frozen=True, slots=True)
class SerialPortInfo:
    """A serial port the machine sees, for ``gauges list`` and for resolving USB identities."""

    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    location: str | None
    description: str
    by_id: tuple[str, ...] = ()

    @property
    def usb_id(self) -> str | None:
        """``VID:PID`` in lowercase hex, or None for a port that is not USB."""
        if self.vid is None or self.pid is None:
            return None
        return f"{self.vid:04x}:{self.pid:04x}"


def list_serial_ports() -> list[SerialPortInfo]:
    """The serial ports the operating system lists now, with their stable by-id names."""
    links: dict[str, list[str]] = {}
    if BY_ID_DIR.is_dir():
        for link in sorted(BY_ID_DIR.iterdir()):
            with contextlib.suppress(OSError):
                links.setdefault(os.path.realpath(link), []).append(str(link))
    out = []
    for info in sorted(list_ports.comports(), key=lambda p: p.device):
        out.append(
            SerialPortInfo(
                device=info.device,
                vid=info.vid,
                pid=info.pid,
                serial_number=info.serial_number,
                location=info.location,
                description=info.description or "",
                by_id=tuple(links.get(os.path.realpath(info.device), ())),
            )
        )
    return out


class SerialPort:
    """An open gauge port: the only object that reads, writes and drives lines on it."""

    def __init__(self, handle: Any, binding: PortBinding, device: str) -> None:
        self._handle = handle
        self.binding = binding
        """The binding this port was resolved from."""
        self.device = device
        """The device path or URL actually opened."""
        self.lines_supported = True
        """False once the port has refused a DTR/RTS change (pseudo-terminal, TCP socket)."""

    @property
    def settings(self) -> dict[str, Any]:
        """The line settings the driver holds (baud rate, data bits, parity, stop bits, ...)."""
        return dict(self._handle.get_settings())

    def read(self) -> bytes:
        """What has arrived, waiting up to READ_SLICE seconds for the first byte."""
        # The timeout is fixed at open: pyserial reconfigures the whole port when it changes.
        try:
            handle = self._handle
            waiting = handle.in_waiting
            return handle.read(waiting if waiting > 0 else 1)
        except (serial.SerialException, OSError) as exc:
            raise Disconnected(f"Port {self.binding} went away ({_reason(exc)}).") from exc

    def write(self, data: bytes) -> None:
        """Send ``data`` and wait until it has left the driver."""
        try:
            self._handle.write(data)
            self._handle.flush()
        except (serial.SerialException, OSError) as exc:
            raise Disconnected(f"Port {self.binding} went away ({_reason(exc)}).") from exc

    def set_lines(self, dtr: bool | None, rts: bool | None) -> None:
        """Hold DTR and RTS at the given levels (None leaves a line alone)."""
        for name, level in (("dtr", dtr), ("rts", rts)):
            if level is None:
                continue
            try:
                setattr(self._handle, name, level)
            except OSError as exc:
                if exc.errno in (errno.ENOTTY, errno.EINVAL):
                    self.lines_supported = False
                    raise LinesUnsupported(
                        f"Port {self.binding} has no modem control lines, so its "
                        f"{name.upper()} line cannot be set."
                    ) from exc
                raise Disconnected(f"Port {self.binding} went away ({_reason(exc)}).") from exc
            except serial.SerialException as exc:
                raise Disconnected(f"Port {self.binding} went away ({_reason(exc)}).") from exc

    def pulse_dtr(self, milliseconds: int, rest_level: bool = True) -> None:
        """Take DTR away from ``rest_level`` for ``milliseconds``, then back (a simplex request)."""
        if not self.lines_supported:
            raise LinesUnsupported(
                f"Port {self.binding} has no modem control lines, so a simplex cable on it "
                "cannot be asked for a value."
            )
        try:
            self.set_lines(not rest_level, None)
            time.sleep(milliseconds / 1000)
        finally:
            if self.lines_supported:
                self.set_lines(rest_level, None)

    def discard_input(self) -> None:
        """Drop whatever the driver buffered before the reader was ready."""
        try:
            self._handle.reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            raise Disconnected(f"Port {self.binding} went away ({_reason(exc)}).") from exc

    def cancel_read(self) -> None:
        """Wake a read blocked in another thread (no-op where the driver cannot)."""
        cancel = getattr(self._handle, "cancel_read", None)
        if cancel is not None:
            with contextlib.suppress(Exception):
                cancel()

    def close(self) -> None:
        """Close the port; safe to call twice."""
        with contextlib.suppress(Exception):
            self._handle.close()


def _reason(exc: BaseException) -> str:
    """A short lowercase reason from an OS or pyserial error."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    text = str(exc).strip() or exc.__class__.__name__
    # pyserial's wordings for an unplugged USB adapter or a closed pseudo-terminal.
    if "returned no data" in text or "Errno 5]" in text:
        return "the device disconnected"
    if "reader thread died" in text or "socket" in text.lower():
        return "the connection closed"
    return text.rstrip(".")


def open_port(
    binding: PortBinding | str,
    settings: SerialSettings,
    ports: Sequence[PortInfoLike] | None = None,
) -> SerialPort:
    """Resolve and open ``binding`` with ``settings`` and the profile's DTR/RTS levels."""
    if isinstance(binding, str):
        binding = parse_binding(binding)
    if binding.kind == "usb" and ports is None:
        ports = list_ports.comports()
    device = resolve_port(binding, ports or ())
    try:
        handle = serial.serial_for_url(
            device, do_not_open=True, timeout=READ_SLICE, **pyserial_settings(settings)
        )
        if binding.kind == "path":
            # A stuck device must not hang the reader forever (URL handlers lack this setting).
            handle.write_timeout = WRITE_TIMEOUT
    except (serial.SerialException, ValueError) as exc:
        raise PortOpenError(f"Cannot open gauge port {device}: {_reason(exc)}.") from exc
    # Line levels are set before opening: pyserial applies them on open and tolerates a port
    # without modem lines there, where setting them afterwards would fail.
    if settings.dtr is not None:
        handle.dtr = settings.dtr
    if settings.rts is not None:
        handle.rts = settings.rts
    if hasattr(handle, "exclusive") and binding.kind == "path":
        handle.exclusive = True
    try:
        handle.open()
    except Exception as exc:  # drivers raise more than SerialException (NotImplementedError, ...)
        reason, absent = _open_reason(exc)
        raise PortOpenError(f"Cannot open gauge port {device}: {reason}.", absent) from exc
    # Report what was actually opened: a by-id link or a simulator's link leads to a tty.
    opened = os.path.realpath(device) if binding.kind == "path" else device
    port = SerialPort(handle, binding, opened)
    if settings.dtr is not None or settings.rts is not None:
        with contextlib.suppress(LinesUnsupported):
            # Confirm the levels; a port without lines is noted (lines_supported = False).
            port.set_lines(settings.dtr, settings.rts)
    return port


def _open_reason(exc: BaseException) -> tuple[str, bool]:
    """Why a port could not be opened, in a few words, and whether it is simply not there."""
    inner: BaseException = exc
    code = getattr(exc, "errno", None)
    if code is None and isinstance(exc.__context__, OSError):
        inner = exc.__context__
        code = exc.__context__.errno
    text = str(exc).lower()
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return "no such device (is the gauge plugged in?)", True
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied (add the user to the dialout group)", False
    if code == errno.EBUSY or "exclusively lock" in text:
        return "it is in use by another program", False
    if code == errno.ECONNREFUSED or "refused" in text:
        return "the connection was refused (is the serial server running?)", True
    return _reason(inner), False
