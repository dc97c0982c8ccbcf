"""A central store as a record source: every station's records, asked by named queries.

The central backends live in the sync package (each the one owner of its database); this side
knows a central store only as a ``CentralReader``: it answers registered catalogue queries over
a snapshot of heads, never SQL text from a caller, and verifies the chains it holds.
``inspect_station.sync.open_source(url)`` opens one as a ``CentralSource``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from inspect_station.records.source import ChainCheck, RecordSource
from inspect_station.store.catalog import ReadQuery


class CentralReader(Protocol):
    """What a central store offers the read side (every central backend is one)."""

    @property
    def description(self) -> str:
        """Where the records are, for people (no password)."""
        ...

    def snapshot_heads(self) -> dict[str, tuple[int, str]]:
        """Station -> (seq, hash) of its verified head, for every station with records."""
        ...

    def read(
        self,
        query: ReadQuery,
        params: Sequence[Any] = (),
        *,
        heads: Mapping[str, int],
        values: Sequence[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of a registered query over the snapshot ``heads`` (station -> seq)."""
        ...

    def check_chains(self, stations: Iterable[str]) -> list[ChainCheck]:
        """Verify these stations' chains and projections as held now, in station order."""
        ...

    def close(self) -> None:
        """Close the store."""
        ...


class CentralSource(RecordSource):
    """Records of every station in a central store (embedded SQLite or PostgreSQL)."""

    kind = "central"

    def __init__(self, central: CentralReader) -> None:
        self.central = central
        """The central store read."""
        self.description = central.description
        super().__init__(central.snapshot_heads())

    def _read(
        self, query: ReadQuery, params: list[Any], values: Sequence[Any] | None
    ) -> list[dict[str, Any]]:
        """Rows of a named query, answered by the central store (errors are SyncErrors)."""
        return self.central.read(query, params, heads=self.head_seqs, values=values)

    def refresh(self) -> None:
        """Move the snapshot to every station's current head in the central store."""
        self.heads = self.central.snapshot_heads()

    def verify(self, stations: Iterable[str]) -> list[ChainCheck]:
        """Verify these stations' chains and projections in the central store."""
        return self.central.check_chains(stations)

    def close(self) -> None:
        """Close the central store."""
        self.central.close()
