"""The PostgreSQL ingest checks a whole batch in one pass and still names the record at fault.

A station's role can send anything through COPY (a rogue client does not run the station's own
checks): a bad hash, a broken link or a gap inside a batch is refused by the database with the
record named, and nothing of the batch is kept. A store made by an older schema version is
upgraded in order, the records it holds kept and the chain continued.
"""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from inspect_station.store import LocalStore
from inspect_station.store import journal as jn
from inspect_station.sync import CentralSchemaError, Shipper, open_central
from inspect_station.sync import central_pg as pg
from inspect_station.sync.central_pg import SCHEMA
from inspect_station.sync.verify import verify_central_store

COLUMNS = ("station", "seq", "uuid", "format", "kind", "ts", "prev_hash", "hash", "body")


@pytest.fixture
def admin_url(pg_central_database) -> str:
    """An initialised, empty PostgreSQL central store (administrator URL)."""
    return pg_central_database.url


def _rows(store: LocalStore) -> list[list]:
    """The station's journal as central journal rows (body as the canonical text stored)."""
    return [[*(r[c] for c in COLUMNS[:-1]), jn.canonical_body(r["body"])] for r in store.records()]


def _copy(url: str, rows: list[list]) -> None:
    """COPY ``rows`` into the journal as one statement, as a rogue client would."""
    statement = f"COPY {SCHEMA}.journal ({', '.join(COLUMNS)}) FROM STDIN"
    with psycopg.connect(url) as conn, conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _held(url: str) -> tuple[int, int]:
    """(journal records, measurement rows) the central store holds."""
    with psycopg.connect(url) as conn:
        journal = conn.execute(f"SELECT count(*) FROM {SCHEMA}.journal").fetchone()
        rows = conn.execute(f"SELECT count(*) FROM {SCHEMA}.measurements").fetchone()
    assert journal is not None and rows is not None
    return journal[0], rows[0]


def _refusal(url: str, rows: list[list]) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as info:
        _copy(url, rows)
    return info.value


@pytest.mark.postgres
def test_a_bad_hash_in_the_middle_of_a_batch_is_named_and_nothing_of_it_kept(
    admin_url, make_station
):
    store = make_station("BENCH-1", 60)
    rows = _rows(store)
    seq = 31
    body = rows[seq - 1][8]
    rows[seq - 1][8] = body.replace('"LOT-SYNC"', '"LOT-EDIT"')
    assert rows[seq - 1][8] != body  # altered after it was hashed; its hash kept
    error = _refusal(admin_url, rows)
    assert error.diag.message_detail == "bad hash"
    assert f"record seq {seq} of station BENCH-1 does not match its hash" in str(error)
    assert _held(admin_url) == (0, 0)
    _copy(admin_url, _rows(store))  # the true records still go in
    assert _held(admin_url)[0] == len(rows)


@pytest.mark.postgres
def test_a_broken_link_in_the_middle_of_a_batch_is_named(admin_url, make_station):
    store = make_station("BENCH-1", 40)
    records = list(store.records())
    # seq 25 re-hashed over a prev_hash that is not seq 24's hash: its own hash is right.
    r = records[24]
    forged, _ = jn.seal(
        station=r["station"],
        seq=r["seq"],
        kind=r["kind"],
        body=r["body"],
        prev_hash=records[10]["hash"],
        record_uuid=r["uuid"],
        ts=r["ts"],
    )
    rows = _rows(store)
    rows[24][6], rows[24][7] = forged["prev_hash"], forged["hash"]
    error = _refusal(admin_url, rows)
    assert error.diag.message_detail == "broken link"
    assert "record seq 25 of station BENCH-1 does not link to seq 24" in str(error)
    assert _held(admin_url) == (0, 0)


@pytest.mark.postgres
def test_a_gap_inside_a_batch_is_refused(admin_url, make_station):
    store = make_station("BENCH-1", 40)
    rows = _rows(store)
    del rows[17]
    error = _refusal(admin_url, rows)
    assert error.diag.message_detail == "gap"
    assert f"records 1 to {len(rows) + 1} of station BENCH-1 do not follow" in str(error)
    assert _held(admin_url) == (0, 0)


@pytest.mark.postgres
def test_two_stations_batches_in_one_statement_are_each_checked_against_their_own_head(
    admin_url, make_station
):
    one, two = make_station("BENCH-1", 30), make_station("BENCH-2", 30)
    _copy(admin_url, _rows(one)[:12])
    _copy(admin_url, [*_rows(one)[12:], *_rows(two)])  # one continues, two starts
    with open_central(admin_url) as central:
        assert central.head("BENCH-1") == one.head()
        assert central.head("BENCH-2") == two.head()
    three, four = make_station("BENCH-3", 10), make_station("BENCH-4", 10)
    error = _refusal(admin_url, [*_rows(three), *_rows(four)[1:]])  # four lacks its seq 1
    assert error.diag.message_detail == "gap"
    assert "records 2 to" in str(error) and "station BENCH-4 do not follow" in str(error)
    with open_central(admin_url) as central:
        assert central.head("BENCH-3") == (0, jn.GENESIS)  # the whole statement is refused


@pytest.mark.postgres
def test_a_schema_2_store_with_records_is_upgraded_in_order_and_the_chain_goes_on(
    pg_database, make_station, monkeypatch: pytest.MonkeyPatch
):
    url = pg_database.url
    store = make_station("BENCH-1", 90)
    first = store.head()[0]
    with monkeypatch.context() as old:  # the program as it was at schema version 2
        old.setattr(pg, "MIGRATIONS", pg.MIGRATIONS[:2])
        old.setattr(pg, "LATEST", 2)
        with open_central(url) as central:
            central.migrate()
            station_url = central.add_station("BENCH-1").url
        assert Shipper(store, station_url, batch_size=25).ship().head_seq == first
    with pytest.raises(CentralSchemaError, match="older schema"):
        Shipper(store, station_url).ship()
    with psycopg.connect(url) as conn:
        built = conn.execute(f"SELECT built_at FROM {SCHEMA}.projection_state").fetchone()
    with open_central(url) as central:
        assert central.migrate() == ["3: chain checked in one pass over each batch (lag over seq)"]
        assert central.applied_migrations()[-1].startswith("3: ")
    with psycopg.connect(url) as conn:  # the rows are kept, not derived again
        assert conn.execute(f"SELECT built_at FROM {SCHEMA}.projection_state").fetchone() == built
    make_station("BENCH-1", 150)  # the same station file records on
    summary = Shipper(store, station_url, batch_size=25).ship()
    assert (summary.inserted, summary.head_seq) == (store.head()[0] - first, store.head()[0])
    with open_central(url) as central:
        assert all(report.ok for report in verify_central_store(central))
        assert [h.seq for h in central.acknowledged_heads("BENCH-1")][:4] == [25, 50, 75, first]
        held = [(r["seq"], r["hash"]) for r in central.records("BENCH-1")]
    assert held == [(r["seq"], r["hash"]) for r in store.records()]


@pytest.mark.postgres
def test_a_record_of_a_kind_that_fills_no_table_must_still_have_an_object_body(
    admin_url, make_station
):
    """The derivation holds only the kinds a batch has; a kind with no query rows is still
    checked, and named, in a batch with kinds that have them."""
    store = make_station("BENCH-1", 12)
    rows = _rows(store)
    seq, prev = store.head()
    record = {
        "format": jn.FORMAT,
        "station": "BENCH-1",
        "seq": seq + 1,
        "uuid": "00000000-0000-4000-8000-00000000beef",
        "kind": "station_note",
        "ts": rows[-1][5],
        "prev_hash": prev,
    }
    digest = hashlib.sha256(jn.compose(record, "[1,2]")).hexdigest()
    note = [*(record[c] for c in COLUMNS[:7]), digest, "[1,2]"]
    error = _refusal(admin_url, [*rows, note])
    assert error.diag.message_detail == "malformed"
    assert f"record seq {seq + 1} of station BENCH-1 (station_note) is malformed" in str(error)
    assert "body is not an object" in str(error)
    assert _held(admin_url) == (0, 0)
    note[8] = '{"text":"calibrated"}'
    note[7] = hashlib.sha256(jn.compose(record, note[8])).hexdigest()
    _copy(admin_url, [*rows, note])
    assert _held(admin_url)[0] == len(rows) + 1
