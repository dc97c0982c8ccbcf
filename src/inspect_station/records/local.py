"""A station's own local record as a record source (read-ahead pages, SQLite's own plans)."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from inspect_station.records.source import Capability, ChainCheck, RecordSource
from inspect_station.store import LocalStore, journal, queries
from inspect_station.store.catalog import ReadQuery, registered, statements
from inspect_station.store.checkpoints import verify_local
from inspect_station.store.projections import TABLES
from inspect_station.store.queries import FORMULA, ROW_FIELDS, PackedPages

_ROW_CELLS = (*ROW_FIELDS, FORMULA)
"""A ``measurement_rows`` row as packed cells: every field, then the formula flag."""


@lru_cache(maxsize=32)
def _packer(fields: tuple[str, ...], text: frozenset[str]) -> PackedPages:
    """The packed-page reader for a layout (its SQL is built once)."""
    return PackedPages(fields, text)


class LocalSource(RecordSource):
    """Records of this station's local store, as of the moment the source was opened."""

    kind = "local"
    capabilities = frozenset({Capability.PACKED_PAGES, Capability.TUPLE_ROWS})

    def __init__(self, store: LocalStore, *, full_verify: bool = False) -> None:
        self.store = store
        """The local record read (it belongs to whoever opened it)."""
        self.full_verify = full_verify
        """``verify`` re-verifies the whole chain instead of what is new since its checkpoint."""
        self.description = f"local record {store.path} (station {store.station})"
        super().__init__({store.station: store.head()})

    @property
    def _head(self) -> int:
        return self.heads[self.store.station][0]

    def _read(
        self, query: ReadQuery, params: list[Any], values: Sequence[Any] | None
    ) -> list[dict[str, Any]]:
        """Rows of a named query on the local store, up to the snapshot head."""
        rows: list[dict[str, Any]] = []
        for sql, args in statements(
            query, params, self.head_seqs, values=values, single_chain=True
        ):
            rows += self.store.query(sql, tuple(args))
        return rows

    def row_tuples(self, query: ReadQuery, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a named query as the cursor's own tuples, up to the snapshot head."""
        if not registered(query) or query.takes_values:
            raise ValueError(f"{query.name!r} is not a registered read query without a list")
        rows: list[tuple[Any, ...]] = []
        for sql, args in statements(query, list(params), self.head_seqs, single_chain=True):
            rows += self.store.query_tuples(sql, tuple(args))
        return rows

    def has_table(self, table: str) -> bool:
        """Whether the local file has projection table ``table`` (an older file may not)."""
        return table in TABLES and self.store.has_table(table)

    def refresh(self) -> None:
        """Move the snapshot to the store's current head."""
        self.heads = {self.store.station: self.store.head()}

    def close(self) -> None:
        """Nothing to release: the store belongs to whoever opened it."""

    def lot_measurements(self, lot: str, page: int = 5000) -> Iterator[list[dict[str, Any]]]:
        """Pages of the lot's measurement rows by seq, read along the table in seq order.

        The lot's seq range comes from the lot index; the rows are then read by rowid in that
        range, which SQLite does much faster than index look-ups plus a sort.
        """
        span = queries.lot_seq_range(self.store, lot, self._head)
        if span is None:
            return
        seq, last = span[0] - 1, span[1]
        while True:
            rows = queries.lot_measurement_page(self.store, lot, seq, last, page)
            if not rows:
                return
            yield rows
            seq = rows[-1]["seq"]

    def measurement_rows(self, lot: str, page: int = 5000) -> Iterator[list[list[Any]]]:
        """Pages of measurement rows built by SQLite itself (see ``packed_pages``).

        The same rows as the portable ``RecordSource.measurement_rows``, with the decision
        rule, the correction links and the formula flag computed in SQL.
        """
        return self.packed_pages(lot, _ROW_CELLS, page=page)

    def packed_pages(
        self,
        lot: str,
        fields: Sequence[str],
        text: frozenset[str] = frozenset(),
        page: int = 5000,
    ) -> Iterator[list[list[Any]]]:
        """Pages of the lot's measurements as lists of ``fields``, by seq.

        Each page is built by SQLite as one JSON text (``store.queries.PackedPages``), and the
        next page is read by a worker thread (SQLite runs without the GIL) while the caller
        formats the current one.
        """
        head = self._head
        span = queries.lot_seq_range(self.store, lot, head)
        if span is None:
            return
        packer = _packer(tuple(fields), frozenset(text))
        # Pages are ranges of seq, so each can be read without waiting for the one before.
        width = 2 * page
        ranges = iter(range(span[0] - 1, span[1], width))

        def read(after: int) -> list[list[Any]]:
            return packer.page(self.store, lot, after, min(after + width, head), head)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-read") as pool:
            pending: deque[Future[list[list[Any]]]] = deque()
            for first in itertools.islice(ranges, 2):
                pending.append(pool.submit(read, first))
            while pending:
                rows = pending.popleft().result()
                after = next(ranges, None)
                if after is not None:
                    pending.append(pool.submit(read, after))
                if rows:
                    yield rows

    def verify(self, stations: Iterable[str]) -> list[ChainCheck]:
        """Verify the local chain and its projections (other stations are not held here):
        from its last verified checkpoint, or in full with ``full_verify``."""
        out = []
        for station in sorted(set(stations)):
            if station != self.store.station:
                out.append(
                    ChainCheck(
                        station,
                        False,
                        0,
                        0,
                        journal.GENESIS,
                        None,
                        f"the local record of {self.store.station} does not hold "
                        f"station {station}'s chain",
                    )
                )
                continue
            report = verify_local(self.store, full=self.full_verify)
            seq, hash_ = self.heads[station]
            if report.ok:
                out.append(
                    ChainCheck(
                        station,
                        True,
                        report.count,
                        seq,
                        hash_,
                        verified_from=report.from_seq,
                        full_verified_at=report.checkpoint_at,
                    )
                )
            else:
                out.append(
                    ChainCheck(
                        station, False, report.count, seq, hash_, report.bad_seq, report.reason
                    )
                )
        return out
