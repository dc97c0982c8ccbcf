"""Typed errors. Each carries one clear sentence meant for the person at the bench."""

from __future__ import annotations


class InspectStationError(Exception):
    """Base of every error the station reports to a user as one sentence."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(InspectStationError):
    """The station configuration file is missing, unreadable or invalid."""


class SpecError(InspectStationError):
    """A part spec file is invalid, or a requested spec does not exist."""


class UnknownSpec(SpecError):
    """No released spec matches the requested part number and revision."""


class UnknownCharacteristic(SpecError):
    """The spec has no characteristic with the requested id."""


class ReadingError(InspectStationError):
    """A reading cannot be evaluated (not a number, wrong unit, ...)."""


class ImplausibleReading(ReadingError):
    """A reading falls outside the characteristic's reasonable limits: wrong gauge or feature."""


class CalibrationExpired(InspectStationError):
    """A gauge asset is past its calibration due date and cannot feed a measurement."""


class StoreError(InspectStationError):
    """The local record cannot be opened or written."""


class ChainBroken(StoreError):
    """The journal's hash chain or its projections do not verify."""

    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


class ReviewError(InspectStationError):
    """A review request cannot be done; the message says why in one sentence."""


class DispositionError(ReviewError):
    """The disposition asked for is incomplete or invalid (no reason, unknown kind, ...)."""


class GaugeError(InspectStationError):
    """A gauge could not be opened or read."""


class SamplingError(InspectStationError):
    """A sampling plan cannot be determined (unknown level, AQL, lot size)."""
