"""SPC report fixtures: the GRD-5 spec, and a central store (embedded SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg import pg_database, pg_server  # noqa: F401  (fixtures)
from reportkit import griddle

from inspect_station.spec import PartSpec
from inspect_station.sync import open_central


@pytest.fixture(scope="session")
def grd(tmp_path_factory: pytest.TempPathFactory) -> PartSpec:
    """GRD-5 revision A: 1 two-sided, 2 upper limit only, 3 lower limit only, 4 attribute."""
    return griddle(tmp_path_factory.mktemp("specs"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def central_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An initialised, empty central store: an embedded SQLite file or a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'central.db'}"
    else:
        url = request.getfixturevalue("pg_database").url
    with open_central(url) as central:
        central.migrate()
    yield url
