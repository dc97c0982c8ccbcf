"""The sync commands as an administrator and a station use them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from pg import PgDatabase
from synckit import RawCentral

from inspect_station.cli import main
from inspect_station.sync import open_central


def cli(*args: str, config: Path | None = None) -> click.testing.Result:
    options = ["--config", str(config)] if config else []
    return CliRunner().invoke(main, [*options, *args], catch_exceptions=False)


@pytest.fixture
def station(tmp_path: Path, make_station) -> tuple[Path, Path]:
    """(station.toml, its local record holding ~300 records) for station BENCH-1."""
    store = make_station("BENCH-1", 300)
    config = tmp_path / "station.toml"
    config.write_text(f'station = "BENCH-1"\ndb = "{store.path}"\n')
    return config, store.path


def test_every_sync_command_has_help():
    for command in (["central"], ["central", "init"], ["central", "add-station"], ["sync"]):
        result = cli(*command, "--help")
        assert result.exit_code == 0
        assert len(result.output.split("\n\n")[1].strip()) > 20


def test_sync_to_the_embedded_default(station, tmp_path: Path, monkeypatch):
    config, _ = station
    monkeypatch.setenv("INSPECT_STATION_DATA", str(tmp_path / "data"))
    first = cli("sync", "--batch-size", "64", config=config)
    assert first.exit_code == 0, first.output
    assert "Shipped 302 records of station BENCH-1 to sqlite:///" in first.output
    assert "it holds seq 1-302." in first.output
    assert (tmp_path / "data" / "central.db").exists()
    again = cli("sync", config=config)
    assert again.exit_code == 0
    assert "Nothing to ship:" in again.output and "(seq 1-302)" in again.output
    verified = cli("verify", "--central", f"sqlite:///{tmp_path / 'data' / 'central.db'}")
    assert verified.exit_code == 0, verified.output
    assert "BENCH-1: 302 records, seq 1-302, chain and projections OK" in verified.output
    assert "OK: 1 station(s), 302 records" in verified.output


@pytest.mark.postgres
def test_central_init_reports_what_it_did(tmp_path: Path, pg_database: PgDatabase):
    for url in (f"sqlite:///{tmp_path / 'c.db'}", pg_database.url):
        first = cli("central", "init", url)
        assert first.exit_code == 0, first.output
        assert "created or upgraded" in first.output
        assert pg_database.server.password not in first.output
        second = cli("central", "init", url)
        assert "already up to date" in second.output


@pytest.mark.postgres
def test_add_station_prints_the_password_once_and_the_url_to_use(pg_database: PgDatabase, station):
    config, _ = station
    assert cli("central", "init", pg_database.url).exit_code == 0
    result = cli("central", "add-station", pg_database.url, "BENCH-1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    password = lines[1].rsplit(" ", 1)[1]
    assert result.output.count(password) == 2  # the password line and the URL to paste
    url = lines[-1].removeprefix('central = "').removesuffix('"')
    assert f":{password}@127.0.0.1" in url and pg_database.server.password not in result.output
    config.write_text(config.read_text() + f'central = "{url}"\n')
    shipped = cli("sync", config=config)
    assert shipped.exit_code == 0, shipped.output
    assert "Shipped 302 records" in shipped.output and password not in shipped.output
    assert ":***@" in shipped.output


def test_add_station_on_the_embedded_store_is_one_sentence(tmp_path: Path):
    result = cli("central", "add-station", f"sqlite:///{tmp_path / 'c.db'}", "BENCH-1")
    assert result.exit_code == 2
    assert (
        result.output.startswith("Error: The embedded central store")
        and "Traceback" not in result.output
    )


def test_an_unreachable_central_store_is_one_sentence_without_the_password(station):
    config, _ = station
    url = "postgresql://bench:hunter2@127.0.0.1:1/inspection?connect_timeout=2"
    result = cli("sync", "--central", url, "--attempts", "1", config=config)
    assert result.exit_code == 2
    error = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and "Cannot connect to the central store" in error[0]
    assert "hunter2" not in result.output and "postgresql://bench:***@127.0.0.1:1" in error[0]


def test_a_refused_batch_is_one_sentence_with_its_reason(station, tmp_path: Path):
    config, db = station
    from inspect_station.store import LocalStore

    with LocalStore(db, "BENCH-1") as store:
        store.conn.execute("DROP TRIGGER journal_no_delete")
        store.conn.execute("DROP TRIGGER journal_chain")
        store.conn.execute("DELETE FROM journal WHERE seq = 100")
    result = cli("sync", "--central", f"sqlite:///{tmp_path / 'c.db'}", config=config)
    assert result.exit_code == 2
    assert "Error: Station BENCH-1's journal jumps from seq 99 to seq 101" in result.output


def test_verify_central_finds_a_tampered_record(central_url, station, raw_central: RawCentral):
    config, _ = station
    assert cli("sync", "--central", central_url, config=config).exit_code == 0
    assert cli("verify", "--central", central_url).exit_code == 0
    raw_central.tamper(
        "journal", "UPDATE {s}journal SET ts = '2020-01-01T00:00:00.000000Z' WHERE seq = 77"
    )
    result = cli("verify", "--central", central_url)
    assert result.exit_code == 1
    assert "BENCH-1: 302 records, BROKEN at seq 77: hash does not match" in result.output
    assert "BROKEN: 1 of 1 station(s)" in result.output


def test_verify_central_finds_an_altered_projection(central_url, station, raw_central: RawCentral):
    config, _ = station
    assert cli("sync", "--central", central_url, config=config).exit_code == 0
    raw_central.tamper("measurements", "UPDATE {s}measurements SET value = '119.99' WHERE seq = 40")
    result = cli("verify", "--central", central_url)
    assert result.exit_code == 1
    assert "BROKEN at seq 40: measurements.value is '119.99'" in result.output


def test_verify_central_finds_a_deleted_projection_row(
    central_url, station, raw_central: RawCentral
):
    config, _ = station
    assert cli("sync", "--central", central_url, config=config).exit_code == 0
    ((seq,),) = raw_central.execute("SELECT max(seq) FROM {s}results")
    raw_central.tamper("results", f"DELETE FROM {{s}}results WHERE seq = {seq}")
    result = cli("verify", "--central", central_url)
    assert result.exit_code == 1
    assert f"BROKEN at seq {seq}: the record is missing its results row" in result.output


def test_verify_a_central_store_that_does_not_exist(tmp_path: Path):
    result = cli("verify", "--central", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.exit_code == 2 and "There is no central store at" in result.output


@pytest.fixture(params=["sigint-default", "sigint-ignored"])
def run_sigint(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test run as from a terminal, and as a background job (SIGINT ignored) that passes
    SIG_IGN on to every child it starts."""
    if request.param == "sigint-ignored":
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        yield request.param
        signal.signal(signal.SIGINT, previous)
    else:
        yield request.param


def test_sync_watch_ships_until_interrupted(station, tmp_path: Path, children, run_sigint):
    config, _ = station
    url = f"sqlite:///{tmp_path / 'c.db'}"
    proc = children.popen(
        [
            sys.executable,
            "-m",
            "inspect_station",
            "--config",
            str(config),
            "sync",
            "--watch",
            "--central",
            url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        for line in proc.stdout:
            if "up to date: all synced" in line:
                break
        else:
            pytest.fail(proc.stderr.read())
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Stopped: 0 records unsynced, acknowledged up to seq 302." in out
    with open_central(url) as central:
        assert central.head("BENCH-1")[0] == 302


def test_a_station_database_is_not_taken_for_a_central_store(station):
    _, db = station
    result = cli("verify", "--central", f"sqlite:///{db}")
    assert result.exit_code == 2
    assert "is a station's local record, not a central store" in result.output
