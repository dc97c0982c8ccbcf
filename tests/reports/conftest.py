"""SPC report fixtures: the GRD-5 spec, and a central store (embedded SQLite or PostgreSQL)."""

from __future__ import annotations

import pytest
from centralkit import central_url, sqlite_central_template  # noqa: F401  (fixtures)
from pg import pg_central_database, pg_database, pg_server  # noqa: F401  (fixtures)
from reportkit import griddle

from inspect_station.spec import PartSpec


@pytest.fixture(scope="session")
def grd(tmp_path_factory: pytest.TempPathFactory) -> PartSpec:
    """GRD-5 revision A: 1 two-sided, 2 upper limit only, 3 lower limit only, 4 attribute."""
    return griddle(tmp_path_factory.mktemp("specs"))
