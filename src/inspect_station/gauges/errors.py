"""Typed gauge errors: each one is a single sentence for the person at the bench."""

from __future__ import annotations

from collections.abc import Sequence

from inspect_station.errors import GaugeError


class ProfileError(GaugeError):
    """A gauge profile file is invalid or missing; ``problems`` holds ``file:line: ...`` lines."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems) or [message]


class FrameError(GaugeError):
    """A frame from the gauge does not have the layout its profile describes (garbage)."""

    def __init__(self, reason: str, raw: bytes) -> None:
        super().__init__(f"The gauge sent a malformed frame ({reason}).")
        self.reason = reason
        self.raw = raw


class DeviceError(GaugeError):
    """The gauge itself reported an error (over range, sensor error, bad command, ...)."""

    def __init__(self, code: str, meaning: str, raw: bytes) -> None:
        super().__init__(f"The gauge reported error {code}: {meaning}.")
        self.code = code
        self.meaning = meaning
        self.raw = raw


class GaugeTimeout(GaugeError):
    """A polled gauge did not answer within its reply timeout."""


class UnroutedChannel(GaugeError):
    """A reading arrived on a multiplexer channel that no configured asset uses."""


class PortError(GaugeError):
    """A gauge's port cannot be found, told apart from another, or opened."""

    absent = False
    """True when the error only means the gauge is not there (unplugged, switched off)."""


class PortNotFound(PortError):
    """No serial port matches the gauge's port binding right now."""

    absent = True


class AmbiguousPort(PortError):
    """Several serial ports match a binding and nothing tells them apart."""

    def __init__(self, message: str, candidates: Sequence[str]) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


class PortOpenError(PortError):
    """The operating system refused to open the gauge's port."""

    def __init__(self, message: str, absent: bool = False) -> None:
        super().__init__(message)
        self.absent = absent


class LinesUnsupported(PortError):
    """The port has no modem control lines (a pseudo-terminal or a plain TCP socket)."""


class Disconnected(PortError):
    """The port went away while it was in use (cable unplugged, device powered off)."""

    absent = True
