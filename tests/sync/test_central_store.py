"""Central store behaviour, the same on the embedded SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synckit import RawCentral, extend_projections

from inspect_station.store import LocalStore
from inspect_station.store import journal as jn
from inspect_station.store import projections as pj
from inspect_station.sync import IngestRefused, Refusal, open_central
from inspect_station.sync.verify import verify_central, verify_central_store

ROWS = (
    "SELECT format, station, seq, uuid, kind, ts, prev_hash, hash, body FROM journal "
    "WHERE seq BETWEEN ? AND ? ORDER BY seq"
)


def rows(store: LocalStore, first: int = 1, last: int = 10**9) -> list[dict]:
    return store.query(ROWS, (first, last))


def test_ingest_stores_journal_projections_and_head(central_url, make_station):
    store = make_station("BENCH-1", 60)
    n = store.head()[0]
    with open_central(central_url) as central:
        first = central.ingest("BENCH-1", rows(store, 1, 25))
        second = central.ingest("BENCH-1", rows(store, 26))
        assert (first.inserted, first.skipped, first.head_seq) == (25, 0, 25)
        assert (second.inserted, second.head_seq, second.head_hash) == (n - 25, n, store.head()[1])
        assert central.head("BENCH-1") == store.head()
        assert central.head("NOBODY") == (0, jn.GENESIS)
        assert list(central.records("BENCH-1")) == list(store.records())
        assert [r["seq"] for r in central.records("BENCH-1", after_seq=50, batch=3)] == list(
            range(51, n + 1)
        )
        for table in ("specs", "lots", "inspections", "measurements", "results"):
            held = central.projection_rows(table, "BENCH-1", 1, n)
            local = store.query(f"SELECT * FROM {table} ORDER BY seq")
            assert len(held) == len(local) > 0
            assert all(row["station"] == "BENCH-1" for row in held)
            assert [{k: r[k] for k in local[0]} for r in held] == local
        (summary,) = central.stations()
        assert (summary.station, summary.records, summary.first_seq, summary.last_seq) == (
            "BENCH-1",
            n,
            1,
            n,
        )


def test_a_resent_batch_adds_nothing(central_url, make_station):
    store = make_station("BENCH-1", 40)
    with open_central(central_url) as central:
        central.ingest("BENCH-1", rows(store, 1, 20))
        again = central.ingest("BENCH-1", rows(store, 1, 20))
        assert (again.inserted, again.skipped, again.head_seq) == (0, 20, 20)
        overlap = central.ingest("BENCH-1", rows(store, 11, 30))
        assert (overlap.inserted, overlap.skipped, overlap.head_seq) == (10, 10, 30)
        assert central.stations()[0].records == 30
        measurements = central.projection_rows("measurements", "BENCH-1", 1, 30)
        assert len(measurements) == len({row["uuid"] for row in measurements})


def test_a_gap_is_refused_and_nothing_of_the_batch_is_kept(central_url, make_station):
    store = make_station("BENCH-1", 40)
    with open_central(central_url) as central:
        central.ingest("BENCH-1", rows(store, 1, 10))
        with pytest.raises(IngestRefused) as info:
            central.ingest("BENCH-1", rows(store, 21, 30))
        assert info.value.reason is Refusal.GAP
        assert "records 11-20 are missing" in info.value.message
        assert central.head("BENCH-1")[0] == 10
        assert central.stations()[0].records == 10
        assert central.ingest("BENCH-1", rows(store, 11, 30)).head_seq == 30


def test_a_forked_journal_is_refused(central_url, make_station, tmp_path: Path):
    store = make_station("BENCH-1", 20)
    with open_central(central_url) as central:
        central.ingest("BENCH-1", rows(store))
        # The station's database was replaced: same id, a new chain from seq 1.
        with LocalStore(tmp_path / "replaced.db", "BENCH-1") as replaced:
            for i in range(25):
                replaced.append("note", {"i": i})
            with pytest.raises(IngestRefused) as info:
                central.ingest("BENCH-1", rows(replaced, 1, 25))
            assert (info.value.reason, info.value.seq) == (Refusal.FORK, 1)
            with pytest.raises(IngestRefused) as info:
                central.ingest("BENCH-1", rows(replaced, 21, 25))
            assert (info.value.reason, info.value.seq) == (Refusal.FORK, 21)
        assert central.head("BENCH-1") == store.head()


def test_a_tampered_journal_is_refused_with_the_reason(central_url, make_station):
    store = make_station("BENCH-1", 30)
    body = json.loads(rows(store, 12, 12)[0]["body"])
    body["value"] = "120.09"
    store.conn.execute("DROP TRIGGER journal_no_update")
    store.conn.execute("UPDATE journal SET body = ? WHERE seq = 12", (jn.canonical_body(body),))
    with open_central(central_url) as central:
        central.ingest("BENCH-1", rows(store, 1, 10))
        with pytest.raises(IngestRefused) as info:
            central.ingest("BENCH-1", rows(store, 11, 30))
        assert (info.value.reason, info.value.seq) == (Refusal.BAD_HASH, 12)
        assert central.head("BENCH-1")[0] == 10


def test_a_record_uuid_is_held_once(central_url, make_station):
    a = make_station("BENCH-1", 10)
    stolen = rows(a, 1, 1)[0]["uuid"]
    forged = jn.make_record(
        station="BENCH-2", seq=1, kind="note", body={}, prev_hash=jn.GENESIS, record_uuid=stolen
    )
    with open_central(central_url) as central:
        central.ingest("BENCH-1", rows(a))
        with pytest.raises(IngestRefused) as info:
            central.ingest("BENCH-2", [forged])
        assert info.value.reason is Refusal.DUPLICATE
        assert central.head("BENCH-2")[0] == 0


def test_two_stations_each_have_their_own_chain(central_url, make_station):
    a = make_station("BENCH-1", 20)
    b = make_station("BENCH-2", 30)
    with open_central(central_url) as central:
        central.ingest("BENCH-1", rows(a))
        central.ingest("BENCH-2", rows(b))
        assert [(s.station, s.records) for s in central.stations()] == [
            ("BENCH-1", a.head()[0]),
            ("BENCH-2", b.head()[0]),
        ]
        with pytest.raises(IngestRefused) as info:
            central.ingest("BENCH-1", rows(b))
        assert info.value.reason is Refusal.WRONG_STATION


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {s}journal SET kind = 'x' WHERE seq = 1",
        "DELETE FROM {s}journal WHERE seq = 2",
        "UPDATE {s}measurements SET value = '1' WHERE seq > 0",
        "DELETE FROM {s}results",
        "UPDATE {s}stations SET head_seq = 1",
        "DELETE FROM {s}stations",
    ],
)
def test_the_central_store_is_append_only(
    central_url, make_station, raw_central: RawCentral, statement: str
):
    store = make_station("BENCH-1", 12)
    with open_central(central_url) as central:
        central.ingest("BENCH-1", rows(store))
    with pytest.raises(Exception, match=r"append-only|moves only with its journal"):
        raw_central.execute(statement)
    assert raw_central.execute("SELECT count(*) FROM {s}journal")[0][0] == store.head()[0]


def test_the_database_itself_refuses_a_row_that_breaks_the_chain(
    central_url, make_station, raw_central: RawCentral
):
    store = make_station("BENCH-1", 12)
    with open_central(central_url) as central:
        central.ingest("BENCH-1", rows(store, 1, 5))
    columns = "station, seq, uuid, format, kind, ts, prev_hash, hash, body"
    insert = f"INSERT INTO {{s}}journal ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    seven = rows(store, 7, 7)[0]
    values = (*[seven[c] for c in columns.split(", ")],)
    with pytest.raises(Exception, match=r"continue|follow"):
        raw_central.execute(insert, values)  # skips seq 6
    six = rows(store, 6, 6)[0]
    values = [six[c] for c in columns.split(", ")]
    values[6] = "e" * 64  # does not link to seq 5
    with pytest.raises(Exception, match="continue"):
        raw_central.execute(insert, tuple(values))
    assert raw_central.execute("SELECT max(seq) FROM {s}journal")[0][0] == 5


def test_migrate_is_idempotent_and_derives_new_projections_from_the_journal(
    central_url, make_station, monkeypatch, raw_central: RawCentral
):
    """A newer program declares a column and a table: ``central init`` derives them for the
    records already held, and the database derives them for every record shipped after."""
    store = make_station("BENCH-1", 12)
    first = store.append("gizmo", {"size": "XL"})["seq"]
    store.append("gizmo", {"size": "S"})
    with open_central(central_url) as central:
        assert central.migrate() == []
        applied = central.applied_migrations()
        central.ingest("BENCH-1", rows(store, 1, first))
    lots = [*pj.SCHEMA["lots"], pj.text("colour", pj.optional("colour", default="grey"))]
    extend_projections(monkeypatch, "lots", lots, ("lot_opened",))
    gizmos = [*pj.SCHEMA["sign_ins"][:2], pj.text("size", pj.BODY), pj.text("station", pj.RECORD)]
    extend_projections(monkeypatch, "gizmos", gizmos, ("gizmo",))
    if raw_central.postgres:  # (the embedded store derives them again as it is opened)
        said: list[str] = []
        assert verify_central(central_url, echo=said.append) == 0
        assert "derived by another version of inspect-station, so only the chains" in said[1]
        assert said[-1].endswith("every chain verified (query tables not checked).")
    with open_central(central_url) as central:
        rebuilt = central.migrate()  # the embedded store has done it on opening already
        assert central.migrate() == []
        assert central.applied_migrations() == applied
        derived = len(project_all(store)) - 1  # the second gizmo is not shipped yet
        assert rebuilt == [f"projections derived from the journal ({derived:,} rows)"]
        central.ingest("BENCH-1", rows(store, first + 1))
        assert [r["size"] for r in central.projection_rows("gizmos", "BENCH-1", 1, 99)] == [
            "XL",
            "S",
        ]
        assert verify_central_store(central)[0].ok
    assert raw_central.execute("SELECT colour FROM {s}lots") == [("grey",)]
    if raw_central.postgres:
        triggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'gizmos%%'"
    else:
        triggers = (
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'gizmos'"
        )
    assert raw_central.execute(triggers)[0][0] >= 3  # append-only and derived-only guards


def project_all(store: LocalStore) -> list:
    return [row for record in store.records() for row in pj.project(record)]
