"""The central store the sync, export and report tests run against, in both backends.

Import the fixture into a test folder's ``conftest.py`` (with ``pg``'s fixtures)::

    from centralkit import central_url  # noqa: F401  (fixture)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inspect_station.sync import open_central


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def central_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An initialised, empty central store: an embedded SQLite file or a PostgreSQL database
    (a copy of the server's migrated template: what ``central init`` makes of an empty one)."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_central_database").url
    url = f"sqlite:///{tmp_path / 'central.db'}"
    with open_central(url) as central:
        central.migrate()
    return url
