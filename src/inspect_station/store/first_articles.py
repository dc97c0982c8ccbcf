"""Named reads of first-article declarations (AS9102): the write path's and the read side's.

A declaration names a lot and either one part serial (scope ``part``) or the whole lot (scope
``lot``). The write path asks :func:`declarations` inside its transaction (a declaration is
recorded once); exports ask :data:`OF_PART` through a record source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inspect_station.store.catalog import read_query
from inspect_station.store.people import Queryable

PART = "part"
"""Scope of a declaration naming one part serial."""
LOT = "lot"
"""Scope of a declaration naming every part of a lot."""


@dataclass(frozen=True)
class FirstArticle:
    """A recorded first-article declaration."""

    station: str
    """Station whose journal holds it."""
    seq: int
    """Its seq there."""
    lot: str
    """The lot."""
    serial: str | None
    """The part serial (scope part), or None (scope lot)."""
    scope: str
    """``part`` or ``lot``."""
    fair_number: str | None
    """The FAIR number given when it was declared, if any."""
    declared_by: str
    """User id of who declared it."""
    declared_at: str
    """When (UTC)."""
    reason: str | None = None
    """Why, if given (a new part, a change of process, a lapse in production ...)."""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FirstArticle:
        """A declaration from its projection row."""
        return cls(
            row["station"],
            row["seq"],
            row["lot"],
            row["serial"],
            row["scope"],
            row["fair_number"],
            row["declared_by"],
            row["declared_at"],
            row["reason"],
        )

    def describe(self) -> str:
        """One line: what was declared, by whom, when, and where it is recorded."""
        what = f"part {self.serial}" if self.scope == PART else f"every part of lot {self.lot}"
        return (
            f"declared: {what} is a first article (by {self.declared_by}, {self.declared_at}, "
            f"record {self.station}:{self.seq})"
        )


OF_PART = read_query(
    "first_articles.of_part",
    "SELECT f.* FROM first_articles f WHERE f.lot = ? "
    "AND (f.scope = 'lot' OR f.serial = ?) AND {bound:f} ORDER BY f.declared_at, f.station, f.seq",
    aliases=("f",),
)
"""The declarations that make part (lot, serial) a first article, oldest first."""


def declarations(q: Queryable, lot: str, serial: str | None) -> list[dict[str, Any]]:
    """This record's declarations covering (lot, serial), or the lot's own when serial is None."""
    if serial is None:
        return q.query(
            "SELECT * FROM first_articles WHERE lot = ? AND scope = 'lot' ORDER BY seq", (lot,)
        )
    return q.query(
        "SELECT * FROM first_articles WHERE lot = ? AND (scope = 'lot' OR serial = ?) ORDER BY seq",
        (lot, serial),
    )
