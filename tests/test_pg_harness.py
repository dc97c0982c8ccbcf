"""The tests' PostgreSQL harness: one server shared by the run's workers, stopped at the end."""

from __future__ import annotations

import os
from pathlib import Path

import pg
import pytest
from pg import pg_server  # noqa: F401  (the fixture)

from inspect_station.sync import open_central


@pytest.mark.postgres
def test_workers_share_one_server_with_names_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = tmp_path / "shared"
    folder.mkdir()
    monkeypatch.setenv(pg.SHARED_ENV, str(folder))
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    first = pg._shared_server(folder)
    try:
        monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
        second = pg._shared_server(folder)
        assert (second.port, second.root, second.password) == (
            first.port,
            first.root,
            first.password,
        )
        assert first.names != second.names
        a, b = first.create_database(), second.create_database()
        assert a != b
        template = second.ensure_central_template()
        assert first.ensure_central_template() == template  # made once
        copy = first.create_database(template=template)
        with open_central(first.url(copy)) as central:
            assert central.migrate() == []  # the copy holds the whole schema already
    finally:
        pg.stop_shared_server()
    assert not first.running()
    assert not folder.exists() and not first.root.exists()
    assert pg.SHARED_ENV not in os.environ


@pytest.mark.postgres
def test_a_test_server_keeps_its_shared_memory_in_its_own_folder(
    pg_server: pg.PgServer,  # noqa: F811  (the fixture)
):
    assert pg_server.psql("SHOW dynamic_shared_memory_type").strip() == "mmap"
    assert list((pg_server.datadir / "pg_dynshmem").iterdir())  # the segments are there
