"""CentralStore.read: named catalogue queries only, read-only, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from pg import PgDatabase

from inspect_station.store.catalog import ReadQuery, read_query
from inspect_station.sync import CentralPermissionError, SyncError, open_central
from inspect_station.sync.central_pg import qmark_to_pyformat

FIRST_RECORDS = read_query(
    "test.central.first_records",
    "SELECT j.station, j.seq, j.kind FROM journal j "
    "WHERE j.station = ? AND j.seq <= ? AND {bound:j} ORDER BY j.seq",
    aliases=("j",),
)
LITERALS = read_query(
    "test.central.literals",
    "SELECT count(*) AS n, '50% done?' AS note FROM current_measurements m "
    "WHERE m.station = ? AND m.characteristic NOT LIKE '%?%' AND {bound:m}",
    aliases=("m",),
)
RESULTS_OF = read_query(
    "test.central.results_of",
    "SELECT r.seq FROM results r WHERE r.station = ? AND {bound:r}",
    aliases=("r",),
)
MEASURED = read_query(
    "test.central.measured", "SELECT count(*) AS n FROM measurements m WHERE {bound:m}", ("m",)
)
KINDS_AT = read_query(
    "test.central.kinds_at",
    "SELECT j.seq, j.kind FROM journal j WHERE j.seq IN {in} AND {bound:j} ORDER BY j.seq",
    aliases=("j",),
)
WRITES = {
    "create": read_query("test.central.create", "CREATE TABLE scratch (a INTEGER)"),
    "insert": read_query(
        "test.central.insert",
        "INSERT INTO stations (station, head_seq, head_hash, records) VALUES ('X', 0, 'h', 0)",
    ),
    "delete": read_query("test.central.delete", "DELETE FROM measurements"),
}
NOWHERE = read_query("test.central.nowhere", "SELECT a FROM nowhere WHERE a = ?")
JOURNAL = read_query("test.central.journal", "SELECT * FROM journal j WHERE {bound:j}", ("j",))


def test_rows_come_back_as_dicts_with_question_mark_parameters(central_url, make_station):
    store = make_station("BENCH-1", 40)
    heads = {"BENCH-1": store.head()[0]}
    with open_central(central_url) as central:
        central.ingest("BENCH-1", list(store.records()))
        rows = central.read(FIRST_RECORDS, ["BENCH-1", 3], heads=heads)
        assert rows == [
            {"station": "BENCH-1", "seq": 1, "kind": "spec"},
            {"station": "BENCH-1", "seq": 2, "kind": "lot_opened"},
            {"station": "BENCH-1", "seq": 3, "kind": "inspection_opened"},
        ]
        measured = store.query("SELECT count(*) AS n FROM measurements")[0]["n"]
        # A ? or % inside a string literal is text, not a parameter.
        (row,) = central.read(LITERALS, ("BENCH-1",), heads=heads)
        assert (row["n"], row["note"]) == (measured, "50% done?")
        assert central.read(RESULTS_OF, ["NOBODY"], heads=heads) == []
        # A list of values fills the query's {in}, in chunks, each value once.
        many = [3, 1, 2, 3, *range(1000, 1900)]
        found = central.read(KINDS_AT, values=many, heads=heads)
        assert sorted(found, key=lambda r: r["seq"]) == [
            {"seq": 1, "kind": "spec"},
            {"seq": 2, "kind": "lot_opened"},
            {"seq": 3, "kind": "inspection_opened"},
        ]


def test_rows_beyond_the_snapshot_are_not_seen(central_url, make_station):
    store = make_station("BENCH-1", 40)
    with open_central(central_url) as central:
        central.ingest("BENCH-1", list(store.records()))
        seqs = [
            r["seq"] for r in central.read(FIRST_RECORDS, ["BENCH-1", 99], heads={"BENCH-1": 2})
        ]
        assert seqs == [1, 2]
        assert central.read(FIRST_RECORDS, ["BENCH-1", 99], heads={"OTHER": 9}) == []
        assert central.read(FIRST_RECORDS, ["BENCH-1", 99], heads={}) == []


def test_only_registered_queries_are_answered(central_url, make_station):
    store = make_station("BENCH-1", 10)
    with open_central(central_url) as central:
        central.ingest("BENCH-1", list(store.records()))
        look_alike = ReadQuery(FIRST_RECORDS.name, "SELECT * FROM journal")
        with pytest.raises(ValueError, match="not a registered read query"):
            central.read(look_alike, heads={"BENCH-1": 10})
        with pytest.raises(ValueError, match="needs its list of values"):
            central.read(KINDS_AT, heads={"BENCH-1": 10})


@pytest.mark.parametrize("statement", sorted(WRITES))
def test_a_statement_that_would_change_anything_is_refused(
    central_url, make_station, statement: str
):
    store = make_station("BENCH-1", 30)
    records = list(store.records())
    with open_central(central_url) as central:
        central.ingest("BENCH-1", records[:20])
        with pytest.raises(SyncError, match="could not answer a read query") as caught:
            central.read(WRITES[statement], heads={"BENCH-1": 20})
        assert "\n" not in str(caught.value)
        # Nothing changed, and the store still writes what it should.
        assert central.read(MEASURED, heads={"BENCH-1": 20})[0]["n"] > 0
        assert central.ingest("BENCH-1", records[20:]).head_seq == len(records)
    with open_central(central_url) as central:
        assert [s.station for s in central.stations()] == ["BENCH-1"]


def test_a_bad_query_is_one_sentence(central_url):
    with open_central(central_url) as central, pytest.raises(SyncError) as caught:
        central.read(NOWHERE, [1], heads={})
    message = str(caught.value)
    assert message.startswith("The central store ") and "nowhere" in message
    assert message.endswith(".") and "\n" not in message


@pytest.mark.postgres
def test_a_station_role_may_not_read(pg_database: PgDatabase):
    with open_central(pg_database.url) as central:
        central.migrate()
        creds = central.add_station("BENCH-1")
    with (
        open_central(creds.url) as central,
        pytest.raises(CentralPermissionError, match="permission denied") as caught,
    ):
        central.read(JOURNAL, heads={"BENCH-1": 1})
    assert creds.password not in str(caught.value)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = %s AND c = %s"),
        ("SELECT '?', 'it''s ?', \"odd?col\" FROM t", "SELECT '?', 'it''s ?', \"odd?col\" FROM t"),
        (
            "SELECT 1 -- why?\nWHERE x LIKE '5%' AND y = ?",
            "SELECT 1 -- why?\nWHERE x LIKE '5%%' AND y = %s",
        ),
        ("SELECT 100 % ? /* mod? */", "SELECT 100 %% %s /* mod? */"),
        ("SELECT 1", "SELECT 1"),
    ],
)
def test_question_marks_become_psycopg_placeholders_outside_quotes(query: str, expected: str):
    assert qmark_to_pyformat(query) == expected
