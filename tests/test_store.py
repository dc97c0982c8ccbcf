"""The local record: durable settings, append-only journal, hash chain, tamper detection."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import rfc8785

from inspect_station.errors import StoreError
from inspect_station.store import LocalStore
from inspect_station.store import journal as jn


def test_durable_settings(store: LocalStore):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_record_format_and_hash(store: LocalStore):
    first = store.append("note", {"text": "hello", "value": "1.50"})
    second = store.append("note", {"text": "again"})
    assert first["seq"] == 1 and second["seq"] == 2
    assert first["prev_hash"] == "0" * 64
    assert second["prev_hash"] == first["hash"]
    assert first["ts"].endswith("Z") and first["format"] == 1 and first["station"] == "TEST-1"
    # the documented format: SHA-256 over RFC 8785 bytes of the record without "hash"
    unhashed = {k: v for k, v in first.items() if k != "hash"}
    assert first["hash"] == hashlib.sha256(rfc8785.dumps(unhashed)).hexdigest()
    assert list(store.records()) == [first, second]


def test_floats_never_enter_a_record(store: LocalStore):
    with pytest.raises(TypeError, match=r"body\.value is a float"):
        store.append("note", {"value": 1.5})
    assert store.head()[0] == 0


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE journal SET kind = 'x' WHERE seq = 1",
        "DELETE FROM journal WHERE seq = 1",
        "UPDATE measurements SET value = '1' WHERE seq = 4",
        "DELETE FROM measurements",
        "DELETE FROM lots",
        "UPDATE meta SET value = 'OTHER' WHERE key = 'station'",
    ],
)
def test_triggers_refuse_update_and_delete(recorded: LocalStore, sql: str):
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        recorded.conn.execute(sql)
    assert recorded.verify().ok


def test_database_refuses_an_insert_that_breaks_the_chain(store: LocalStore):
    store.append("note", {})
    with pytest.raises(sqlite3.IntegrityError, match="does not continue the chain"):
        store.conn.execute(
            "INSERT INTO journal (seq, uuid, format, station, kind, ts, prev_hash, hash, body) "
            "VALUES (3, 'u', 1, 'TEST-1', 'note', 't', 'x', 'h', '{}')"
        )


def test_station_binding(db_path: Path):
    LocalStore(db_path, "BENCH-1").close()
    with pytest.raises(StoreError, match="belongs to station 'BENCH-1'"):
        LocalStore(db_path, "BENCH-2")


def test_an_existing_record_opens_as_the_station_it_belongs_to(db_path: Path):
    with LocalStore(db_path, "BENCH-1") as store:
        store.append("note", {"text": "hello"})
    with LocalStore.open_existing(db_path) as copy:
        assert copy.station == "BENCH-1"
        assert copy.verify().ok and copy.head()[0] == 1


def test_opening_an_existing_record_creates_nothing(tmp_path: Path):
    missing = tmp_path / "elsewhere" / "none.db"
    with pytest.raises(StoreError) as caught:
        LocalStore.open_existing(missing)
    assert str(caught.value) == f"There is no local record at {missing}."
    assert not missing.parent.exists()


def test_opening_an_existing_record_refuses_other_files_unchanged(tmp_path: Path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE readings (value TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(StoreError, match="is not a station's local record: it names no station"):
        LocalStore.open_existing(other)
    assert other.read_bytes() == before
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable station database"):
        LocalStore.open_existing(junk)


def test_not_a_database(tmp_path: Path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable station database"):
        LocalStore(path, "X")


def tamper(store: LocalStore, table: str, sql: str) -> None:
    """Edit behind the program's back: drop the guard trigger, then change a row."""
    store.conn.execute(f"DROP TRIGGER {table}_no_update")
    store.conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    store.conn.execute(sql)


def test_verify_ok(recorded: LocalStore):
    report = recorded.verify()
    assert report.ok and report.count == 8
    assert "OK: 8 records" in report.summary()


def test_verify_finds_an_edited_measurement_projection(recorded: LocalStore):
    tamper(recorded, "measurements", "UPDATE measurements SET value = '120.09' WHERE seq = 4")
    report = recorded.verify()
    assert not report.ok and report.bad_seq == 4
    assert "measurements.value is '120.09'" in report.reason


def test_verify_finds_an_edited_journal_body(recorded: LocalStore):
    body = json.loads(recorded.conn.execute("SELECT body FROM journal WHERE seq = 5").fetchone()[0])
    body["value"] = "12.001"
    tamper(recorded, "journal", f"UPDATE journal SET body = '{json.dumps(body)}' WHERE seq = 5")
    report = recorded.verify()
    assert (report.ok, report.bad_seq) == (False, 5)
    assert "hash does not match" in report.reason


def test_verify_finds_a_rehashed_record(recorded: LocalStore):
    # A forger who recomputes the edited record's hash still breaks the next link.
    rec = next(r for r in recorded.records() if r["seq"] == 5)
    rec["body"]["value"] = "12.001"
    new_hash = jn.record_hash(rec)
    tamper(
        recorded,
        "journal",
        f"UPDATE journal SET body = '{jn.canonical_body(rec['body'])}', hash = '{new_hash}' "
        "WHERE seq = 5",
    )
    report = recorded.verify()
    assert report.bad_seq == 6
    assert "prev_hash does not match" in report.reason


def test_verify_finds_a_deleted_record(recorded: LocalStore):
    tamper(recorded, "journal", "DELETE FROM journal WHERE seq = 3")
    report = recorded.verify()
    assert report.bad_seq == 4 and "gap" in report.reason


def test_verify_finds_a_deleted_projection_row(recorded: LocalStore):
    tamper(recorded, "results", "DELETE FROM results")
    report = recorded.verify()
    assert report.bad_seq == 8 and "missing its results row" in report.reason


def test_verify_finds_an_inserted_projection_row(recorded: LocalStore):
    row = recorded.query("SELECT * FROM measurements WHERE seq = 4")[0]
    row["seq"] = 99
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    recorded.conn.execute(
        f"INSERT INTO measurements ({cols}) VALUES ({marks})", tuple(row.values())
    )
    report = recorded.verify()
    assert report.bad_seq == 99 and "journal lacks" in report.reason


def test_verify_reports_corrupt_json(recorded: LocalStore):
    tamper(recorded, "journal", "UPDATE journal SET body = '{not json' WHERE seq = 2")
    report = recorded.verify()
    assert report.bad_seq == 2 and "not valid JSON" in report.reason


def test_writes_from_two_connections_keep_one_chain(db_path: Path):
    a = LocalStore(db_path, "S")
    b = LocalStore(db_path, "S")
    for i in range(20):
        (a if i % 2 else b).append("note", {"i": i})
    assert a.verify().ok and a.head()[0] == 20
    a.close()
    b.close()


def test_chain_verifier_streams(recorded: LocalStore):
    records = list(recorded.records())
    assert jn.verify_chain(records, station="TEST-1").ok
    assert not jn.verify_chain(records, station="OTHER").ok
    assert not jn.verify_chain(records[1:]).ok
    swapped = [records[1], records[0], *records[2:]]
    assert jn.verify_chain(swapped).bad_seq == 2


def test_a_record_the_central_store_would_refuse_is_never_written(store: LocalStore):
    """The station refuses, before the chain, a body its kind's query rows cannot be read from."""
    with pytest.raises(StoreError, match=r"measurement record would be malformed \(body"):
        store.append("measurement", {"value": 120})
    with pytest.raises(StoreError, match=r"body\.active is null"):
        store.append("user", {"user_id": "u", "name": "U", "role": "inspector", "active": None})
    assert store.head()[0] == 0
    store.append("note", {"anything": [1, {"goes": None}]})  # journal-only kinds have no shape
    assert store.head()[0] == 1
