"""What the review decides with: where a reject stands, its errors, the policy, the filter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from inspect_station.clock import format_utc, parse_utc
from inspect_station.config import StationConfig
from inspect_station.errors import DispositionError, ReviewError
from inspect_station.text import TextError, check_line
from inspect_station.vocabulary import Disposition

MEANING_APPROVAL = "approval of disposition"
"""Meaning of the first signature on a disposition."""
MEANING_SECOND_APPROVAL = "second approval of disposition"
"""Meaning of the second signer's signature."""
MEANING_RESOLUTION = "resolution of conflicting dispositions"
"""Meaning of the signature that decides which of conflicting dispositions stands."""
MAX_REASON = 500
"""Longest reason (characters) a disposition may carry."""


class Status(StrEnum):
    """Where a reject stands in review."""

    AWAITING = "awaiting disposition"
    """No disposition signed yet."""
    AWAITING_SECOND = "awaiting second signature"
    """Disposed and signed once; a second signer is still required."""
    DISPOSED = "disposed"
    """Disposed with every signature required."""
    CONFLICT = "conflicting dispositions"
    """Disposed more than once, signed apart (e.g. at a bench and an office terminal while one
    was offline): nothing is in force until a supervisor signs a resolution."""
    SUPERSEDED = "superseded"
    """A later result of the same part inspection replaced this one."""


class UnknownReject(ReviewError):
    """No reject matches the given id."""


class AlreadyDisposed(ReviewError):
    """The reject already has a disposition (or all the signatures it needs)."""


class StaleReject(ReviewError):
    """The reject's records changed since they were shown or first signed."""


@dataclass(frozen=True)
class SignaturePolicy:
    """Which dispositions need a second signer (AS9100: concessions need an authorised approver).

    At a station it comes only from ``second_signer`` in station.toml (``from_config``), and is
    recorded in every disposition it governs, with where it came from.
    """

    second_signer: frozenset[Disposition] = frozenset({Disposition.USE_AS_IS, Disposition.REPAIR})
    """Dispositions that are complete only with two signatures by different supervisors."""
    source: str = "built-in default"
    """Where the policy came from (recorded with each disposition)."""

    def signers_required(self, disposition: Disposition) -> int:
        """How many signatures this disposition needs."""
        return 2 if disposition in self.second_signer else 1

    def record(self) -> dict[str, Any]:
        """The policy as a disposition record holds it."""
        return {
            "second_signer": sorted(d.value for d in self.second_signer),
            "source": self.source,
        }

    @classmethod
    def from_config(cls, config: StationConfig) -> SignaturePolicy:
        """The policy station.toml sets with ``second_signer``; the default where it does not."""
        where = str(config.source) if config.source else "no station.toml"
        if config.second_signer is None:
            return cls(source=f"built-in default (second_signer not set; {where})")
        return cls(
            frozenset(Disposition(kind) for kind in config.second_signer),
            source=f"second_signer in {where}",
        )


@dataclass(frozen=True)
class RejectFilter:
    """Which rejects the queue shows."""

    lot: str | None = None
    """Only this lot."""
    part_number: str | None = None
    """Only this part number."""
    station: str | None = None
    """Only rejects recorded at this station."""
    older_than: dt.timedelta | None = None
    """Only rejects closed at least this long ago."""
    newer_than: dt.timedelta | None = None
    """Only rejects closed at most this long ago."""
    include_disposed: bool = False
    """Also list rejects whose disposition is complete."""


def one_line(text: str | None, what: str, *, required: bool) -> str | None:
    """Trimmed single-line text checked by the one text validator; DispositionError if not."""
    if text is None or not str(text).strip(" "):
        if required:
            raise DispositionError(f"A disposition needs a {what}.")
        return None
    try:
        return check_line(text, what, max_length=MAX_REASON)
    except TextError as exc:
        raise DispositionError(exc.message) from None


__all__ = [
    "MAX_REASON",
    "MEANING_APPROVAL",
    "MEANING_RESOLUTION",
    "MEANING_SECOND_APPROVAL",
    "AlreadyDisposed",
    "DispositionError",
    "RejectFilter",
    "ReviewError",
    "SignaturePolicy",
    "StaleReject",
    "Status",
    "UnknownReject",
    "format_utc",
    "one_line",
    "parse_utc",
]
