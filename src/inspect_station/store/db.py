# Over 500 lines: the one owner of the station's SQLite file (open, append, read, verify, sync).
"""The local record: the one module that owns the station's SQLite file.

Every write is one ``BEGIN IMMEDIATE`` transaction that appends journal records and their
projection rows together (several measurements may share one, each in a savepoint: the group
commit); the database runs in WAL mode with ``synchronous=FULL`` so that a
record is on disk before ``append`` returns and the caller acknowledges it.
"""

from __future__ import annotations

import json
import operator
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from sqlite_utils import Database

from inspect_station import clock
from inspect_station.errors import StoreError
from inspect_station.store import journal
from inspect_station.store.inspections import PartCache
from inspect_station.store.migrations import migrations
from inspect_station.store.projections import SHAPES, TABLES, project, shape_problem
from inspect_station.store.verifier import VerifyReport, verify_rows

T = TypeVar("T")

_BUSY_TIMEOUT_MS = 30_000
_JOURNAL_PAGE = (
    f"SELECT {', '.join(journal.STORED_FIELDS)} FROM journal WHERE seq > ? ORDER BY seq LIMIT ?"
)
"""The one read of the journal in seq order: a page of rows after a seq."""


class Transaction:
    """Appends records inside one open write transaction; see ``LocalStore.transaction``."""

    def __init__(self, store: LocalStore) -> None:
        self._store = store
        self.conn = store.conn
        row = self.conn.execute(
            "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        self.head_seq: int = row[0] if row else 0
        self.head_hash: str = row[1] if row else journal.GENESIS
        self.appended: list[dict[str, Any]] = []
        self.parts = PartCache(self)
        """What this transaction has read and written of parts (the write path's reads)."""
        self._reads: dict[Hashable, Any] = {}
        self._read_tables: dict[str, set[Hashable]] = {}
        self._writes = self.conn.cursor()
        """The cursor of the transaction's statements that return no rows (inserts, savepoints)."""

    def append(self, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Append one record (and its projection rows); returns the hashed record."""
        record, body_json = journal.seal(
            station=self._store.station,
            seq=self.head_seq + 1,
            kind=kind,
            body=body,
            prev_hash=self.head_hash,
        )
        if kind in SHAPES:
            # A record the central store would refuse must not enter the chain at all.
            problem = shape_problem(record)
            if problem is not None:
                raise StoreError(f"A {kind} record would be malformed ({problem}); not recorded.")
        write = self._writes.execute
        write(
            "INSERT INTO journal (seq, uuid, format, station, kind, ts, prev_hash, hash, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record["seq"],
                record["uuid"],
                record["format"],
                record["station"],
                record["kind"],
                record["ts"],
                record["prev_hash"],
                record["hash"],
                body_json,
            ),
        )
        for table, row in project(record):
            sql, values = _insert_of(table)
            write(sql, values(row))
            self.parts.saw(table, row)
            if table in self._read_tables:
                for key in self._read_tables.pop(table):
                    self._reads.pop(key, None)
        self.head_seq = record["seq"]
        self.head_hash = record["hash"]
        self.appended.append(record)
        return record

    def savepoint(self) -> _Savepoint:
        """A part of the transaction that an exception undoes alone (records, rows, head).

        The group commit's unit: one refused measurement rolls back to here and the others
        in the same transaction stay, chained as if the refused one had never been tried.
        """
        return _Savepoint(self)

    def _rolled_back(self, head_seq: int, head_hash: str, appended: int) -> None:
        """Forget what a savepoint's rollback undid: the head, its records, what was read."""
        self.head_seq, self.head_hash = head_seq, head_hash
        del self.appended[appended:]
        self.parts.clear()
        self._reads.clear()
        self._read_tables.clear()

    def query(self, sql: str, params: tuple[Any, ...] | Mapping[str, Any] = ()) -> list[dict]:
        """Rows of a read query as dicts, seen inside this transaction."""
        return _dict_rows(self.conn.execute(sql, params))

    def remembered(self, key: Hashable, tables: tuple[str, ...], read: Callable[[], T]) -> T:
        """``read()`` asked once per transaction: its answer is kept under ``key`` until this
        transaction inserts a row into one of ``tables`` (the tables the read depends on) or
        rolls back to a savepoint; only projection rows appended here can change them."""
        if key in self._reads:
            return cast(T, self._reads[key])
        value = read()
        self._reads[key] = value
        for table in tables:
            self._read_tables.setdefault(table, set()).add(key)
        return value


class _Savepoint:
    """``Transaction.savepoint``: SAVEPOINT on entry, RELEASE on a normal exit, ROLLBACK TO
    (and the transaction's head and what it kept, as they were) on an exception."""

    __slots__ = ("_head", "_tx")

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    def __enter__(self) -> None:
        tx = self._tx
        self._head = (tx.head_seq, tx.head_hash, len(tx.appended))
        tx._writes.execute("SAVEPOINT measurement")

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> Literal[False]:
        tx = self._tx
        if kind is None:
            tx._writes.execute("RELEASE measurement")
            return False
        if tx.conn.in_transaction:  # an I/O error may have ended it already
            tx.conn.execute("ROLLBACK TO measurement")
            tx.conn.execute("RELEASE measurement")
        tx._rolled_back(*self._head)
        return False  # the exception goes on


_INSERTS: dict[str, tuple[list[tuple[str, str]], str, Callable[[Mapping[str, Any]], Any]]] = {}
"""table -> (its declared columns, its INSERT statement, row -> the values in that order)."""


def _insert_of(table: str) -> tuple[str, Callable[[Mapping[str, Any]], Any]]:
    """The INSERT statement of a projection table and what takes a row's values for it, made
    again if the table's declaration was replaced."""
    declared = TABLES[table]
    cached = _INSERTS.get(table)
    if cached is None or cached[0] is not declared:
        columns = [c for c, _ in declared]
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        take = operator.itemgetter(*columns)
        values = take if len(columns) > 1 else (lambda row: (take(row),))
        cached = _INSERTS[table] = (declared, sql, values)
    return cached[1], cached[2]


def _dict_rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class LocalStore:
    """The station's SQLite record: open, migrate, append, read and verify."""

    readonly: bool = False
    """Opened to read only (``open_readonly``): every write is refused, nothing is changed."""
    _scratch: Path | None = None
    """A private folder holding a copy that a read-only open had to make (removed on close)."""

    def __init__(self, path: Path | str, station: str) -> None:
        self.path = Path(path)
        self.station = station
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the local record {self.path}: {exc}.") from None
        self.conn = conn
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"The local record {self.path} cannot use WAL mode ({mode}).")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self.db = Database(conn)
            self._migrate()
            self._bind_station()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{self.path} is not a usable station database: {exc}.") from None

    @classmethod
    def open_readonly(cls, path: Path | str) -> LocalStore:
        """Open an existing local record to read, as the station it belongs to.

        For every read command and for a record copied from any station (an auditor's case):
        a missing file is refused, never created; the file is never migrated, switched to WAL
        or written, and no file is created next to it, so its bytes stay as they were (also
        on a read-only file or mount). Every write through the store is refused.
        """
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"There is no local record at {path}.")
        conn, scratch = _connect_readonly(path)
        try:
            station = _station_in(conn, path)
        except BaseException:
            conn.close()
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        store = cls.__new__(cls)
        store.path = path
        store.station = station
        store._lock = threading.RLock()
        store.conn = conn
        store.db = Database(conn)
        store.readonly = True
        store._scratch = scratch
        return store

    @classmethod
    def open_existing(cls, path: Path | str) -> LocalStore:
        """An existing record opened to read only: the same as ``open_readonly``."""
        return cls.open_readonly(path)

    def _require_writable(self) -> None:
        """Refuse a write through a store opened with ``open_readonly``."""
        if self.readonly:
            raise StoreError(
                f"The local record {self.path} was opened to read only; nothing was written."
            )

    def _migrate(self) -> None:
        """Apply pending migrations under the write lock (safe with several processes)."""
        with self._lock:
            if not migrations.pending(self.db):
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                migrations.apply(self.db)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def _bind_station(self) -> None:
        """Tie the file to one station id; refuse to write another station's chain."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                row = self.conn.execute("SELECT value FROM meta WHERE key = 'station'").fetchone()
                if row is None:
                    self.conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('station', ?)", (self.station,)
                    )
                    self.conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('created_at', ?)",
                        (clock.utc_timestamp(),),
                    )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        if row is not None and row[0] != self.station:
            self.conn.close()
            raise StoreError(
                f"The local record {self.path} belongs to station {row[0]!r}, not "
                f"{self.station!r}; use that station id or another database file."
            )

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One durable write transaction; committed (fsynced) when the block ends."""
        self._require_writable()
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(
                    f"The local record {self.path} is busy or locked: {exc}."
                ) from None
            try:
                tx = Transaction(self)
                yield tx
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    def append(self, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Append and commit one record; returns it once it is durable."""
        with self.transaction() as tx:
            return tx.append(kind, body)

    def query(self, sql: str, params: tuple[Any, ...] | Mapping[str, Any] = ()) -> list[dict]:
        """Rows of a read query as dicts."""
        with self._lock:
            return _dict_rows(self.conn.execute(sql, params))

    def query_tuples(
        self, sql: str, params: tuple[Any, ...] | Mapping[str, Any] = ()
    ) -> list[tuple[Any, ...]]:
        """Rows of a read query as plain tuples in the SELECT's column order (no dict per row)."""
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def has_table(self, name: str) -> bool:
        """Whether the file has this table or view (a record written by an older version may
        lack a newer projection table: it is opened read-only as it is)."""
        return bool(
            self.query(
                "SELECT 1 FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')", (name,)
            )
        )

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last record; (0, GENESIS) for an empty journal."""
        with self._lock:
            row = self.conn.execute(
                "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        return (row[0], row[1]) if row else (0, journal.GENESIS)

    def journal_rows(self, after_seq: int, limit: int) -> list[tuple[Any, ...]]:
        """Up to ``limit`` journal rows with seq above ``after_seq``, in seq order, as stored:
        tuples of ``journal.STORED_FIELDS`` (the body as its canonical JSON text)."""
        with self._lock:
            return self.conn.execute(_JOURNAL_PAGE, (after_seq, limit)).fetchall()

    def records(
        self, after_seq: int = 0, limit: int | None = None, batch: int = 1000
    ) -> Iterator[dict]:
        """Journal records with seq above ``after_seq``, in order, streamed in batches."""
        remaining = limit
        last = after_seq
        while remaining is None or remaining > 0:
            size = batch if remaining is None else min(batch, remaining)
            rows = self.journal_rows(last, size)
            if not rows:
                return
            for row in rows:
                yield _row_to_record(row)
            last = rows[-1][2]
            if remaining is not None:
                remaining -= len(rows)

    def verify(self, after: tuple[int, str] | None = None) -> VerifyReport:
        """Recompute the hash chain and re-derive every projection row; report the first fault.

        With ``after`` (seq, hash) -- a checkpoint of an earlier full verification whose record
        the caller found still holding that hash -- only the records after it are checked.
        """
        seq, hash_ = after or (0, journal.GENESIS)
        return verify_rows(
            self.station, self.journal_rows, self._tuples, after_seq=seq, after_hash=hash_
        )

    def _tuples(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Rows of a read query as tuples."""
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close the database file (and remove a read-only open's private copy)."""
        with self._lock:
            self.conn.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sync state (bookkeeping of the shipper; mutable, not part of the record) ---------------

    def hashes(self, first_seq: int, last_seq: int) -> dict[int, str]:
        """seq -> hash of the journal records in [first_seq, last_seq]."""
        with self._lock:
            rows = self.conn.execute(
                "SELECT seq, hash FROM journal WHERE seq BETWEEN ? AND ?", (first_seq, last_seq)
            ).fetchall()
        return dict(rows)

    def sync_states(self) -> list[dict[str, Any]]:
        """Where shipping stands with every central store this record was shipped to."""
        return self.query("SELECT * FROM sync_state ORDER BY central")

    def sync_state(self, central: str) -> dict[str, Any] | None:
        """Where shipping to the central store ``central`` stands; None if it never started."""
        rows = self.query("SELECT * FROM sync_state WHERE central = ?", (central,))
        return rows[0] if rows else None

    def set_sync_acknowledged(
        self, central: str, seq: int, hash_: str, at: str, *, rewind: bool = False
    ) -> None:
        """Record that ``central`` durably holds this station's records up to ``seq``.

        Clears the last error. The acknowledged seq only moves forward unless ``rewind`` (the
        central store was found to hold less, e.g. restored from a backup).
        """
        self._require_writable()
        with self._lock:
            self.conn.execute(
                """
                INSERT INTO sync_state (central, acked_seq, acked_hash, last_success_at,
                                        last_attempt_at)
                VALUES (:central, :seq, :hash, :at, :at)
                ON CONFLICT (central) DO UPDATE SET
                    acked_hash = CASE WHEN :rewind OR excluded.acked_seq >= acked_seq
                                      THEN excluded.acked_hash ELSE acked_hash END,
                    acked_seq = CASE WHEN :rewind OR excluded.acked_seq >= acked_seq
                                     THEN excluded.acked_seq ELSE acked_seq END,
                    last_success_at = excluded.last_success_at,
                    last_attempt_at = excluded.last_attempt_at,
                    last_error = NULL, last_error_kind = NULL, last_error_at = NULL
                """,
                {"central": central, "seq": seq, "hash": hash_, "at": at, "rewind": rewind},
            )

    def set_sync_error(self, central: str, message: str, kind: str, at: str) -> None:
        """Record why the last attempt to ship to ``central`` failed (one sentence and a kind)."""
        self._require_writable()
        with self._lock:
            self.conn.execute(
                """
                INSERT INTO sync_state (central, last_attempt_at, last_error, last_error_kind,
                                        last_error_at)
                VALUES (:central, :at, :message, :kind, :at)
                ON CONFLICT (central) DO UPDATE SET
                    last_attempt_at = excluded.last_attempt_at,
                    last_error = excluded.last_error,
                    last_error_kind = excluded.last_error_kind,
                    last_error_at = excluded.last_error_at
                """,
                {"central": central, "message": message, "kind": kind, "at": at},
            )


def _connect_readonly(path: Path) -> tuple[sqlite3.Connection, Path | None]:
    """A read-only connection to ``path`` that changes no byte of it and creates no file beside it.

    SQLite's plain ``mode=ro`` is not enough: on a WAL file it creates ``-wal`` and ``-shm``
    beside it, and on a read-only folder it cannot open the file at all. So:

    - no ``-wal`` file (a closed record, a copy): open it ``immutable``, the bytes as they are;
    - a ``-wal`` and a ``-shm`` (a station writing now): an ordinary read-only reader, which
      sees every committed transaction and writes nothing to the record or its log;
    - otherwise (a copy taken with its log, a read-only folder): copy the file and its log into
      a private folder and read the copy, so committed transactions in the log are seen.

    Returns the connection and the private folder to remove on close (or None).
    """
    target = path.resolve()
    wal = target.with_name(target.name + "-wal")
    shm = target.with_name(target.name + "-shm")
    hot = target.with_name(target.name + "-journal")
    uri = target.as_uri()
    try:
        if not wal.exists() and not hot.exists():
            return _ro_connect(f"{uri}?mode=ro&immutable=1"), None
        if wal.exists() and shm.exists():
            try:
                conn = _ro_connect(f"{uri}?mode=ro")
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                return conn, None
            except sqlite3.Error:
                pass  # e.g. a -shm that this user may not write: read a copy instead
        scratch = Path(tempfile.mkdtemp(prefix="inspect-station-ro-"))
        try:
            copy = scratch / target.name
            shutil.copyfile(target, copy)
            for extra in (wal, hot):
                if extra.exists():
                    shutil.copyfile(extra, scratch / extra.name)
            return _ro_connect(f"{copy.as_uri()}?mode=ro"), scratch
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"Cannot read the local record {path}: {exc}.") from None


def _ro_connect(uri: str) -> sqlite3.Connection:
    """A read-only connection by URI, usable from the threads a reader hands work to."""
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    return conn


def _station_in(conn: sqlite3.Connection, path: Path) -> str:
    """The station id a local record belongs to, read through ``conn``."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'station'").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise StoreError(f"Cannot read the local record {path}: {exc}.") from None
        row = None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a usable station database: {exc}.") from None
    if row is None:
        raise StoreError(f"{path} is not a station's local record: it names no station.")
    return str(row[0])


def _row_to_record(row: tuple) -> dict[str, Any]:
    """A journal table row back into the record object that was hashed."""
    fmt, station, seq, uuid, kind, ts, prev_hash, hash_, body = row
    return {
        "format": fmt,
        "station": station,
        "seq": seq,
        "uuid": uuid,
        "kind": kind,
        "ts": ts,
        "prev_hash": prev_hash,
        "body": json.loads(body),
        "hash": hash_,
    }
