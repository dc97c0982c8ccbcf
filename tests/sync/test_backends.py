"""Central backends are a registry: a backend is one module whose store class registers itself;
``open_central`` and URL parsing find it by the URL, loading a driver only when a URL needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest

from inspect_station.sync import CentralUrlError, open_central, parse_central_url
from inspect_station.sync import url as urls
from inspect_station.sync.central_sqlite import SqliteCentral


def test_a_backend_module_registers_its_urls_and_open_central_finds_it(
    tmp_path: Path, make_station, monkeypatch: pytest.MonkeyPatch
):
    parse_central_url("postgresql://u@h/db")  # every shipped backend is loaded: then a copy
    monkeypatch.setattr(urls, "_BACKENDS", dict(urls._BACKENDS))

    @urls.register_backend
    class ArchiveCentral(SqliteCentral):
        """A store of its own URL scheme (here: a SQLite file again)."""

        name = "archive"
        example = "archive:///path/archive.db"
        order = 5
        PREFIX: ClassVar[str] = "archive:///"

    url = parse_central_url(f"archive:///{tmp_path / 'a.db'}")
    assert (url.backend, url.path) == ("archive", tmp_path / "a.db")
    assert url.identity == f"sqlite:///{tmp_path / 'a.db'}"
    store = make_station("BENCH-1", 12)
    with open_central(url) as central:
        assert isinstance(central, ArchiveCentral)
        assert central.ingest("BENCH-1", list(store.records())).head_seq == store.head()[0]
    with pytest.raises(CentralUrlError, match=r"is none of sqlite:///path/central\.db, postgres"):
        parse_central_url("ftp://archive/a.db")
    with pytest.raises(ValueError, match="'archive' is registered twice"):
        urls.register_backend(type("Other", (ArchiveCentral,), {}))


def test_the_postgresql_driver_is_loaded_only_for_a_postgresql_url(tmp_path: Path):
    script = (
        "import sys\n"
        "from inspect_station.sync import open_central, parse_central_url\n"
        f"open_central(parse_central_url('sqlite:///{tmp_path / 'c.db'}')).close()\n"
        "assert 'psycopg' not in sys.modules, 'loaded for sqlite'\n"
        "assert parse_central_url('postgresql://u@h/db').backend == 'postgresql'\n"
        "assert 'psycopg' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
