"""PostgreSQL station roles: a station writes only its own records, alters and reads nothing."""

from __future__ import annotations

import re

import psycopg
import pytest
from pg import PgDatabase
from synckit import extend_projections

from inspect_station.store import journal as jn
from inspect_station.store import projections as pj
from inspect_station.sync import (
    CentralPermissionError,
    CentralSchemaError,
    CentralUnavailable,
    IngestRefused,
    Refusal,
    Shipper,
    SyncError,
    open_central,
    parse_central_url,
)

pytestmark = pytest.mark.postgres

ROWS = (
    "SELECT format, station, seq, uuid, kind, ts, prev_hash, hash, body FROM journal ORDER BY seq"
)
COLUMNS = "station, seq, uuid, format, kind, ts, prev_hash, hash, body"


@pytest.fixture
def admin_url(pg_central_database: PgDatabase) -> str:
    """An initialised central store; the test administrator's URL."""
    return pg_central_database.url


def add_station(admin_url: str, station: str, **options):
    with open_central(admin_url) as central:
        return central.add_station(station, **options)


def as_role(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


def copy_journal(url: str, rows: list[dict]) -> None:
    """COPY rows straight into the central journal as the URL's role, like a rogue client."""
    with (
        as_role(url) as conn,
        conn.cursor().copy(f"COPY inspect_station.journal ({COLUMNS}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row[c] for c in COLUMNS.split(", ")])


def test_a_station_role_ships_its_own_records(admin_url, make_station, pg_central_database):
    creds = add_station(admin_url, "BENCH-1")
    assert creds.role == f"{pg_central_database.name}_bench_1"
    assert creds.password and creds.password in creds.url
    assert parse_central_url(creds.url).params["user"] == creds.role
    store = make_station("BENCH-1", 500)
    summary = Shipper(store, creds.url, 200).ship()
    assert summary.head_seq == store.head()[0]
    with pg_central_database.connect() as conn:
        flags = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolbypassrls "
            "FROM pg_roles WHERE rolname = %s",
            (creds.role,),
        ).fetchone()
    assert flags == (False, False, False, True, False)
    verifier = pg_central_database.server.psql(
        f"SELECT rolpassword FROM pg_authid WHERE rolname = '{creds.role}'"
    )
    assert verifier.startswith("SCRAM-SHA-256$") and creds.password not in verifier


def test_the_password_never_travels_or_shows_in_clear(admin_url, tmp_path, pg_central_database):
    trace = tmp_path / "protocol.trace"
    with open_central(admin_url) as central, trace.open("w") as out:
        central.conn.pgconn.trace(out.fileno())
        creds = central.add_station("BENCH-7")
        central.conn.pgconn.untrace()
    sent = trace.read_text()
    assert "CREATE ROLE" in sent and "SCRAM-SHA-256$" in sent
    assert creds.password not in sent
    wrong = creds.url.replace(creds.password, "not-" + creds.password[:8])
    with pytest.raises(CentralPermissionError) as info:
        open_central(wrong)
    message = info.value.message
    assert "password authentication failed" in message and message.endswith(".")
    assert creds.password[:8] not in message and ":***@" in message


def test_a_station_role_cannot_write_another_stations_records(admin_url, make_station):
    creds = add_station(admin_url, "BENCH-1")
    other = make_station("BENCH-2", 30)
    with pytest.raises(IngestRefused) as info:
        Shipper(other, creds.url).ship()
    assert info.value.reason is Refusal.WRONG_STATION
    assert f"role {creds.role} may write only station BENCH-1, not BENCH-2" in info.value.message
    # Straight to the table, bypassing the program: refused by the database.
    rows = other.query(ROWS)
    with pytest.raises(psycopg.Error, match="may write only"):
        copy_journal(creds.url, rows[:3])
    with open_central(admin_url) as central:
        assert central.head("BENCH-2")[0] == 0


ROGUE_STATEMENTS = [
    "UPDATE inspect_station.journal SET kind = 'x'",
    "DELETE FROM inspect_station.journal",
    "TRUNCATE inspect_station.journal",
    "UPDATE inspect_station.measurements SET value = '0'",
    "DELETE FROM inspect_station.results",
    "SELECT * FROM inspect_station.journal",
    "SELECT * FROM inspect_station.measurements",
    "SELECT * FROM inspect_station.stations",
    "SELECT * FROM inspect_station.station_roles",
    "UPDATE inspect_station.stations SET head_seq = 0",
    "INSERT INTO inspect_station.station_roles VALUES ('x', 'BENCH-2')",
    "SELECT * FROM inspect_station.held_records('BENCH-2', 1, 10)",
    "SELECT * FROM inspect_station.station_head('BENCH-2')",
    "ALTER TABLE inspect_station.journal DISABLE TRIGGER journal_no_change",
]
"""What a station's role tries beyond shipping its own records: each must be refused."""


def test_a_station_role_alters_and_reads_nothing(admin_url, make_station):
    """Each statement, in a connection of its own, is refused by the database; the stations'
    records are as shipped afterwards (one central store for all of them: setting one up is
    most of the cost)."""
    creds = add_station(admin_url, "BENCH-1")
    add_station(admin_url, "BENCH-2")
    one, two = make_station("BENCH-1", 20), make_station("BENCH-2", 20)
    Shipper(one, creds.url).ship()
    Shipper(two, admin_url).ship()
    not_refused = []
    for statement in ROGUE_STATEMENTS:
        with as_role(creds.url) as conn:
            try:
                conn.execute(statement)
            except psycopg.Error as exc:
                if not re.search(r"permission denied|must be owner|may write only", str(exc)):
                    not_refused.append((statement, str(exc)))
            else:
                not_refused.append((statement, "it was executed"))
    assert not_refused == []
    with open_central(admin_url) as central:
        assert [(s.station, s.records) for s in central.stations()] == [
            ("BENCH-1", one.head()[0]),
            ("BENCH-2", two.head()[0]),
        ]


def test_the_database_refuses_a_bad_hash_from_a_rogue_client(admin_url, make_station):
    """Even a station program that skips its own checks cannot store an altered record."""
    creds = add_station(admin_url, "BENCH-1")
    store = make_station("BENCH-1", 10)
    rows = store.query(ROWS)
    rows[2]["body"] = rows[2]["body"].replace("BRK-1042", "BRK-1043")
    forged = jn.make_record(station="BENCH-1", seq=1, kind="note", body={}, prev_hash="f" * 64)
    forged["body"] = jn.canonical_body(forged["body"])
    for batch, detail in ((rows[:5], "does not match its hash"), ([forged], "continue the head")):
        with pytest.raises(psycopg.Error, match=detail):
            copy_journal(creds.url, batch)
    with open_central(admin_url) as central:
        assert central.head("BENCH-1")[0] == 0


def test_add_station_refuses_a_second_role_and_rotates_a_password(admin_url, make_station):
    first = add_station(admin_url, "BENCH-1")
    with pytest.raises(SyncError, match="already has role"):
        add_station(admin_url, "BENCH-1")
    with pytest.raises(SyncError, match="already ships as role"):
        add_station(admin_url, "BENCH-1", role="someone_else")
    with pytest.raises(SyncError, match="already belongs to station BENCH-1"):
        add_station(admin_url, "BENCH-2", role=first.role)
    with pytest.raises(SyncError, match="not a station id"):
        add_station(admin_url, "BENCH 1; DROP TABLE x")
    second = add_station(admin_url, "BENCH-1", new_password=True)
    assert second.role == first.role and second.password != first.password
    Shipper(make_station("BENCH-1", 10), second.url).ship()
    with pytest.raises(CentralPermissionError):
        open_central(first.url)


def test_libpq_options_in_the_url_are_passed_through(admin_url, pg_central_database):
    url = admin_url + "?application_name=bench-3-shipper&sslmode=disable"
    with open_central(url) as central, pg_central_database.connect() as conn:
        pid = central.conn.info.backend_pid
        name, ssl = conn.execute(
            "SELECT a.application_name, s.ssl FROM pg_stat_activity a "
            "JOIN pg_stat_ssl s USING (pid) WHERE pid = %s",
            (pid,),
        ).fetchone()
        server_ssl = conn.execute("SHOW ssl").fetchone()[0] == "on"
    assert (name, ssl) == ("bench-3-shipper", False)
    required = admin_url + "?sslmode=require"
    if server_ssl:
        with open_central(required) as central:
            assert central.conn.info.pgconn.ssl_in_use
    else:
        with pytest.raises(CentralUnavailable, match="SSL"):
            open_central(required)


def test_a_station_ships_to_older_projections_and_central_init_derives_them_later(
    admin_url, make_station, monkeypatch
):
    """Projection rows are the central store's business: a station running a newer program
    (a new table) still ships, and ``central init`` then derives the rows from the journal."""
    creds = add_station(admin_url, "BENCH-1")
    store = make_station("BENCH-1", 10)
    gizmos = [*pj.SCHEMA["sign_ins"][:2], pj.text("station", pj.RECORD)]
    extend_projections(monkeypatch, "gizmos", gizmos, ("measurement",))
    assert Shipper(store, creds.url).ship().head_seq == store.head()[0]
    with open_central(admin_url) as central:
        assert central.migrate()[0].startswith("projections derived from the journal")
        rows = central.projection_rows("gizmos", "BENCH-1", 1, 10**6)
    assert len(rows) == sum(r["kind"] == "measurement" for r in store.records())


def test_an_outdated_central_schema_asks_for_central_init(admin_url, make_station):
    creds = add_station(admin_url, "BENCH-1")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            "DELETE FROM inspect_station.migrations "
            "WHERE version = (SELECT max(version) FROM inspect_station.migrations)"
        )
    with pytest.raises(CentralSchemaError, match="run `inspect-station central init URL`"):
        Shipper(make_station("BENCH-1", 10), creds.url).ship()


def test_ingest_without_a_schema_is_one_clear_sentence(pg_database, make_station):
    with pytest.raises(CentralSchemaError, match="has no inspect-station schema; run"):
        Shipper(make_station("BENCH-1", 5), pg_database.url).ship()
