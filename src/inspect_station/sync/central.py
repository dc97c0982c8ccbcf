"""The central store interface: one implementation per backend, each owning its connection.

A central store keeps every station's journal keyed by (station, seq) and unique by record UUID,
the same query projections as the stations (with ``station`` in their key) -- derived by the
database itself from each verified journal record, never written by a station -- a verified head
(seq, hash) per station so that a batch is checked against what is held in O(batch), and the
append-only history of every head it acknowledged. All of it is append-only, enforced by
triggers in the database. ``open_central(url)`` picks the backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspect_station.sync.batch import PreparedBatch, prepare_batch
from inspect_station.sync.url import CentralUrl, parse_central_url


@dataclass(frozen=True)
class IngestResult:
    """What one ingest transaction did."""

    station: str
    """The station whose records were sent."""
    received: int
    """Records in the batch."""
    inserted: int
    """Records the central store did not hold before and now does."""
    skipped: int
    """Records it already held, identical (a re-sent batch)."""
    head_seq: int
    """The station's verified head seq after the commit."""
    head_hash: str
    """The station's verified head hash after the commit."""
    conflicts: tuple[str, ...] = ()
    """Rejects that, with a disposition in this batch, now have more than one (signed apart,
    e.g. at a bench and an office terminal while one was offline): both are kept, and the
    reject shows "conflicting dispositions" until a supervisor signs a resolution."""


@dataclass(frozen=True)
class AcknowledgedHead:
    """A head the central store acknowledged to a station: kept for good, the rollback anchor."""

    station: str
    """Station id."""
    seq: int
    """The acknowledged head seq."""
    hash: str
    """The hash of the record at that seq."""
    acknowledged_at: str
    """When (UTC, RFC 3339)."""


@dataclass(frozen=True)
class StationSummary:
    """What the central store holds for one station."""

    station: str
    """Station id."""
    records: int
    """Number of journal records held."""
    first_seq: int | None
    """Lowest seq held (1 for an intact chain)."""
    last_seq: int | None
    """Highest seq held."""
    head_seq: int
    """The verified head seq kept for ingest."""
    head_hash: str
    """The verified head hash kept for ingest."""


@dataclass(frozen=True)
class StationCredentials:
    """A station's database login, created by ``add_station``; the password is shown once."""

    station: str
    """Station id the role may write."""
    role: str
    """Database role name."""
    password: str
    """The generated password."""
    url: str
    """The URL the station configures as ``central`` (holds the password)."""


class CentralStore(ABC):
    """A central store: ingest batches, report heads, stream records back, answer read queries."""

    url: CentralUrl
    """Where the store is (print ``url.display``, never ``url.url``)."""

    @abstractmethod
    def migrate(self) -> list[str]:
        """Create or upgrade the schema; the names of the migrations applied now."""

    @abstractmethod
    def applied_migrations(self) -> list[str]:
        """Names of the migrations applied so far."""

    @abstractmethod
    def head(self, station: str) -> tuple[int, str]:
        """The station's verified head (seq, hash); (0, GENESIS) if central holds nothing of it."""

    @abstractmethod
    def ingest_prepared(self, batch: PreparedBatch) -> IngestResult:
        """Store a prepared batch in one transaction; IngestRefused if it forks or leaves a gap."""

    def ingest(self, station: str, records: Iterable[Mapping[str, Any]]) -> IngestResult:
        """Check and store records of ``station`` in one transaction (see ``prepare_batch``)."""
        return self.ingest_prepared(prepare_batch(station, records))

    @abstractmethod
    def acknowledged_heads(self, station: str | None = None) -> list[AcknowledgedHead]:
        """Every head acknowledged to ``station`` (or to every station), by station and seq.

        The history is append-only and each entry is made by the same transaction that moved
        the head, so a head found behind its history was rolled back, and a station found only
        in the history was deleted.
        """

    @abstractmethod
    def hashes(self, station: str, first_seq: int, last_seq: int) -> dict[int, str]:
        """seq -> hash of the station's records the store holds in [first_seq, last_seq]."""

    @abstractmethod
    def projection_fingerprint(self) -> str | None:
        """Which derivation built the projection tables (``central_derive.fingerprint``)."""

    @abstractmethod
    def stations(self) -> list[StationSummary]:
        """Every station the store holds records or a head for, by station id."""

    @abstractmethod
    def records(self, station: str, after_seq: int = 0, batch: int = 2000) -> Iterator[dict]:
        """The station's records with seq above ``after_seq``, decoded, by seq, streamed."""

    @abstractmethod
    def projection_rows(
        self, table: str, station: str, first_seq: int, last_seq: int
    ) -> list[dict[str, Any]]:
        """Rows of a projection table for the station's seqs in [first_seq, last_seq], by seq."""

    @abstractmethod
    def projection_beyond(self, station: str, seq: int) -> tuple[str, int] | None:
        """A (table, seq) projection row of the station above ``seq`` (which should not exist)."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of one read-only SQL statement, as dicts, on either backend.

        ``?`` marks each parameter (outside quotes and comments); tables and views are named
        without a schema (``journal``, ``measurements``, ``current_results``, ...). The
        database refuses a statement that would change anything; every error is a SyncError
        sentence.
        """

    @abstractmethod
    def add_station(
        self, station: str, role: str | None = None, new_password: bool = False
    ) -> StationCredentials:
        """Create the database role a station ships with; its password is returned once."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    def __enter__(self) -> CentralStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_central(url: str | CentralUrl, *, create: bool = True) -> CentralStore:
    """Open the central store a URL names; the embedded SQLite file is created if ``create``."""
    parsed = url if isinstance(url, CentralUrl) else parse_central_url(url)
    if parsed.backend == "sqlite":
        from inspect_station.sync.central_sqlite import SqliteCentral

        return SqliteCentral(parsed, create=create)
    from inspect_station.sync.central_pg import PostgresCentral

    return PostgresCentral(parsed)
