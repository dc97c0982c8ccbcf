"""Verified checkpoints: where a station's chain was last verified, so exports re-hash only what
is new.

A checkpoint is a (seq, hash) of a record's chain that a full verification found in order --
every record from seq 1 re-hashed, every projection row re-derived -- with when that was. The
next export verifies only the records after it, as a continuation of the chain whose head the
checkpoint names, and only if the record still holds that hash at that seq (the anchor):

- the record now ends before the checkpoint's seq: records were removed (truncation) --
  reported as broken, as the sync-state anchors report it;
- the record holds another hash at that seq: the chain was edited and re-hashed since it was
  verified (or this is another file) -- reported as broken too;
- otherwise the records after it are verified as a continuation, and the checkpoint moves to
  the new head (everything before it was verified in full once, everything after it now).

What a checkpoint cannot see: an edit before it that left the stored hashes as they were (a
body changed without re-hashing, a projection row altered). ``verify`` (in full by default)
and ``export lot --full-verify`` re-verify everything and find those.

Checkpoints are bookkeeping, not part of the record: they live in a small SQLite file of their
own in the user's data folder (``locations.verify_state_path``), keyed by station and by the
record file's resolved path, so that a read-only record (an auditor's copy, a read-only
mount) is never written, and a record copied to another place starts with a full
verification. A checkpoint file that cannot be read or written costs speed, never a check:
verification is then in full.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inspect_station.clock import utc_timestamp
from inspect_station.locations import verify_state_path
from inspect_station.store.verifier import VerifyReport

if TYPE_CHECKING:
    from inspect_station.store.db import LocalStore


@dataclass(frozen=True)
class Checkpoint:
    """Where a record's chain was verified: seq and hash of the head then, and when."""

    seq: int
    """seq of the record the verification ended at."""
    hash: str
    """Its hash."""
    verified_at: str
    """When the chain up to it was verified (UTC, RFC 3339)."""
    full_at: str
    """When the chain was last verified in full, from seq 1 (UTC, RFC 3339)."""


class Checkpoints:
    """The checkpoint file: one row per (station, record file)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or verify_state_path()

    @contextlib.contextmanager
    def _connect(self, create: bool) -> Iterator[sqlite3.Connection | None]:
        """A connection to the file (None when it is absent and not to be created)."""
        if not create and not self.path.exists():
            yield None
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS checkpoints (station TEXT NOT NULL, "
                "record TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL, "
                "verified_at TEXT NOT NULL, full_at TEXT NOT NULL, "
                "PRIMARY KEY (station, record))"
            )
            yield conn
        finally:
            conn.close()

    def get(self, station: str, record: Path) -> Checkpoint | None:
        """The checkpoint of ``station``'s chain in the record file ``record``, if any."""
        try:
            with self._connect(create=False) as conn:
                if conn is None:
                    return None
                row = conn.execute(
                    "SELECT seq, hash, verified_at, full_at FROM checkpoints "
                    "WHERE station = ? AND record = ?",
                    (station, _key(record)),
                ).fetchone()
        except (OSError, sqlite3.Error):
            return None
        if row is None or not isinstance(row[0], int) or not isinstance(row[1], str):
            return None
        return Checkpoint(row[0], row[1], str(row[2]), str(row[3]))

    def put(self, station: str, record: Path, checkpoint: Checkpoint) -> None:
        """Record where ``station``'s chain in ``record`` was verified (best effort)."""
        with contextlib.suppress(OSError, sqlite3.Error), self._connect(create=True) as conn:
            if conn is not None:
                conn.execute(
                    "INSERT INTO checkpoints (station, record, seq, hash, verified_at, full_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (station, record) DO UPDATE SET "
                    "seq = excluded.seq, hash = excluded.hash, "
                    "verified_at = excluded.verified_at, full_at = excluded.full_at",
                    (
                        station,
                        _key(record),
                        checkpoint.seq,
                        checkpoint.hash,
                        checkpoint.verified_at,
                        checkpoint.full_at,
                    ),
                )

    def forget(self, station: str, record: Path) -> None:
        """Remove the checkpoint of ``station``'s chain in ``record`` (best effort)."""
        with contextlib.suppress(OSError, sqlite3.Error), self._connect(create=False) as conn:
            if conn is not None:
                conn.execute(
                    "DELETE FROM checkpoints WHERE station = ? AND record = ?",
                    (station, _key(record)),
                )


def _key(record: Path) -> str:
    """The record file's identity in the checkpoint file: its resolved path."""
    return str(Path(record).resolve())


def anchor_problem(store: LocalStore, checkpoint: Checkpoint) -> tuple[int, str] | None:
    """(seq, reason) if the record no longer holds the checkpoint's hash at its seq, else None."""
    head_seq, _ = store.head()
    shown = (
        f"seq {checkpoint.seq} (hash {checkpoint.hash[:16]}…) was verified on "
        f"{checkpoint.verified_at}"
    )
    if head_seq < checkpoint.seq:
        return (
            head_seq + 1,
            f"the record ends at seq {head_seq}, but {shown}: records were removed, or this "
            "is an older copy",
        )
    held = store.hashes(checkpoint.seq, checkpoint.seq).get(checkpoint.seq, "")
    if held != checkpoint.hash:
        return (
            checkpoint.seq,
            f"{shown}, but the record now holds hash {held[:16]}… there: the chain was edited "
            "and re-hashed since, or this is another file",
        )
    return None


def verify_local(
    store: LocalStore,
    *,
    full: bool = False,
    checkpoints: Checkpoints | None = None,
    reset: bool = False,
) -> VerifyReport:
    """Verify a local record from its last verified checkpoint (or in full), and move the
    checkpoint to the head when everything verified.

    Without a checkpoint, or with ``full``, every record is verified from seq 1. A checkpoint
    the record contradicts (ended before it, another hash at its seq) is reported as broken
    and kept as it is -- unless ``reset`` (with ``full``): a record legitimately replaced, say
    restored from a backup, starts over with a full verification and a new checkpoint.
    """
    checkpoints = checkpoints or Checkpoints()
    path = store.path
    previous = checkpoints.get(store.station, path)
    if previous is not None and reset and full:
        checkpoints.forget(store.station, path)
        previous = None
    if previous is not None:
        problem = anchor_problem(store, previous)
        if problem is not None:
            return VerifyReport(False, 0, problem[0], problem[1])
    if full or previous is None:
        report = store.verify()
        full_at = utc_timestamp()
    else:
        report = store.verify(after=(previous.seq, previous.hash))
        full_at = previous.full_at
        report = dataclasses.replace(report, checkpoint_at=previous.full_at)
    if report.ok and report.head_seq > 0:
        checkpoints.put(
            store.station,
            path,
            Checkpoint(report.head_seq, report.head_hash, utc_timestamp(), full_at),
        )
    return report
