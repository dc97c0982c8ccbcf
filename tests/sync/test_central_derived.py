"""Central projection rows are derived by the database from verified journal records only.

A station's role may add journal records of its own station and nothing else: a row it (or
anyone) puts straight into a projection table -- a forged "scrap, signed by Quality Manager" on
another station's reject, a forged measurement -- is refused, and what review and exports read
is exactly what the journal says.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from rejectkit import make_people, reject_part
from synckit import RawCentral

from inspect_station.review.model import RejectFilter, Status
from inspect_station.review.service import Review
from inspect_station.store import LocalStore
from inspect_station.store import journal as jn
from inspect_station.store.projections import project
from inspect_station.sync import IngestRefused, Refusal, Shipper, open_central, open_source
from inspect_station.sync.verify import verify_central_store

FORGED_DISPOSITION = (
    "INSERT INTO {s}dispositions (station, seq, uuid, reject, reject_station, reject_seq, "
    "inspection, lot, serial, part_number, revision, spec_hash, disposition, reason, "
    "signed_hash, signers_required, user_id, name, meaning, signed_at) VALUES "
    "(%s, %s, 'forged-0001', %s, %s, %s, %s, 'L1', 'S1', 'BRK-1042', 'C', 'x', 'scrap', "
    "'destroy it', 'x', 1, 'qm', 'Quality Manager', 'approval of disposition', "
    "'2026-11-25T09:00:00.000000Z')"
)
FORGED_SIGNATURE = (
    "INSERT INTO {s}signatures (station, seq, uuid, disposition, disposition_station, "
    "disposition_hash, reject, signed_hash, user_id, name, role, meaning, signed_at) VALUES "
    "(%s, %s, 'forged-0002', 'forged-0001', %s, NULL, %s, 'x', 'qm', 'Quality Manager', "
    "'supervisor', 'approval of disposition', '2026-11-25T09:00:00.000000Z')"
)
FORGED_MEASUREMENT = (
    "INSERT INTO {s}measurements (station, seq, uuid, inspection, lot, serial, part_number, "
    "revision, spec_hash, characteristic, value, verdict, source, inspector) VALUES "
    "(%s, %s, %s, 'i', 'L1', 'S1', 'BRK-1042', 'C', 'x', '1', '120.00', 'pass', 'manual', 'ann')"
)


@pytest.fixture
def bench_b(make_station, bracket) -> tuple[LocalStore, dict]:
    """Station BENCH-B with one reject; its result record."""
    store = make_station("BENCH-B")
    make_people(store)
    reject = reject_part(store, bracket, "S1")
    (result,) = [r for r in store.records() if r["uuid"] == reject]
    return store, result


def awaiting(central_url: str, writer: LocalStore) -> list[tuple[str, Status]]:
    """(reject, status) of every reject in the central store's review queue."""
    with open_source(central_url) as source:
        queue = Review(source, writer).queue(RejectFilter(include_disposed=True))
    return [(r.reject, r.status) for r in queue]


def measurement_of(store: LocalStore) -> dict:
    return next(r for r in store.records() if r["kind"] == "measurement")


@pytest.mark.postgres
def test_a_station_role_cannot_forge_another_stations_disposition_or_measurement(
    pg_database, make_station, bench_b
):
    """Station A's role makes no row of B's reject read "scrap, signed by Quality Manager"."""
    admin = pg_database.url
    with open_central(admin) as central:
        central.migrate()
        role_a = central.add_station("BENCH-A")
        role_b = central.add_station("BENCH-B")
    store_b, result = bench_b
    store_a = make_station("BENCH-A", 12)
    Shipper(store_b, role_b.url).ship()
    Shipper(store_a, role_a.url).ship()
    head_a = store_a.head()[0]
    measurement = measurement_of(store_b)
    forgeries = [
        (FORGED_DISPOSITION, ("BENCH-B", 99, result["uuid"], "BENCH-B", result["seq"], "i")),
        (FORGED_DISPOSITION, ("BENCH-A", head_a, result["uuid"], "BENCH-B", result["seq"], "i")),
        (FORGED_SIGNATURE, ("BENCH-B", 98, "BENCH-B", result["uuid"])),
        (FORGED_MEASUREMENT, ("BENCH-B", measurement["seq"], measurement["uuid"])),
        (FORGED_MEASUREMENT, ("BENCH-A", head_a, "forged-0003")),
    ]
    with psycopg.connect(role_a.url, autocommit=True) as conn:
        for statement, params in forgeries:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                conn.execute(statement.format(s="inspect_station."), params)
        copy = "COPY inspect_station.dispositions (station, seq, uuid) FROM STDIN"
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.cursor().copy(copy) as cp:
            cp.write_row(("BENCH-B", 99, "forged-0004"))
    # Not even the administrator inserts a projection row: the database derives them.
    raw = RawCentral(admin)
    for statement, params in forgeries:
        with pytest.raises(psycopg.Error, match="derived from journal records only"):
            raw.execute(statement, params)
    assert awaiting(admin, store_a) == [(result["uuid"], Status.AWAITING)]
    with open_central(admin) as central:
        assert all(report.ok for report in verify_central_store(central))
        held = central.projection_rows("measurements", "BENCH-B", 1, 10**6)
    assert {row["value"] for row in held} == {"120.25", "12.005", "0.02", "pass"}


@pytest.mark.postgres
def test_the_station_role_holds_insert_on_the_journal_only(pg_database):
    with open_central(pg_database.url) as central:
        central.migrate()
        creds = central.add_station("BENCH-A")
    with psycopg.connect(pg_database.url, autocommit=True) as conn:
        granted = conn.execute(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = %s AND table_schema = 'inspect_station' ORDER BY 1, 2",
            (creds.role,),
        ).fetchall()
    assert granted == [("journal", "INSERT"), ("migrations", "SELECT")]


def test_the_embedded_store_refuses_a_projection_row_without_its_record(
    tmp_path, make_station, bench_b
):
    url = f"sqlite:///{tmp_path / 'central.db'}"
    store_b, result = bench_b
    store_a = make_station("BENCH-A", 12)
    Shipper(store_b, url).ship()
    Shipper(store_a, url).ship()
    raw = RawCentral(url)
    measurement = measurement_of(store_b)
    cases = [
        # No record at all at that seq, or one of another kind: refused by the guard.
        (FORGED_DISPOSITION, ("BENCH-B", 99, result["uuid"], "BENCH-B", result["seq"], "i")),
        (FORGED_DISPOSITION, ("BENCH-B", result["seq"], result["uuid"], "BENCH-B", 1, "i")),
        (FORGED_SIGNATURE, ("BENCH-B", 98, "BENCH-B", result["uuid"])),
        (FORGED_MEASUREMENT, ("BENCH-A", 99, "forged-0003")),
    ]
    for statement, params in cases:
        with pytest.raises(Exception, match="derived from journal records only"):
            raw.execute(statement, params)
    # The record's own (station, seq, uuid): its derived row already holds the place.
    with pytest.raises(Exception, match="UNIQUE constraint failed"):
        raw.execute(FORGED_MEASUREMENT, ("BENCH-B", measurement["seq"], measurement["uuid"]))
    assert awaiting(url, store_a) == [(result["uuid"], Status.AWAITING)]
    with open_central(url) as central:
        assert all(report.ok for report in verify_central_store(central))


def test_central_init_drops_rows_a_station_forged_before_and_derives_the_rest(
    central_url, make_station, bench_b
):
    """A store from before schema 2 may hold forged rows: upgrading rebuilds from the journal."""
    store_b, result = bench_b
    Shipper(store_b, central_url).ship()
    raw = RawCentral(central_url)
    # Forge the way an old station role could (rows at seqs whose records fill other tables).
    forged = [
        ("dispositions", FORGED_DISPOSITION, ("BENCH-B", 1, result["uuid"], "BENCH-B", 1, "i")),
        ("signatures", FORGED_SIGNATURE, ("BENCH-B", 2, "BENCH-B", result["uuid"])),
    ]
    for table, statement, params in forged:
        if raw.postgres:
            raw.execute(f"ALTER TABLE {{s}}{table} DISABLE TRIGGER {table}_derived_only")
            raw.execute(statement, params)
            raw.execute(f"ALTER TABLE {{s}}{table} ENABLE TRIGGER {table}_derived_only")
        else:
            raw.execute(f"DROP TRIGGER {table}_derived_only")
            raw.execute(statement, params)
    assert awaiting(central_url, store_b) == [(result["uuid"], Status.DISPOSED)]
    with open_central(central_url) as central:
        (report,) = verify_central_store(central)
        assert not report.ok and "extra dispositions row" in report.reason
    raw.execute("UPDATE {s}projection_state SET fingerprint = 'older'")
    with open_central(central_url) as central:
        applied = central.migrate()
        assert any(step.startswith("projections derived from the journal") for step in applied)
        assert all(report.ok for report in verify_central_store(central))
    assert awaiting(central_url, store_b) == [(result["uuid"], Status.AWAITING)]


STRANGE = [
    'quote " backslash \\ slash /',
    "controls \x01\x1f\t\n\r\x7f",
    "non-ASCII é ü ß 中文 — \u2028 \u2029",
    "astral \U0001f600 \U00010000 and \ufeff",
    "",
]


def test_the_database_derives_exactly_what_the_station_projects(central_url, make_station):
    """Strange but well-formed values (escapes, controls, astral characters, nested JSON,
    absent optional keys, defaults) are derived in SQL column for column as ``project`` does."""
    store = make_station("BENCH-1")
    for index, text in enumerate(STRANGE):
        body = {
            "inspection": f"i{index}",
            "lot": text,
            "serial": f"S{index}",
            "part_number": text,
            "revision": "C",
            "spec_hash": "h",
            "characteristic": "1",
            "value": "1.5",
            "verdict": "pass",
            "source": "gauge",
            "inspector": text,
            "decision_rule": {"rule": text, "nested": [text, {"k": text}], "n": -(2**53 - 1)},
            "gauge": {"asset": text, "serial_number": None} if index % 2 else None,
            "limits": {"lower": "1", "upper": text} if index != 1 else {},
        }
        store.append("measurement", body)
        store.append("lot_opened", {**body, "lot_size": 2**53 - 1 - index, "sampling": [text]})
        store.append("user", {"user_id": f"u{index}", "name": text, "role": "inspector"})
        store.append("sign_in", {"user_id": f"u{index}", "success": bool(index % 2)})
        store.append("inspection_closed", {**body, "result": "reject", "note": None})
        spec = {**body, "spec_hash": f"h{index}", "content": {"x": [text]}, "status": None}
        store.append("spec", spec)
    with open_central(central_url) as central:
        central.ingest("BENCH-1", list(store.records()))
        assert all(report.ok for report in verify_central_store(central))
        for record in store.records():
            for table, row in project(record):
                (held,) = central.projection_rows(table, "BENCH-1", record["seq"], record["seq"])
                expected = {**row, "station": "BENCH-1"}
                assert {k: held[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"value": 120}, "body.value is not text"),
        ({"gauge": "CAL-1"}, "body.gauge is not an object"),
        ({"limits": {"upper": {"x": "1"}}}, "body.limits.upper is not text"),
        ({"inspector": None}, "body.inspector is missing or null"),
        ({"zone": None, "lot_size": "12"}, None),  # lot_size is not a measurement column
    ],
)
def test_the_database_refuses_a_malformed_record_from_a_rogue_client(
    central_url, make_station, bracket, change: dict, problem: str | None
):
    """A client that skips the station's own checks cannot store a record whose rows would
    read differently from the journal: the database names the key and keeps nothing."""
    store = make_station("BENCH-1", 6)
    template = measurement_of(store)
    seq, prev = store.head()
    forged = jn.make_record(
        station="BENCH-1",
        seq=seq + 1,
        kind="measurement",
        body={**template["body"], **change},
        prev_hash=prev,
    )
    records = [*store.records(), forged]
    raw = RawCentral(central_url)
    columns = "station, seq, uuid, format, kind, ts, prev_hash, hash, body"
    insert = f"INSERT INTO {{s}}journal ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    with open_central(central_url) as central:
        central.ingest("BENCH-1", records[:-1])
    last = records[-1]
    values = (*[last[c] for c in columns.split(", ")[:-1]], jn.canonical_body(last["body"]))
    if problem is None:
        raw.execute(insert, values)
    else:
        with pytest.raises(Exception, match=f"malformed.*{problem}"):
            raw.execute(insert, values)
        with open_central(central_url) as central, pytest.raises(IngestRefused) as info:
            central.ingest("BENCH-1", records)
        assert info.value.reason is Refusal.MALFORMED and problem in info.value.message
    expected = len(records) if problem is None else len(records) - 1
    assert raw.execute("SELECT max(seq) FROM {s}journal")[0][0] == expected
    held = raw.execute("SELECT count(*) FROM {s}measurements")[0][0]
    assert held == sum(r["kind"] == "measurement" for r in records[:expected])
    assert json.loads(values[-1])  # the body itself was valid JSON all along


@pytest.mark.postgres
def test_upgrading_a_schema_1_store_drops_forged_rows_and_the_roles_projection_privileges(
    pg_database, bench_b
):
    """Schema 1 let a station role insert projection rows. Upgrading derives every row from the
    journal again (the forged one goes) and leaves the role INSERT on the journal only."""
    from inspect_station.sync import central_pg
    from inspect_station.sync.central_schema import CENTRAL_TABLES

    store_b, result = bench_b
    url, schema = pg_database.url, "inspect_station"
    columns = "station, seq, uuid, format, kind, ts, prev_hash, hash, body"
    role = f"{pg_database.name}_bench_b"
    with psycopg.connect(url, autocommit=True) as conn:  # what schema 1 made
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(
            f"CREATE TABLE {schema}.migrations (version integer PRIMARY KEY, name text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(central_pg.MIGRATIONS[0][2])
        conn.execute(f"INSERT INTO {schema}.migrations VALUES (1, 'v1')")
        for table, cols in CENTRAL_TABLES.items():
            types = ", ".join(f"{c} {'bigint' if t == 'INTEGER' else 'text'}" for c, t in cols)
            conn.execute(f"CREATE TABLE {schema}.{table} ({types})")
            if table == "users":  # schema 1 stations shipped PIN hashes in user rows
                conn.execute(f"ALTER TABLE {schema}.users ADD COLUMN pin_hash text")
            conn.execute(
                f"CREATE TRIGGER {table}_inserted AFTER INSERT ON {schema}.{table} "
                "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {schema}.projection_inserted()"
            )
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw-of-b'")
        conn.execute(f"INSERT INTO {schema}.station_roles VALUES (%s, 'BENCH-B')", (role,))
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        tables = ", ".join(f"{schema}.{t}" for t in ["journal", *CENTRAL_TABLES])
        conn.execute(f"GRANT INSERT ON {tables} TO {role}")
        for fn in ("begin_ingest(text)", "station_head(text)"):
            conn.execute(f"GRANT EXECUTE ON FUNCTION {schema}.{fn} TO {role}")
    role_url = url.replace(pg_database.server.admin_role, role).replace(
        pg_database.server.password, "pw-of-b"
    )
    records = list(store_b.records())
    with psycopg.connect(role_url, autocommit=True) as conn:  # the station ships, then forges
        with conn.cursor().copy(f"COPY {schema}.journal ({columns}) FROM STDIN") as copy:
            for r in records:
                body = jn.canonical_body(r["body"])
                copy.write_row([*(r[c] for c in columns.split(", ")[:-1]), body])
        conn.execute(
            FORGED_DISPOSITION.format(s=f"{schema}."),
            ("BENCH-B", 1, result["uuid"], "BENCH-B", result["seq"], "i"),
        )
    raw = RawCentral(url)
    assert raw.execute("SELECT disposition, name FROM {s}dispositions") == [
        ("scrap", "Quality Manager")  # schema 1 took it
    ]
    with open_central(url) as central:
        applied = central.migrate()
        assert applied[0] == "2: head history; projections derived by the database only"
        assert applied[1] == "3: chain checked in one pass over each batch (lag over seq)"
        assert applied[2].startswith("projections derived from the journal")
        assert all(report.ok for report in verify_central_store(central))
        assert [h.seq for h in central.acknowledged_heads("BENCH-B")] == [records[-1]["seq"]]
    assert awaiting(url, store_b) == [(result["uuid"], Status.AWAITING)]
    assert raw.execute("SELECT count(*) FROM {s}dispositions") == [(0,)]
    columns = "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"
    assert ("pin_hash",) not in raw.execute(columns)  # the hashes leave the query tables
    with (
        psycopg.connect(role_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(
            FORGED_DISPOSITION.format(s=f"{schema}."),
            ("BENCH-B", 2, result["uuid"], "BENCH-B", result["seq"], "i"),
        )
