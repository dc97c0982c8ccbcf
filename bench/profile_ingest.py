"""Where the time of shipping to PostgreSQL goes: CPU per record on the server, part by part, and
the client's and the server's share of the whole path against a raw COPY of the same rows.

    python bench/profile_ingest.py [--records 12000] [--batch-size 5000] [--rounds 3]

It starts a private server the way the tests do (``tests/pg.py``, fsync on) and reads CPU time
from ``/proc`` (user + system), which the load of other users of the machine moves far less than
wall time:

- server CPU per record of the ingest statement (one INSERT per batch from a staged copy of the
  station's journal, as the station's COPY does, with the work_mem the shipper's ingest gives
  the batch) with every trigger, without the derivation of the projection rows
  (``journal_project`` disabled), and with no trigger (the journal insert alone: heap, primary
  key, UUID key); the differences are the chain check (hash and links) and the derivation; and
  the derivation's reading alone (every body parsed, its keys taken and checked, no row
  written), the rest of the derivation being the query rows and their indexes;
- the whole path: ``Shipper`` against a raw psycopg COPY into a plain table, each with the CPU
  of this (client) process and of the server (the postmaster's reaped children and its live
  ones), per record, and wall time.

Each figure is the best of ``--rounds`` (a fresh database each). The load average is printed
beside them.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT / "tests" / "sync")]

from backlog import fill  # noqa: E402  (tests/sync/backlog.py)
from bench_sync import COLUMNS, Server, central_for, raw_copy  # noqa: E402

from inspect_station.locations import shipped_specs_dir  # noqa: E402
from inspect_station.spec import SpecLibrary  # noqa: E402
from inspect_station.store import LocalStore  # noqa: E402
from inspect_station.sync import DEFAULT_BATCH_SIZE, Shipper  # noqa: E402
from inspect_station.sync.batch import PreparedBatch  # noqa: E402
from inspect_station.sync.central_derive import _FIRST_PROBLEM, _pg_parts  # noqa: E402
from inspect_station.sync.central_pg import ingest_work_mem  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
JOURNAL = "inspect_station.journal"


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICK


def server_cpu(postmaster: int) -> float:
    """CPU seconds of the whole server: the postmaster, its reaped children and its live ones."""
    fields = _stat(postmaster)
    total = sum(int(f) for f in fields[11:15])
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            child = _stat(int(entry))
        except OSError:
            continue
        if int(child[1]) == postmaster:
            total += int(child[11]) + int(child[12])
    return total / TICK


def client_cpu() -> float:
    """CPU seconds of this process, every thread."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ingest_cpu(server: Server, rows: list[tuple], batch: int, disable: tuple[str, ...]) -> float:
    """Server CPU seconds per record inserting ``rows`` in batches, ``disable``d triggers off."""
    admin, _ = central_for(server, rows[0][0])
    with psycopg.connect(admin, autocommit=True) as conn:
        for trigger in disable:
            conn.execute(f"ALTER TABLE {JOURNAL} DISABLE TRIGGER {trigger}")
        conn.execute(f"CREATE TEMP TABLE stage AS SELECT {COLUMNS} FROM {JOURNAL} WHERE false")
        with conn.cursor() as cur, cur.copy(f"COPY stage ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        pid = conn.info.backend_pid
        before = process_cpu(pid)
        for first in range(1, len(rows) + 1, batch):
            with conn.transaction():
                _room(conn, rows, first, batch)
                conn.execute(
                    f"INSERT INTO {JOURNAL} ({COLUMNS}) SELECT {COLUMNS} FROM stage "
                    "WHERE seq BETWEEN %s AND %s ORDER BY seq",
                    (first, first + batch - 1),
                )
        return (process_cpu(pid) - before) / len(rows)


def _room(conn: psycopg.Connection, rows: list[tuple], first: int, batch: int) -> None:
    """The work_mem the shipper's ingest gives this batch (``central_pg.ingest_work_mem``)."""
    prepared = PreparedBatch(rows[0][0], rows[first - 1 : first - 1 + batch], rehashed=False)
    conn.execute("SELECT set_config('work_mem', %s, true)", (f"{ingest_work_mem(prepared)}kB",))


def extraction_cpu(server: Server, rows: list[tuple], batch: int) -> float:
    """Server CPU seconds per record of the derivation's reading alone: each body parsed, its
    keys taken and checked for their kind's shape, no query row written (the derivation's
    statement without its inserts, over each batch staged as the trigger sees it)."""
    admin, _ = central_for(server, rows[0][0])
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE TEMP TABLE stage AS SELECT {COLUMNS} FROM {JOURNAL} WHERE false")
        conn.execute(f"CREATE TEMP TABLE new_rows AS SELECT {COLUMNS} FROM {JOURNAL} WHERE false")
        with conn.cursor() as cur, cur.copy(f"COPY stage ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        other, parts = _pg_parts("inspect_station", "new_rows")
        kinds = {row[4] for row in rows}
        parts = [part for part in parts if part[0] in kinds]
        statement = f"WITH {', '.join(cte for _, cte, _, _ in parts)}" + _FIRST_PROBLEM.format(
            " UNION ALL ".join([other, *(problem for _, _, problem, _ in parts)])
        )
        pid = conn.info.backend_pid
        spent = 0.0
        for first in range(1, len(rows) + 1, batch):
            with conn.transaction():
                _room(conn, rows, first, batch)
                conn.execute("TRUNCATE new_rows")
                conn.execute(
                    f"INSERT INTO new_rows SELECT {COLUMNS} FROM stage "
                    "WHERE seq BETWEEN %s AND %s ORDER BY seq",
                    (first, first + batch - 1),
                )
                before = process_cpu(pid)
                conn.execute(statement).fetchall()
                spent += process_cpu(pid) - before
        return spent / len(rows)


def whole_path(server: Server, store: LocalStore, batch: int, postmaster: int) -> dict[str, float]:
    """Client and server CPU and wall time per record: raw COPY, then the shipper."""
    admin, station_url = central_for(server, store.station)
    n = store.head()[0]
    out: dict[str, float] = {}
    with psycopg.connect(admin) as raw:
        raw.execute(f"CREATE TABLE raw_journal AS SELECT {COLUMNS} FROM {JOURNAL} WHERE false")
        raw.commit()
        marks = client_cpu(), server_cpu(postmaster), time.perf_counter()
        raw_copy(store, raw, 0, n, batch)
        out |= _deltas("raw", marks, postmaster, n)
    marks = client_cpu(), server_cpu(postmaster), time.perf_counter()
    Shipper(store, station_url, batch).ship()
    wall = time.perf_counter()
    time.sleep(0.5)  # the shipper's backend has exited: let the postmaster reap it
    out |= _deltas("ship", marks, postmaster, n, wall)
    return out


def _deltas(
    label: str, marks: tuple[float, float, float], postmaster: int, n: int, wall: float = 0.0
) -> dict[str, float]:
    client, server, start = marks
    wall = wall or time.perf_counter()
    return {
        f"{label} client": (client_cpu() - client) / n,
        f"{label} server": (server_cpu(postmaster) - server) / n,
        f"{label} wall": (wall - start) / n,
    }


def main() -> None:
    """Run the profile and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=12_000, help="records in the backlog")
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="records per transaction"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best is printed")
    args = parser.parse_args()
    spec = SpecLibrary.load([shipped_specs_dir()]).get("BRK-1042@C")
    workdir = Path(tempfile.mkdtemp(prefix="profile-ingest-"))
    store = LocalStore(workdir / "station.db", "PROFILE-1")
    fill(store, spec, args.records)
    rows = store.conn.execute(f"SELECT {COLUMNS} FROM journal ORDER BY seq").fetchall()
    server = Server(None)
    assert server.pg is not None
    postmaster = int((server.pg.datadir / "postmaster.pid").read_text().split()[0])
    best: dict[str, float] = {}
    try:
        for _ in range(args.rounds):
            figures = {
                "insert, every trigger": ingest_cpu(server, rows, args.batch_size, ()),
                "insert, no derivation": ingest_cpu(
                    server, rows, args.batch_size, ("journal_project",)
                ),
                "insert, no trigger": ingest_cpu(
                    server, rows, args.batch_size, ("journal_project", "journal_inserted")
                ),
                "extraction": extraction_cpu(server, rows, args.batch_size),
            }
            path_store = LocalStore(workdir / f"path-{len(best)}-{time.monotonic_ns()}.db", "P-2")
            fill(path_store, spec, args.records)
            figures |= whole_path(server, path_store, args.batch_size, postmaster)
            path_store.close()
            for key, value in figures.items():
                best[key] = min(best.get(key, value), value)
    finally:
        server.close()
        store.close()
    us = {key: value * 1e6 for key, value in best.items()}
    print(f"{len(rows):,} records, batches of {args.batch_size}; load average {_load()}")
    print("server CPU per record of the ingest statement (best of rounds):")
    print(f"  journal insert (heap, keys)  {us['insert, no trigger']:6.1f} us")
    chain = us["insert, no derivation"] - us["insert, no trigger"]
    print(f"  chain check (hash, links)    {chain:6.1f} us")
    derive = us["insert, every trigger"] - us["insert, no derivation"]
    print(f"  derivation (shapes, rows)    {derive:6.1f} us")
    print(f"    of which bodies read, shapes checked  {us['extraction']:6.1f} us")
    print(f"    of which query rows and their indexes {derive - us['extraction']:6.1f} us")
    print(f"  all                          {us['insert, every trigger']:6.1f} us")
    print("whole path per record:          client CPU  server CPU   wall")
    for label in ("raw", "ship"):
        print(
            f"  {'raw psycopg COPY' if label == 'raw' else 'Shipper':28s}  "
            f"{us[label + ' client']:8.1f}  {us[label + ' server']:9.1f}  "
            f"{us[label + ' wall']:7.1f} us"
        )
    raw_cpu = us["raw client"] + us["raw server"]
    ship_cpu = us["ship client"] + us["ship server"]
    print(f"CPU ratio raw/ship: {raw_cpu / ship_cpu:.2f}   wall ratio: ", end="")
    print(f"{us['raw wall'] / us['ship wall']:.2f}")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    main()
