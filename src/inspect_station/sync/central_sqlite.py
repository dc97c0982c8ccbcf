# Over 500 lines: the one owner of the embedded central file (schema, ingest, reads).
"""The embedded central store: one SQLite file (WAL, synchronous=FULL) shared by the stations
of one machine or one network share. This module is the only owner of that file.

The database itself keeps every station's chain gap-free and linked (a trigger checks each
journal insert against the station's head and another moves the head), refuses UPDATE and DELETE
on the journal, the projections and the history of acknowledged heads, lets a head move only one
record at a time along the journal, and derives every projection row from its journal record
(``central_derive.sqlite_triggers``; a row no record stands behind is refused). The hash of every
record is recomputed before it is inserted (``prepare_batch``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from sqlite_utils import Database, Migrations

from inspect_station import clock
from inspect_station.store import journal
from inspect_station.store.catalog import ReadQuery, statements
from inspect_station.store.migrations import append_only
from inspect_station.sync.batch import JOURNAL_COLUMNS, PreparedBatch, decode_record
from inspect_station.sync.central import (
    AcknowledgedHead,
    CentralStore,
    IngestResult,
    StationCredentials,
    StationSummary,
)
from inspect_station.sync.central_derive import (
    fingerprint,
    sqlite_guard,
    sqlite_rebuild,
    sqlite_triggers,
)
from inspect_station.sync.central_schema import CENTRAL_TABLES, QUERY_INDEXES, VIEWS
from inspect_station.sync.errors import (
    CentralSchemaError,
    CentralUnavailable,
    CentralUrlError,
    IngestRefused,
    Refusal,
    SyncError,
)
from inspect_station.sync.url import CentralUrl, register_backend

_BUSY_TIMEOUT_MS = 30_000
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

migrations = Migrations("inspect_station.central")


@migrations()
def c001_journal(db: Database) -> None:
    """Station heads and the journal of every station, chain-checked by the database."""
    db.execute(
        f"""
        CREATE TABLE stations (
            station TEXT PRIMARY KEY,
            head_seq INTEGER NOT NULL,
            head_hash TEXT NOT NULL,
            records INTEGER NOT NULL,
            first_at TEXT NOT NULL DEFAULT ({_NOW}),
            updated_at TEXT NOT NULL DEFAULT ({_NOW})
        )
        """
    )
    db.execute(
        """
        CREATE TABLE journal (
            station TEXT NOT NULL,
            seq INTEGER NOT NULL CHECK (seq >= 1),
            uuid TEXT NOT NULL UNIQUE,
            format INTEGER NOT NULL,
            kind TEXT NOT NULL,
            ts TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            body TEXT NOT NULL,
            received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            PRIMARY KEY (station, seq)
        )
        """
    )
    append_only(db, "journal")
    db.execute("CREATE INDEX journal_kind ON journal(kind)")
    # Each insert must continue its station's verified head ...
    db.execute(
        f"""
        CREATE TRIGGER journal_chain BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT COALESCE(
               (SELECT head_seq FROM stations WHERE station = NEW.station), 0) + 1
          OR NEW.prev_hash IS NOT COALESCE(
               (SELECT head_hash FROM stations WHERE station = NEW.station), '{journal.GENESIS}')
        BEGIN SELECT RAISE(ABORT, 'journal insert does not continue the station''s chain'); END
        """
    )
    # ... and moves it.
    db.execute(
        f"""
        CREATE TRIGGER journal_head AFTER INSERT ON journal
        BEGIN
            INSERT OR IGNORE INTO stations (station, head_seq, head_hash, records)
                VALUES (NEW.station, 0, '{journal.GENESIS}', 0);
            UPDATE stations SET head_seq = NEW.seq, head_hash = NEW.hash,
                records = records + 1, updated_at = {_NOW}
            WHERE station = NEW.station;
        END
        """
    )
    # A head only ever moves one record forward, onto a record the journal holds.
    db.execute(
        """
        CREATE TRIGGER stations_head_guard BEFORE UPDATE ON stations
        WHEN NEW.station IS NOT OLD.station
          OR NEW.head_seq IS NOT OLD.head_seq + 1
          OR NEW.head_hash IS NOT (SELECT hash FROM journal
                                   WHERE station = NEW.station AND seq = NEW.head_seq)
        BEGIN SELECT RAISE(ABORT, 'a station head moves only with its journal'); END
        """
    )
    db.execute(
        """
        CREATE TRIGGER stations_no_delete BEFORE DELETE ON stations
        BEGIN SELECT RAISE(ABORT, 'stations is append-only: DELETE refused'); END
        """
    )


@migrations()
def c002_head_history(db: Database) -> None:
    """The append-only history of every acknowledged head; projections become derived only."""
    db.execute(
        f"""
        CREATE TABLE head_history (
            station TEXT NOT NULL,
            seq INTEGER NOT NULL CHECK (seq >= 1),
            hash TEXT NOT NULL,
            acknowledged_at TEXT NOT NULL DEFAULT ({_NOW}),
            PRIMARY KEY (station, seq)
        )
        """
    )
    db.execute(
        "INSERT INTO head_history (station, seq, hash, acknowledged_at) "
        "SELECT station, head_seq, head_hash, updated_at FROM stations WHERE head_seq > 0"
    )
    append_only(db, "head_history")
    # An acknowledged head is a record the journal holds, beyond every earlier one.
    db.execute(
        """
        CREATE TRIGGER head_history_forward BEFORE INSERT ON head_history
        WHEN NEW.seq <= COALESCE(
               (SELECT MAX(seq) FROM head_history WHERE station = NEW.station), 0)
          OR NEW.hash IS NOT (SELECT hash FROM journal
                              WHERE station = NEW.station AND seq = NEW.seq)
        BEGIN SELECT RAISE(ABORT, 'an acknowledged head only moves forward, onto the journal');
        END
        """
    )
    db.execute(
        """
        CREATE TABLE projection_state (
            one INTEGER PRIMARY KEY CHECK (one = 1),
            fingerprint TEXT NOT NULL,
            built_at TEXT NOT NULL
        )
        """
    )


def _migration_sets(db: Database) -> set[str]:
    """The sqlite-utils migration sets applied to a file (which program's database it is)."""
    if not db["_sqlite_migrations"].exists():
        return set()
    return {row[0] for row in db.execute("SELECT DISTINCT migration_set FROM _sqlite_migrations")}


_JOURNAL_INSERT = (
    f"INSERT INTO journal ({', '.join(JOURNAL_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in JOURNAL_COLUMNS)})"
)
_CONFLICTS = (
    "SELECT d.reject FROM dispositions d WHERE d.reject IN "
    "(SELECT m.reject FROM dispositions m WHERE m.station = ? AND m.seq BETWEEN ? AND ?) "
    "GROUP BY d.reject HAVING COUNT(*) > 1 ORDER BY d.reject"
)


def build_projections(db: Database) -> list[str]:
    """(Re)create the projection tables and derive every row from the journal, if the
    derivation changed since they were built (a new table or column, a new file).

    The tables are dropped and made again (their rows are derived data; a row that no record
    stands behind goes with them), then every row is derived from the journal, and triggers
    keep deriving them: one per record kind on the journal, and on each table a guard that
    refuses a row no journal record stands behind.
    """
    wanted = fingerprint()
    row = db.execute("SELECT fingerprint FROM projection_state").fetchone()
    if row and row[0] == wanted:
        return []
    for view in VIEWS:
        db.execute(f"DROP VIEW IF EXISTS {view}")
    for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'journal' "
        "AND (name LIKE 'journal_project_%' OR name = 'journal_body_object')"
    ).fetchall():
        db.execute(f"DROP TRIGGER {name}")
    for table, columns in CENTRAL_TABLES.items():
        db.execute(f"DROP TABLE IF EXISTS {table}")
        cols = ", ".join(f"{name} {sqltype}" for name, sqltype in columns)
        db.execute(f"CREATE TABLE {table} ({cols})")
        db.execute(f"CREATE UNIQUE INDEX {table}_station_seq ON {table}(station, seq)")
    for statement in sqlite_rebuild():
        db.execute(statement)
    derived = 0
    for table in CENTRAL_TABLES:
        derived += db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        append_only(db, table)
        db.execute(sqlite_guard(table))
    for table, indexes in QUERY_INDEXES.items():
        for index, indexed in indexes:
            db.execute(f"CREATE INDEX {index} ON {table}({', '.join(indexed)})")
    for view, (_table, select) in VIEWS.items():
        db.execute(f"CREATE VIEW {view} AS {select.format(s='')}")
    for statement in sqlite_triggers():
        db.execute(statement)
    db.execute(
        "INSERT INTO projection_state (one, fingerprint, built_at) VALUES (1, ?, ?) "
        "ON CONFLICT (one) DO UPDATE SET fingerprint = excluded.fingerprint, "
        "built_at = excluded.built_at",
        (wanted, clock.utc_timestamp()),
    )
    return [f"projections derived from the journal ({derived:,} rows)"]


@register_backend
class SqliteCentral(CentralStore):
    """The embedded central store in a SQLite file."""

    name = "sqlite"
    example = "sqlite:///path/central.db"
    order = 0
    PREFIX: ClassVar[str] = "sqlite:///"
    """What its URLs start with; the rest is the file's path (``sqlite:////abs/central.db``)."""

    @classmethod
    def accepts(cls, text: str) -> bool:
        """Whether ``text`` is a ``sqlite:///`` URL."""
        return text.startswith(cls.PREFIX)

    @classmethod
    def parse_url(cls, text: str) -> CentralUrl:
        """``sqlite:///relative/central.db`` or ``sqlite:////absolute/central.db`` (as in
        SQLAlchemy), with nothing after the file name."""
        rest = text[len(cls.PREFIX) :]
        if not rest or "?" in rest or "#" in rest:
            raise CentralUrlError(
                f"The central store URL {text} should be sqlite:///path/to/central.db "
                "with nothing after the file name."
            )
        return CentralUrl(text, cls.name, path=Path(rest))

    @classmethod
    def url_identity(cls, url: CentralUrl) -> str:
        """The file's absolute path as a URL."""
        assert url.path is not None
        return f"sqlite:///{url.path.resolve()}"

    @classmethod
    def connect(cls, url: CentralUrl, create: bool) -> SqliteCentral:
        """Open the file (created, with its folder, if ``create``)."""
        return cls(url, create=create)

    def __init__(self, url: CentralUrl, create: bool = True) -> None:
        assert url.path is not None
        self.url = url
        self.path = url.path
        self._lock = threading.RLock()
        if not create and not self.path.exists():
            raise CentralSchemaError(f"There is no central store at {self.path}.")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=30, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise CentralUnavailable(f"Cannot open the central store {self.path}: {exc}.") from None
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise CentralUnavailable(
                    f"The central store {self.path} cannot use WAL mode ({mode})."
                )
            self.conn.execute("PRAGMA synchronous = FULL")
            self.db = Database(self.conn)
            if "inspect_station.local" in _migration_sets(self.db):
                raise SyncError(
                    f"{self.path} is a station's local record, not a central store; name "
                    "another file for the central store."
                )
            self._applied_on_open = self._migrate()
        except sqlite3.OperationalError as exc:
            self.conn.close()
            raise CentralUnavailable(
                f"The central store {self.path} is unusable now: {exc}."
            ) from None
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise SyncError(f"{self.path} is not a usable central store: {exc}.") from None

    # -- schema ------------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        """Apply pending migrations and add missing projections; what was applied.

        The embedded store migrates when it is opened; what that applied is reported by the
        first call.
        """
        applied, self._applied_on_open = self._applied_on_open, []
        return applied + self._migrate()

    def _migrate(self) -> list[str]:
        with self._lock:
            if not migrations.pending(self.db) and self._projections_current():
                return []
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                applied = [m.name for m in migrations.pending(self.db)]
                migrations.apply(self.db)
                applied += build_projections(self.db)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            return applied

    def _projections_current(self) -> bool:
        return self.projection_fingerprint() == fingerprint()

    def applied_migrations(self) -> list[str]:
        """Names of the migrations applied so far."""
        with self._lock:
            return [m.name for m in migrations.applied(self.db)]

    def projection_fingerprint(self) -> str | None:
        """Which derivation the projection tables were built with (None: never built)."""
        with self._lock:
            if not self.db["projection_state"].exists():
                return None
            row = self._execute("SELECT fingerprint FROM projection_state").fetchone()
        return row[0] if row else None

    # -- ingest ------------------------------------------------------------------------------

    def head(self, station: str) -> tuple[int, str]:
        """The station's verified head; (0, GENESIS) if none."""
        with self._lock:
            return self._head(station)

    def _head(self, station: str) -> tuple[int, str]:
        row = self._execute(
            "SELECT head_seq, head_hash FROM stations WHERE station = ?", (station,)
        ).fetchone()
        return (row[0], row[1]) if row else (0, journal.GENESIS)

    def _held(self, station: str) -> Any:
        def held(first: int, last: int) -> dict[int, tuple[str, str]]:
            rows = self._execute(
                "SELECT seq, uuid, hash FROM journal WHERE station = ? AND seq BETWEEN ? AND ?",
                (station, first, last),
            ).fetchall()
            return {seq: (uuid, hash_) for seq, uuid, hash_ in rows}

        return held

    def ingest_prepared(self, batch: PreparedBatch) -> IngestResult:
        """Store the records central lacks in one IMMEDIATE transaction, head moved with them."""
        with self._lock:
            self._execute("BEGIN IMMEDIATE")
            try:
                head_seq, head_hash = self._head(batch.station)
                rest = batch.against_head(head_seq, head_hash, self._held(batch.station))
                conflicts: tuple[str, ...] = ()
                if rest.journal:
                    # Triggers check the chain, move the head and derive the projection rows.
                    self.conn.executemany(_JOURNAL_INSERT, rest.journal)
                    head_seq, head_hash = rest.last_seq, rest.last_hash
                    self.conn.execute(
                        "INSERT INTO head_history (station, seq, hash) VALUES (?, ?, ?)",
                        (batch.station, head_seq, head_hash),
                    )
                    if rest.has_kind("disposition"):
                        found = self.conn.execute(
                            _CONFLICTS, (batch.station, rest.first_seq, rest.last_seq)
                        )
                        conflicts = tuple(r[0] for r in found)
                self._execute("COMMIT")
            except BaseException as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.IntegrityError):
                    raise self._refusal(batch, exc) from None
                if isinstance(exc, sqlite3.OperationalError):
                    raise CentralUnavailable(
                        f"The central store {self.path} could not store the batch: {exc}."
                    ) from None
                raise
        return IngestResult(
            batch.station,
            len(batch),
            len(rest),
            len(batch) - len(rest),
            head_seq,
            head_hash,
            conflicts,
        )

    def _refusal(self, batch: PreparedBatch, exc: sqlite3.IntegrityError) -> IngestRefused:
        text = str(exc)
        if "malformed" in text:
            return IngestRefused(
                Refusal.MALFORMED,
                f"The central store refused station {batch.station}'s batch (seq "
                f"{batch.first_seq}-{batch.last_seq}): {text}.",
            )
        if "journal.uuid" in text:
            return IngestRefused(
                Refusal.DUPLICATE,
                f"A record UUID in station {batch.station}'s batch (seq {batch.first_seq}-"
                f"{batch.last_seq}) is already held by the central store under another record.",
            )
        return IngestRefused(
            Refusal.FORK,
            f"The central store refused station {batch.station}'s batch (seq {batch.first_seq}-"
            f"{batch.last_seq}): {text}.",
        )

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            raise CentralUnavailable(
                f"The central store {self.path} is unusable now: {exc}."
            ) from None

    # -- reading back ------------------------------------------------------------------------

    def acknowledged_heads(self, station: str | None = None) -> list[AcknowledgedHead]:
        """Every head acknowledged to ``station`` (or to every station), by station and seq."""
        query = "SELECT station, seq, hash, acknowledged_at FROM head_history"
        params: tuple[Any, ...] = ()
        if station is not None:
            query += " WHERE station = ?"
            params = (station,)
        with self._lock:
            rows = self._execute(query + " ORDER BY station, seq", params).fetchall()
        return [AcknowledgedHead(*row) for row in rows]

    def hashes(self, station: str, first_seq: int, last_seq: int) -> dict[int, str]:
        """seq -> hash of the station's records held in [first_seq, last_seq]."""
        with self._lock:
            rows = self._execute(
                "SELECT seq, hash FROM journal WHERE station = ? AND seq BETWEEN ? AND ?",
                (station, first_seq, last_seq),
            ).fetchall()
        return dict(rows)

    def stations(self) -> list[StationSummary]:
        """Every station with records or a head, by station id."""
        with self._lock:
            counts = {
                row[0]: row[1:]
                for row in self._execute(
                    "SELECT station, COUNT(*), MIN(seq), MAX(seq) FROM journal GROUP BY station"
                )
            }
            heads = {
                row[0]: row[1:]
                for row in self._execute("SELECT station, head_seq, head_hash FROM stations")
            }
        out = []
        for station in sorted(set(counts) | set(heads)):
            count, first, last = counts.get(station, (0, None, None))
            head_seq, head_hash = heads.get(station, (0, journal.GENESIS))
            out.append(StationSummary(station, count, first, last, head_seq, head_hash))
        return out

    def records(self, station: str, after_seq: int = 0, batch: int = 2000) -> Iterator[dict]:
        """The station's records above ``after_seq``, decoded, streamed in keyset pages."""
        last = after_seq
        while True:
            with self._lock:
                cursor = self._execute(
                    "SELECT station, seq, uuid, format, kind, ts, prev_hash, hash, body "
                    "FROM journal WHERE station = ? AND seq > ? ORDER BY seq LIMIT ?",
                    (station, last, batch),
                )
                names = [d[0] for d in cursor.description]
                rows = cursor.fetchall()
            if not rows:
                return
            for row in rows:
                yield decode_record(dict(zip(names, row, strict=True)))
            last = rows[-1][1]

    def projection_rows(
        self, table: str, station: str, first_seq: int, last_seq: int
    ) -> list[dict[str, Any]]:
        """Rows of ``table`` for the station's seqs in the range, by seq then insertion."""
        if table not in CENTRAL_TABLES:
            raise ValueError(f"unknown projection table {table!r}")
        with self._lock:
            cursor = self._execute(
                f"SELECT * FROM {table} WHERE station = ? AND seq BETWEEN ? AND ? "
                "ORDER BY seq, rowid",
                (station, first_seq, last_seq),
            )
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def projection_beyond(self, station: str, seq: int) -> tuple[str, int] | None:
        """The first projection row of the station above ``seq``, if any."""
        with self._lock:
            for table in CENTRAL_TABLES:
                row = self._execute(
                    f"SELECT MIN(seq) FROM {table} WHERE station = ? AND seq > ?", (station, seq)
                ).fetchone()
                if row[0] is not None:
                    return table, row[0]
        return None

    def read(
        self,
        query: ReadQuery,
        params: Sequence[Any] = (),
        *,
        heads: Mapping[str, int],
        values: Sequence[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of a registered query, read-only (``PRAGMA query_only`` makes SQLite refuse
        writes)."""
        rows: list[dict[str, Any]] = []
        for sql, args in statements(query, params, heads, values=values):
            rows += self._read_only(sql, args)
        return rows

    def _read_only(self, sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        """Rows of one statement with writes refused; errors as SyncError sentences."""
        with self._lock:
            try:
                self.conn.execute("PRAGMA query_only = ON")
                try:
                    cursor = self.conn.execute(sql, tuple(args))
                    names = [d[0] for d in cursor.description or ()]
                    rows = cursor.fetchall()
                finally:
                    self.conn.execute("PRAGMA query_only = OFF")
            except sqlite3.Error as exc:
                detail = " ".join(str(exc).split()).rstrip(".")
                if isinstance(exc, sqlite3.OperationalError) and "locked" in detail:
                    raise CentralUnavailable(
                        f"The central store {self.path} is busy: {detail}."
                    ) from None
                raise SyncError(
                    f"The central store {self.path} could not answer a read query: {detail}."
                ) from None
        return [dict(zip(names, row, strict=True)) for row in rows]

    def add_station(
        self, station: str, role: str | None = None, new_password: bool = False
    ) -> StationCredentials:
        """The embedded store has no roles: every station on the machine writes the file."""
        raise SyncError(
            f"The embedded central store {self.path} has no database roles; station roles "
            "exist only in a PostgreSQL central store."
        )

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self.conn.close()
