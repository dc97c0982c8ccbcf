"""The chain anchored: each attack a hash chain alone cannot see, and who now detects it.

A chain detects an edited, reordered or deleted record in its middle. It cannot see its last
records deleted, a copy whose WAL was cut, a record appended, a value edited and everything
after it re-hashed -- nor, in a central store, a station's head rolled back or a station
deleted. The anchors can: the station's own sync state (``verify --db``), the central store's
copy and its append-only history of acknowledged heads (``verify --db --central``,
``verify --central``) and the head printed on an export (``verify --anchor``).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from synckit import RawCentral

from inspect_station.cli import main
from inspect_station.store import LocalStore
from inspect_station.store import journal as jn
from inspect_station.store.projections import TABLES, project
from inspect_station.sync import Shipper, open_central


def cli(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def verify(store_or_path: LocalStore | Path, *options: str) -> click.testing.Result:
    path = store_or_path.path if isinstance(store_or_path, LocalStore) else store_or_path
    return cli("verify", "--db", str(path), *options)


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def unguard_local(conn: sqlite3.Connection) -> None:
    """Drop the local record's append-only and chain triggers (what an attacker with the file
    can do)."""
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        conn.execute(f"DROP TRIGGER {name}")


def delete_after(path: Path, seq: int) -> None:
    """Delete every record above ``seq`` with its projection rows."""
    with raw(path) as conn:
        unguard_local(conn)
        conn.execute("DELETE FROM journal WHERE seq > ?", (seq,))
        for table in TABLES:
            conn.execute(f"DELETE FROM {table} WHERE seq > ?", (seq,))


def rewind_sync_state(path: Path, store: LocalStore, seq: int) -> None:
    """Make the sync state say only ``seq`` was ever acknowledged."""
    hash_ = store.hashes(seq, seq)[seq]
    with raw(path) as conn:
        conn.execute("UPDATE sync_state SET acked_seq = ?, acked_hash = ?", (seq, hash_))


def edit_and_rehash(path: Path, seq: int, value: str) -> None:
    """Change a measurement's value and re-hash it and every record after it (projections too):
    the chain verifies, only an anchor can tell."""
    conn = raw(path)
    try:
        unguard_local(conn)
        rows = conn.execute(
            "SELECT format, station, seq, uuid, kind, ts, prev_hash, hash, body FROM journal "
            "WHERE seq >= ? ORDER BY seq",
            (seq - 1,),
        ).fetchall()
        prev = rows[0][7]
        for _fmt, station, s, uuid, kind, ts, _, _, body in rows[1:]:
            body = json.loads(body)
            if s == seq:
                body["value"] = value
            record = jn.make_record(
                station=station,
                seq=s,
                kind=kind,
                body=body,
                prev_hash=prev,
                record_uuid=uuid,
                ts=ts,
            )
            conn.execute(
                "UPDATE journal SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (jn.canonical_body(body), record["prev_hash"], record["hash"], s),
            )
            if s == seq:
                for table, row in project(record):
                    conn.execute(f"UPDATE {table} SET value = ? WHERE seq = ?", (row["value"], s))
            prev = record["hash"]
    finally:
        conn.close()


def first_measurement(store: LocalStore) -> int:
    return next(r["seq"] for r in store.records() if r["kind"] == "measurement")


@pytest.fixture
def shipped(make_station, tmp_path: Path) -> tuple[LocalStore, str]:
    """Station BENCH-1 with 60 records, all acknowledged by an embedded central store."""
    store = make_station("BENCH-1", 60)
    url = f"sqlite:///{tmp_path / 'central.db'}"
    Shipper(store, url).ship()
    return store, url


def test_the_last_records_deleted_are_seen_by_the_sync_state_then_by_the_central_copy(shipped):
    store, url = shipped
    head = store.head()[0]
    store.close()
    delete_after(store.path, head - 5)
    with LocalStore.open_existing(store.path) as copy:
        assert copy.verify().ok  # the chain alone cannot see it
    alone = verify(store)
    assert alone.exit_code == 1
    assert f"seq {head} (hash" in alone.output and f"record ends at seq {head - 5}" in alone.output
    # The attacker rewinds the sync state too: now only the central copy can tell.
    with LocalStore.open_existing(store.path) as copy:
        rewind_sync_state(store.path, copy, head - 5)
    assert verify(store).exit_code == 0
    crossed = verify(store, "--central", url)
    assert crossed.exit_code == 1, crossed.output
    found = f"ends at seq {head - 5}, but the central store acknowledged seq {head}"
    assert found in crossed.output


def test_a_copy_with_its_wal_cut_is_seen_by_the_central_copy(make_station, tmp_path: Path):
    """A crash-consistent copy whose WAL lost its tail is a well-formed, shorter record with a
    consistent sync state: only the central store knows it acknowledged more."""
    store = make_station("BENCH-1", 30)
    url = f"sqlite:///{tmp_path / 'central.db'}"
    Shipper(store, url).ship()
    wal = store.path.with_name(store.path.name + "-wal")
    cut = wal.stat().st_size  # every frame up to here: 30-odd records, acknowledged
    acked = store.head()[0]
    for i in range(12):
        store.append("note", {"i": i})
    Shipper(store, url).ship()
    copy = tmp_path / "copy" / "station.db"
    copy.parent.mkdir()
    shutil.copy(store.path, copy)  # the station is still open: the records are in the WAL
    shutil.copy(wal, copy.with_name("station.db-wal"))
    with open(copy.with_name("station.db-wal"), "r+b") as f:
        f.truncate(cut)
    with LocalStore.open_existing(copy) as copied:
        assert copied.head()[0] == acked and copied.verify().ok
    assert verify(copy).exit_code == 0  # its sync state was cut with it
    crossed = verify(copy, "--central", url)
    assert crossed.exit_code == 1
    found = f"ends at seq {acked}, but the central store acknowledged seq {acked + 12}"
    assert found in crossed.output


def test_a_well_formed_record_appended_to_a_copy_is_seen_by_the_central_copy(
    shipped, tmp_path: Path
):
    store, url = shipped
    head = store.head()[0]
    copy = tmp_path / "copy.db"
    with sqlite3.connect(store.path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with LocalStore(copy, "BENCH-1") as forged:
        forged.append("note", {"text": "inspected and passed"})  # a perfectly chained record
        assert forged.verify().ok
    store.append("note", {"text": "what really happened"})
    Shipper(store, url).ship()
    assert verify(copy).exit_code == 0  # nothing it was told about was removed
    crossed = verify(copy, "--central", url)
    assert crossed.exit_code == 1 and f"seq {head + 1} differs" in crossed.output


def test_an_edit_rehashed_to_the_end_is_seen_by_every_anchor(shipped):
    store, url = shipped
    head, head_hash = store.head()
    seq = first_measurement(store)
    store.close()
    edit_and_rehash(store.path, seq, "120.00")
    with LocalStore.open_existing(store.path) as edited:
        assert edited.verify().ok  # the chain and the projections agree with each other
        assert edited.head()[1] != head_hash
        assert edited.query("SELECT value FROM measurements WHERE seq = ?", (seq,)) == [
            {"value": "120.00"}
        ]
    alone = verify(store)
    assert alone.exit_code == 1 and "the chain was edited and re-hashed" in alone.output
    printed = verify(store, "--anchor", f"{head}:{head_hash[:16]}")
    assert printed.exit_code == 1 and f"printed head seq {head}: BROKEN" in printed.output
    with LocalStore.open_existing(store.path) as edited:
        rewind_sync_state(store.path, edited, head)  # the sync state forged to match
    assert verify(store).exit_code == 0
    crossed = verify(store, "--central", url)
    assert crossed.exit_code == 1 and f"seq {seq} differs" in crossed.output


def test_an_intact_record_passes_every_anchor(shipped):
    store, url = shipped
    store.append("note", {"text": "not shipped yet"})
    seq, hash_ = store.head()
    result = verify(store, "--central", url, "--anchor", f"{seq}:{hash_}")
    assert result.exit_code == 0, result.output
    assert "chain and projections verified" in result.output
    where = Path(url.removeprefix("sqlite:///")).resolve()
    assert f"sync state (sqlite:///{where}): OK" in result.output
    assert f"printed head seq {seq}: OK" in result.output
    assert "1 later record(s) not shipped yet" in result.output


# -- the central store's own anchor: the append-only history of acknowledged heads ------------


def roll_back_central(raw_central: RawCentral, station: str, seq: int, keep_history: bool) -> None:
    """Cut a station's chain in the central store back to ``seq``, past every guard."""
    tables = ["journal", *TABLES, "stations"] + ([] if keep_history else ["head_history"])
    if raw_central.postgres:
        for table in tables:
            raw_central.execute(f"ALTER TABLE {{s}}{table} DISABLE TRIGGER USER")
    else:
        for (name,) in raw_central.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
            raw_central.execute(f"DROP TRIGGER {name}")
    for table in ["journal", *TABLES] + ([] if keep_history else ["head_history"]):
        raw_central.execute(
            f"DELETE FROM {{s}}{table} WHERE station = %s AND seq > %s", (station, seq)
        )
    if seq == 0:
        raw_central.execute("DELETE FROM {s}stations WHERE station = %s", (station,))
    else:
        (hash_,) = raw_central.execute(
            "SELECT hash FROM {s}journal WHERE station = %s AND seq = %s", (station, seq)
        )[0]
        raw_central.execute(
            "UPDATE {s}stations SET head_seq = %s, head_hash = %s, records = %s WHERE station = %s",
            (seq, hash_, seq, station),
        )
    if raw_central.postgres:
        for table in tables:
            raw_central.execute(f"ALTER TABLE {{s}}{table} ENABLE TRIGGER USER")


def test_a_central_head_rolled_back_is_seen_by_verify_central_and_by_the_station(
    central_url, make_station, raw_central: RawCentral
):
    one = make_station("BENCH-1", 40)
    two = make_station("BENCH-2", 20)
    Shipper(one, central_url, 16).ship()
    Shipper(two, central_url).ship()
    head = one.head()[0]
    roll_back_central(raw_central, "BENCH-1", 20, keep_history=True)
    result = cli("verify", "--central", central_url)
    assert result.exit_code == 1
    found = f"BENCH-1: 20 records, BROKEN at seq 20: the head moved backwards: seq {head} was"
    assert found in result.output
    assert "BENCH-2: " in result.output and "chain and projections OK" in result.output
    # Even with the history rewritten as well, the station's own record knows better.
    roll_back_central(raw_central, "BENCH-1", 20, keep_history=False)
    crossed = verify(one, "--central", central_url)
    assert crossed.exit_code == 1
    found = f"up to seq 20, though seq {head} was acknowledged: its head was rolled back"
    assert found in crossed.output


def test_a_station_deleted_from_the_central_store_is_seen_by_verify_central_and_by_the_station(
    central_url, make_station, raw_central: RawCentral
):
    one = make_station("BENCH-1", 30)
    Shipper(one, central_url).ship()
    Shipper(make_station("BENCH-2", 12), central_url).ship()
    roll_back_central(raw_central, "BENCH-1", 0, keep_history=True)
    result = cli("verify", "--central", central_url)
    assert result.exit_code == 1
    found = f"BENCH-1: 0 records, BROKEN: the station was deleted: seq {one.head()[0]}"
    assert found in result.output
    roll_back_central(raw_central, "BENCH-1", 0, keep_history=False)
    assert cli("verify", "--central", central_url).exit_code == 0  # nothing left to see there
    crossed = verify(one, "--central", central_url)
    assert crossed.exit_code == 1 and "the station was deleted there" in crossed.output


def test_the_central_store_refuses_to_move_a_head_back_or_rewrite_its_history(
    central_url, make_station, raw_central: RawCentral
):
    store = make_station("BENCH-1", 30)
    Shipper(store, central_url, 10).ship()
    with open_central(central_url) as central:
        history = central.acknowledged_heads("BENCH-1")
    head = store.head()[0]
    assert [e.seq for e in history] == sorted({*range(10, head, 10), head})  # one per batch
    assert history[-1].hash == store.head()[1]
    for statement in (
        "UPDATE {s}stations SET head_seq = 10",
        "DELETE FROM {s}head_history",
        "UPDATE {s}head_history SET seq = 1",
        "INSERT INTO {s}head_history (station, seq, hash) VALUES ('BENCH-1', 5, 'x')",
    ):
        with pytest.raises(
            Exception, match=r"append-only|moves only|only moves forward|grows only"
        ):
            raw_central.execute(statement)
    with open_central(central_url) as central:
        assert central.acknowledged_heads("BENCH-1") == history
        assert central.head("BENCH-1") == store.head()


@pytest.mark.postgres
def test_a_station_role_cross_checks_its_own_chain_with_the_plant_database(
    pg_database, make_station
):
    """The station's own URL is enough for --db --central: it reads only its own station."""
    with open_central(pg_database.url) as central:
        central.migrate()
        creds = central.add_station("BENCH-1")
    store = make_station("BENCH-1", 40)
    Shipper(store, creds.url).ship()
    ok = verify(store, "--central", creds.url)
    assert ok.exit_code == 0, ok.output
    assert f"the {store.head()[0]:,} records both hold match" in ok.output
    assert creds.password not in ok.output
    head = store.head()[0]
    store.close()
    delete_after(store.path, head - 3)
    with LocalStore.open_existing(store.path) as cut:
        rewind_sync_state(store.path, cut, head - 3)
    crossed = verify(store, "--central", creds.url)
    assert crossed.exit_code == 1
    found = f"ends at seq {head - 3}, but the central store acknowledged seq {head}"
    assert found in crossed.output
