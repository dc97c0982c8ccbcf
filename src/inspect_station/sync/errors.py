"""Typed sync errors: each reaches the inspector or the administrator as one sentence."""

from __future__ import annotations

from enum import StrEnum

from inspect_station.errors import InspectStationError


class SyncError(InspectStationError):
    """Shipping records to the central store failed."""

    transient = False
    """Whether trying again later may succeed without anyone changing anything."""


class CentralUrlError(SyncError):
    """A central store URL cannot be used (unknown scheme, malformed)."""


class CentralUnavailable(SyncError):
    """The central store cannot be reached right now (network, server down, connection lost)."""

    transient = True


class CentralSchemaError(SyncError):
    """The central store has no inspect-station schema, or one newer than this program."""


class CentralPermissionError(SyncError):
    """The central store refused the operation for lack of a privilege."""


class Refusal(StrEnum):
    """Why the central store refused a batch of records instead of merging it."""

    GAP = "gap"
    """Sequence numbers are missing: the batch does not follow on from what central holds."""
    FORK = "fork"
    """The station's chain differs from the one central already holds for it."""
    BAD_HASH = "bad hash"
    """A record's hash does not match its content: the record was altered."""
    BROKEN_LINK = "broken link"
    """A record's prev_hash does not match the hash of the record before it."""
    WRONG_STATION = "wrong station"
    """A record belongs to another station than the one shipping it (or the role may not)."""
    DUPLICATE = "duplicate"
    """A record UUID is already held by central under another station or seq."""
    MALFORMED = "malformed"
    """A record is missing fields, has an unknown format or cannot be canonicalised."""


class IngestRefused(SyncError):
    """The central store refused a batch; the reason is kept and shown, never merged silently."""

    def __init__(self, reason: Refusal, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.seq = seq
