"""The local record: an append-only, hash-chained journal in SQLite with query projections."""

from inspect_station.store import _sqlite_utils  # noqa: F401  (first: sqlite-utils without numpy)
from inspect_station.store.db import LocalStore, Transaction, VerifyReport

__all__ = ["LocalStore", "Transaction", "VerifyReport"]
