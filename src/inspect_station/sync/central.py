"""The central store interface: one implementation per backend, each owning its connection.

A central store keeps every station's journal keyed by (station, seq) and unique by record UUID,
the same query projections as the stations (with ``station`` in their key) -- derived by the
database itself from each verified journal record, never written by a station -- a verified head
(seq, hash) per station so that a batch is checked against what is held in O(batch), and the
append-only history of every head it acknowledged. All of it is append-only, enforced by
triggers in the database. ``open_central(url)`` finds the backend in the registry of
``sync.url`` (each backend module registers itself; this module imports none of them).

A central store is also a ``records.central.CentralReader``: it answers the catalogue's named
read queries (``read``), never SQL text from a caller, and verifies the chains it holds
(``check_chains``, with ``verify_station``); ``open_source(url)`` opens one as a record source.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from inspect_station.records.central import CentralSource
from inspect_station.records.source import ChainCheck
from inspect_station.store import journal
from inspect_station.store.catalog import ReadQuery
from inspect_station.store.projections import check_projections
from inspect_station.sync.batch import PreparedBatch, prepare_batch
from inspect_station.sync.url import CentralUrl, backend_named, parse_central_url

_CHUNK = 2000


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
    """A central store: ingest batches, report heads, stream records back, answer read queries.

    A backend is a subclass in its own module ``sync/central_<name>.py``, decorated with
    ``url.register_backend``: its class attributes and class methods say which URLs it reads
    (``url.Backend``), and ``open_central`` finds it by the URL alone.
    """

    name: ClassVar[str]
    """The backend's name (``CentralUrl.backend``)."""
    example: ClassVar[str]
    """A URL it reads, for messages."""
    order: ClassVar[int]
    """Where it is offered a URL and listed in messages, lowest first."""
    checks_records: ClassVar[bool] = False
    """Whether the store itself checks every hash and body shape as records go in, so a
    shipper may send batches prepared without re-hashing (``prepare_rows(rehash=False)``)."""
    url: CentralUrl
    """Where the store is (print ``url.display``, never ``url.url``)."""

    @classmethod
    @abstractmethod
    def accepts(cls, text: str) -> bool:
        """Whether ``text`` is a URL of this backend (then ``parse_url`` reads it or refuses)."""

    @classmethod
    @abstractmethod
    def parse_url(cls, text: str) -> CentralUrl:
        """Read a URL of this backend; CentralUrlError (never quoting a password) if unusable."""

    @classmethod
    @abstractmethod
    def url_identity(cls, url: CentralUrl) -> str:
        """Which store a URL names, without credentials or options: the sync state's key."""

    @classmethod
    def url_secrets(cls, url: CentralUrl) -> list[str]:
        """Forms of a password the URL holds besides ``CentralUrl.password`` (none)."""
        return []

    @classmethod
    @abstractmethod
    def connect(cls, url: CentralUrl, create: bool) -> CentralStore:
        """Open the store a parsed URL names; an embedded one is created if ``create``."""

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
    def read(
        self,
        query: ReadQuery,
        params: Sequence[Any] = (),
        *,
        heads: Mapping[str, int],
        values: Sequence[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of a registered catalogue query over the snapshot ``heads`` (station -> seq).

        The query is made into statements by ``catalog.statements`` (ValueError for one that
        is not registered); tables and views are named without a schema. The database refuses
        a statement that would change anything; every error is a SyncError sentence.
        """

    @property
    def description(self) -> str:
        """Where the records are, for people (the URL without its password)."""
        return f"central store {self.url.display}"

    def snapshot_heads(self) -> dict[str, tuple[int, str]]:
        """Station -> (seq, hash) of its verified head, for every station with records."""
        return {s.station: (s.head_seq, s.head_hash) for s in self.stations() if s.head_seq}

    def check_chains(self, stations: Iterable[str]) -> list[ChainCheck]:
        """Verify these stations' chains and projections as held now, in station order."""
        summaries = {s.station: s for s in self.stations()}
        out = []
        for station in sorted(set(stations)):
            summary = summaries.get(station)
            if summary is None:
                out.append(
                    ChainCheck(
                        station,
                        False,
                        0,
                        0,
                        journal.GENESIS,
                        None,
                        "the central store holds no records of it",
                    )
                )
                continue
            report = verify_station(self, summary)
            out.append(
                ChainCheck(
                    station,
                    report.ok,
                    report.checked,
                    summary.head_seq,
                    summary.head_hash,
                    report.bad_seq,
                    report.reason,
                )
            )
        return out

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


@dataclass(frozen=True)
class StationReport:
    """Outcome of verifying one station's records in the central store."""

    station: str
    """Station id."""
    records: int
    """Records the central store holds for it."""
    checked: int
    """Records verified (up to and including the first bad one)."""
    head_seq: int
    """The station's verified head seq in the central store."""
    ok: bool
    """Whether the chain, the projections and the head all verified."""
    bad_seq: int | None = None
    """The first seq found wrong."""
    reason: str | None = None
    """What is wrong, in one sentence."""
    projections: bool = True
    """Whether the projection rows were compared with the journal too."""

    def line(self) -> str:
        """One line for the terminal."""
        if self.ok:
            span = f"seq 1-{self.head_seq}" if self.head_seq else "no records"
            what = "chain and projections OK" if self.projections else "chain OK"
            return f"{self.station}: {self.records:,} records, {span}, {what}"
        where = f" at seq {self.bad_seq}" if self.bad_seq is not None else ""
        return f"{self.station}: {self.records:,} records, BROKEN{where}: {self.reason}"


def _check_projections(
    central: CentralStore, station: str, records: list[dict[str, Any]]
) -> tuple[int, str] | None:
    """The first (seq, reason) where stored projection rows differ from the journal's."""

    def stored(table: str, first: int, last: int) -> list[dict[str, Any]]:
        return central.projection_rows(table, station, first, last)

    return check_projections(records, stored, station)


def short_hash(hash_: str) -> str:
    """The first 16 hex digits of a hash and an ellipsis, for messages."""
    return hash_[:16] + "…"


def verify_station(
    central: CentralStore,
    summary: StationSummary,
    history: list[AcknowledgedHead] | None = None,
    *,
    projections: bool = True,
) -> StationReport:
    """Verify one station's chain, projections (unless ``projections`` is False) and head in
    the central store, and the journal against the heads the store acknowledged to it (read
    here unless ``history`` is given)."""
    station = summary.station
    verifier = journal.ChainVerifier(station)
    chunk: list[dict[str, Any]] = []
    if history is None:
        history = central.acknowledged_heads(station)
    acknowledged = {entry.seq: entry for entry in history}

    def broken(seq: int | None, reason: str) -> StationReport:
        return StationReport(
            station, summary.records, verifier.count, summary.head_seq, False, seq, reason
        )

    for record in central.records(station):
        if not verifier.feed(record):
            report = verifier.report()
            return broken(report.bad_seq, report.reason or "the chain is broken")
        entry = acknowledged.get(record["seq"])
        if entry is not None and entry.hash != record["hash"]:
            return broken(
                record["seq"],
                f"the record is not the one acknowledged at {entry.acknowledged_at} (hash "
                f"{short_hash(entry.hash)}): the chain was rewritten",
            )
        if projections:
            chunk.append(record)
        if len(chunk) >= _CHUNK:
            problem = _check_projections(central, station, chunk)
            if problem:
                return broken(*problem)
            chunk = []
    if chunk:
        problem = _check_projections(central, station, chunk)
        if problem:
            return broken(*problem)
    report = verifier.report()
    latest = max(history, key=lambda e: e.seq, default=None)
    if latest is not None and latest.seq > report.head_seq:
        return broken(
            report.head_seq,
            f"the head moved backwards: seq {latest.seq} was acknowledged at "
            f"{latest.acknowledged_at}, but the store now ends at seq {report.head_seq}",
        )
    if (summary.head_seq, summary.head_hash) != (report.head_seq, report.head_hash):
        return broken(
            summary.head_seq,
            f"the verified head says seq {summary.head_seq} but the journal ends at seq "
            f"{report.head_seq} (head or journal altered)",
        )
    stray = central.projection_beyond(station, report.head_seq) if projections else None
    if stray:
        table, seq = stray
        return broken(seq, f"{table} has a row for seq {seq}, which the journal lacks")
    return StationReport(
        station, summary.records, report.count, summary.head_seq, True, projections=projections
    )


def open_central(url: str | CentralUrl, *, create: bool = True) -> CentralStore:
    """Open the central store a URL names (its backend found in the registry); an embedded
    store's file is created if ``create``."""
    parsed = url if isinstance(url, CentralUrl) else parse_central_url(url)
    store: CentralStore = backend_named(parsed.backend).connect(parsed, create)
    return store


def open_source(url: str | CentralUrl) -> CentralSource:
    """Open the central store at ``url`` (which must exist) as a record source."""
    return CentralSource(open_central(url, create=False))
