"""The credential table: PIN verifiers and lock-out counters, local to one station's file.

Credentials never enter the journal: this table is mutable, is not a projection of any record,
is never shipped to a central store, exported or verified as part of the chain. The journal
records *that* a PIN was set, by whom and when (a ``user`` record with ``pin_set``); the row
here names that record's ``seq``.

Columns: ``user_id``; ``verifier`` (``scrypt$N$r$p$salt$hash``); ``origin`` (``set``: set
through the credential table; ``legacy``: moved here from a journal record written by an
earlier version, so the hash is also in that old record); ``set_at``, ``set_by``, ``set_seq``;
``failures`` (wrong PINs counted since the last success or PIN change, counted *before* the
slow hash is checked) and ``last_failure_at``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from inspect_station.store.db import LocalStore, Transaction

ORIGIN_SET = "set"
"""A verifier set through the credential table."""
ORIGIN_LEGACY = "legacy"
"""A verifier moved here from a journal record of an earlier version (the hash is in it)."""


def read(tx: Transaction, user_id: str) -> dict[str, Any] | None:
    """The credential row of ``user_id`` inside a transaction, or None."""
    rows = tx.query("SELECT * FROM credentials WHERE user_id = ?", (user_id,))
    return rows[0] if rows else None


def put(
    tx: Transaction, user_id: str, verifier: str, *, set_at: str, set_by: str, set_seq: int
) -> None:
    """Store a newly set verifier for ``user_id``; its failure count starts again at zero."""
    tx.conn.execute(
        "INSERT INTO credentials (user_id, verifier, origin, set_at, set_by, set_seq, failures, "
        "last_failure_at) VALUES (?, ?, ?, ?, ?, ?, 0, NULL) "
        "ON CONFLICT (user_id) DO UPDATE SET verifier = excluded.verifier, "
        "origin = excluded.origin, set_at = excluded.set_at, set_by = excluded.set_by, "
        "set_seq = excluded.set_seq, failures = 0, last_failure_at = NULL",
        (user_id, verifier, ORIGIN_SET, set_at, set_by, set_seq),
    )


def count_failure(tx: Transaction, user_id: str, at: str, *, restart: bool) -> int:
    """Count one more attempt as failed (``restart``: the earlier ones expired); the new count."""
    tx.conn.execute(
        "UPDATE credentials SET failures = CASE WHEN ? THEN 1 ELSE failures + 1 END, "
        "last_failure_at = ? WHERE user_id = ?",
        (restart, at, user_id),
    )
    row = tx.conn.execute(
        "SELECT failures FROM credentials WHERE user_id = ?", (user_id,)
    ).fetchone()
    return int(row[0]) if row else 0


def clear_failures(tx: Transaction, user_id: str) -> None:
    """The attempt succeeded: no failures are counted any more."""
    tx.conn.execute(
        "UPDATE credentials SET failures = 0, last_failure_at = NULL WHERE user_id = ?",
        (user_id,),
    )


def states(store: LocalStore) -> dict[str, dict[str, Any]] | None:
    """user id -> its credential row without the verifier; None for a record not upgraded."""
    try:
        rows = store.query(
            "SELECT user_id, origin, set_at, set_by, set_seq, failures, last_failure_at "
            "FROM credentials"
        )
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    return {row["user_id"]: row for row in rows}
