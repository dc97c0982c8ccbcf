"""Sync fixtures: the same behaviour tests run against the SQLite and the PostgreSQL store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from backlog import fill
from pg import PgDatabase, PgServer, pg_database, pg_server  # noqa: F401  (fixtures)
from synckit import RawCentral

from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore
from inspect_station.sync import open_central

__all__ = ["PgDatabase", "PgServer", "RawCentral"]


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def central_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An initialised, empty central store: an embedded SQLite file or a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'central.db'}"
    else:
        url = request.getfixturevalue("pg_database").url
    with open_central(url) as central:
        central.migrate()
    return url


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
def raw_central(central_url: str) -> RawCentral:
    """Direct SQL access to the central store under test."""
    return RawCentral(central_url)
