"""Typed SPC errors, each one sentence for the person at the bench or the supervisor."""

from __future__ import annotations

from inspect_station.errors import InspectStationError


class SpcError(InspectStationError):
    """Statistical process control cannot do what was asked."""


class BaselineError(SpcError):
    """Control limits cannot be computed from the chosen baseline."""


class LimitsError(SpcError):
    """A limit version is invalid, does not verify, or does not follow its predecessor."""
