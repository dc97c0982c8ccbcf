"""A batch is checked and derived in memory: PostgreSQL writes no temporary file for it.

At PostgreSQL's default ``work_mem`` (4 MB) the ingest of a default batch (5,000 records) spilled
its transition table and per-kind rows to temporary files, written and read back at every batch
(about 1.5 kB a record on the plant's disk); the ingest now gives its transaction room for them.
"""

from __future__ import annotations

import psycopg
import pytest

from inspect_station.sync import DEFAULT_BATCH_SIZE, open_central
from inspect_station.sync.batch import prepare_rows
from inspect_station.sync.central_pg import ingest_work_mem


@pytest.fixture
def admin_url(pg_central_database) -> str:
    """An initialised, empty PostgreSQL central store (administrator URL)."""
    return pg_central_database.url


def _temp_files(conn: psycopg.Connection) -> tuple[int, int]:
    """(files, bytes) of temporary files this database's sessions have written so far."""
    row = conn.execute(
        "SELECT temp_files, temp_bytes FROM pg_stat_database WHERE datname = current_database()"
    ).fetchone()
    assert row is not None
    return row[0], row[1]


@pytest.mark.postgres
def test_a_default_batch_is_ingested_without_a_temporary_file(admin_url, make_station):
    store = make_station("BENCH-1", DEFAULT_BATCH_SIZE)
    rows = store.journal_rows(0, DEFAULT_BATCH_SIZE)
    batch = prepare_rows("BENCH-1", rows, rehash=False)
    assert len(batch) == DEFAULT_BATCH_SIZE
    with open_central(admin_url) as central:
        conn = central.conn  # type: ignore[attr-defined]
        # The statistics of this session reach the shared counters when it goes idle after a
        # statement that asks for it (PostgreSQL 15 and later), so the figures below are exact.
        conn.execute("SELECT pg_stat_force_next_flush()")
        before = _temp_files(conn)
        result = central.ingest_prepared(batch)
        conn.execute("SELECT pg_stat_force_next_flush()")
        after = _temp_files(conn)
        assert conn.execute("SHOW work_mem").fetchone()[0] == "4MB"  # only the batch had more
    assert result.inserted == DEFAULT_BATCH_SIZE
    spilled = (after[0] - before[0], after[1] - before[1])
    assert spilled == (0, 0), f"temporary files written: {spilled[0]} ({spilled[1]:,} bytes)"


def test_the_room_asked_follows_the_batch_within_bounds(make_station):
    store = make_station("BENCH-1", 4800)
    sizes = [
        ingest_work_mem(prepare_rows("BENCH-1", store.journal_rows(0, n), rehash=False))
        for n in (6, 2400, 4800)
    ]
    assert sizes[0] == 4096  # never below PostgreSQL's default
    assert 4096 < sizes[1] < sizes[2] <= 256 * 1024  # grows with the batch, within a cap


def _note_work_mem(conn: psycopg.Connection) -> None:
    """Record the work_mem each journal insert statement runs with (in ``public.seen``)."""
    conn.execute("CREATE TABLE public.seen (work_mem text)")
    conn.execute(
        "CREATE FUNCTION public.note_work_mem() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO public.seen VALUES (current_setting('work_mem')); RETURN NULL; "
        "END $$"
    )
    conn.execute(
        "CREATE TRIGGER zz_note_work_mem AFTER INSERT ON inspect_station.journal "
        "FOR EACH STATEMENT EXECUTE FUNCTION public.note_work_mem()"
    )


@pytest.mark.postgres
@pytest.mark.parametrize(("session", "expected"), [(None, "4MB"), ("300MB", "300MB")])
def test_the_batch_gets_more_room_and_a_plants_larger_setting_is_kept(
    admin_url, make_station, session: str | None, expected: str
):
    store = make_station("BENCH-1", 2400)
    batch = prepare_rows("BENCH-1", store.journal_rows(0, 2400), rehash=False)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        _note_work_mem(admin)
        with open_central(admin_url) as central:
            conn = central.conn  # type: ignore[attr-defined]
            if session:
                conn.execute(f"SET work_mem = '{session}'")
            central.ingest_prepared(batch)
            after = conn.execute("SHOW work_mem").fetchone()[0]
        (seen, size) = admin.execute(
            "SELECT work_mem, pg_size_bytes(work_mem) FROM public.seen"
        ).fetchone()
    wanted = ingest_work_mem(batch)
    assert after == expected  # the room is the batch's transaction's only
    if session is None:
        assert wanted > 4096 and size == wanted * 1024
    else:
        assert seen == session  # a plant's larger setting is never lowered
