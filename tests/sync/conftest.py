"""Sync fixtures: the same behaviour tests run against the SQLite and the PostgreSQL store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from backlog import fill
from centralkit import central_url, sqlite_central_template  # noqa: F401  (fixtures)
from pg import PgDatabase, PgServer, pg_central_database, pg_database, pg_server  # noqa: F401  (fixtures)
from synckit import RawCentral

from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore

__all__ = ["PgDatabase", "PgServer", "RawCentral"]


@pytest.fixture
def make_station(tmp_path: Path, bracket: PartSpec) -> Iterator[Callable[..., LocalStore]]:
    """Factory: a station's local record holding at least ``records`` real records."""
    opened: list[LocalStore] = []

    def make(station: str = "BENCH-1", records: int = 0) -> LocalStore:
        store = LocalStore(tmp_path / f"{station}.db", station)
        opened.append(store)
        if records:
            fill(store, bracket, records)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def raw_central(central_url: str) -> RawCentral:  # noqa: F811  (the fixture)
    """Direct SQL access to the central store under test."""
    return RawCentral(central_url)
