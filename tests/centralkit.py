"""The central store the sync, export and report tests run against, in both backends.

Import the fixture into a test folder's ``conftest.py`` (with ``pg``'s fixtures)::

    from centralkit import central_url, sqlite_central_template  # noqa: F401  (fixtures)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inspect_station.sync import open_central


@pytest.fixture(scope="session")
def sqlite_central_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded central store migrated once per test process, to be copied."""
    path = tmp_path_factory.mktemp("central-template") / "central.db"
    with open_central(f"sqlite:///{path}") as central:
        central.migrate()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def central_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An initialised, empty central store: an embedded SQLite file or a PostgreSQL database,
    each a copy of one migrated once (what ``central init`` makes of an empty store)."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_central_database").url
    path = tmp_path / "central.db"
    shutil.copyfile(request.getfixturevalue("sqlite_central_template"), path)
    return f"sqlite:///{path}"
