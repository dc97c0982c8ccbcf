"""CentralStore.query: read-only SQL with ? parameters, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from pg import PgDatabase

from inspect_station.sync import CentralPermissionError, SyncError, open_central
from inspect_station.sync.central_pg import qmark_to_pyformat


def test_rows_come_back_as_dicts_with_question_mark_parameters(central_url, make_station):
    store = make_station("BENCH-1", 40)
    with open_central(central_url) as central:
        central.ingest("BENCH-1", list(store.records()))
        rows = central.query(
            "SELECT station, seq, kind FROM journal WHERE station = ? AND seq <= ? ORDER BY seq",
            ["BENCH-1", 3],
        )
        assert rows == [
            {"station": "BENCH-1", "seq": 1, "kind": "spec"},
            {"station": "BENCH-1", "seq": 2, "kind": "lot_opened"},
            {"station": "BENCH-1", "seq": 3, "kind": "inspection_opened"},
        ]
        measured = store.query("SELECT count(*) AS n FROM measurements")[0]["n"]
        # A ? or % inside a string literal is text, not a parameter.
        (row,) = central.query(
            "SELECT count(*) AS n, '50% done?' AS note FROM current_measurements "
            "WHERE station = ? AND characteristic NOT LIKE '%?%'",
            ("BENCH-1",),
        )
        assert (row["n"], row["note"]) == (measured, "50% done?")
        assert central.query("SELECT seq FROM results WHERE station = ?", ["NOBODY"]) == []


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE scratch (a INTEGER)",
        "INSERT INTO stations (station, head_seq, head_hash, records) VALUES ('X', 0, 'h', 0)",
        "DELETE FROM measurements",
    ],
)
def test_a_statement_that_would_change_anything_is_refused(
    central_url, make_station, statement: str
):
    store = make_station("BENCH-1", 30)
    records = list(store.records())
    with open_central(central_url) as central:
        central.ingest("BENCH-1", records[:20])
        with pytest.raises(SyncError, match="could not answer a read query") as caught:
            central.query(statement)
        assert "\n" not in str(caught.value)
        # Nothing changed, and the store still writes what it should.
        assert central.query("SELECT count(*) AS n FROM measurements")[0]["n"] > 0
        assert central.ingest("BENCH-1", records[20:]).head_seq == len(records)
    with open_central(central_url) as central:
        assert [s.station for s in central.stations()] == ["BENCH-1"]


def test_a_bad_query_is_one_sentence(central_url):
    with open_central(central_url) as central, pytest.raises(SyncError) as caught:
        central.query("SELECT a FROM nowhere WHERE a = ?", [1])
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
        central.query("SELECT * FROM journal")
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
