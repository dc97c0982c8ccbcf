"""Shipping to PostgreSQL: records/s of the whole path against a raw psycopg COPY of the same
rows, and the shipper's peak memory for a large backlog.

    python bench/bench_sync.py [--url postgresql://USER:PASSWORD@HOST/postgres]
        [--records 200000] [--blocks 5] [--batch-size 5000] [--memory 1000000] [--dir PATH]

``--url`` names a server and a maintenance database where USER may CREATE DATABASE (and
CREATE ROLE); the benchmark creates its own database there and drops it at the end. Without
``--url`` it starts a private server the way the tests do (``tests/pg.py``), with fsync on.

Throughput. The backlog is built in ``--blocks`` blocks of realistic records (a lot, then per
part an inspection, four measurements and a result; ``tests/sync/backlog.py``), appended in
large transactions and not timed. After each block the same new rows are
  raw:  read from the station's journal and COPYed by psycopg into a plain table with the same
        columns (no key, no index, no trigger), one transaction per ``--batch-size`` rows;
  ship: shipped by ``Shipper`` as the station's own role: seq, links and UUIDs checked on the
        station, the journal rows COPYed, every hash recomputed, every body's shape and the
        chain checked and the projection rows derived in the database (one set-based
        statement per batch), one transaction per batch, the batch acknowledged in the local
        record.
Interleaving the two puts the machine's noise on both alike.

Memory. ``inspect-station sync`` runs in a subprocess against a fresh database for a backlog
of ``--memory`` records and one of a tenth of that; its resident set is sampled while it runs
and its peak (``ru_maxrss`` from ``wait4``) is reported. Flat means the same for both.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "sync")]

from backlog import fill  # noqa: E402  (tests/sync/backlog.py)

from inspect_station.locations import shipped_specs_dir  # noqa: E402
from inspect_station.spec import SpecLibrary  # noqa: E402
from inspect_station.store import LocalStore  # noqa: E402
from inspect_station.sync import DEFAULT_BATCH_SIZE, Shipper, open_central  # noqa: E402
from inspect_station.sync.url import parse_central_url, postgres_url  # noqa: E402

COLUMNS = "station, seq, uuid, format, kind, ts, prev_hash, hash, body"
SELECT = f"SELECT {COLUMNS} FROM journal WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"


class Server:
    """Where the benchmark's databases live: an administrator URL to a maintenance database."""

    def __init__(self, url: str | None) -> None:
        self.pg = None
        if url is None:
            from pg import start_private_server

            self.pg = start_private_server(durable=True)
            url = self.pg.url("postgres")
        self.url = url
        self.created: list[str] = []

    def database(self) -> str:
        """A fresh database; its administrator URL."""
        name = f"bench_sync_{secrets.token_hex(3)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return postgres_url({**parse_central_url(self.url).params, "dbname": name})

    def close(self) -> None:
        """Drop what the benchmark created."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            for name in self.created:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
                for (role,) in conn.execute(
                    "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (name + "%",)
                ).fetchall():
                    conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
        if self.pg is not None:
            self.pg.destroy()


def central_for(server: Server, station: str) -> tuple[str, str]:
    """(administrator URL, station role URL) of a fresh, initialised central database."""
    admin = server.database()
    with open_central(admin) as central:
        central.migrate()
        return admin, central.add_station(station).url


def raw_copy(store: LocalStore, conn: psycopg.Connection, after: int, upto: int, batch: int) -> int:
    """Read rows (after, upto] from the journal and COPY them raw; how many."""
    n = 0
    while after < upto:
        rows = store.conn.execute(SELECT, (after, upto, batch)).fetchall()
        with conn.cursor() as cur, cur.copy(f"COPY raw_journal ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        after = rows[-1][1]
        n += len(rows)
    return n


def throughput(server: Server, args: argparse.Namespace, spec, workdir: Path) -> None:
    """Interleaved blocks of raw COPY and shipping; print both rates and their ratio."""
    store = LocalStore(workdir / "throughput.db", "BENCH-T")
    admin, station_url = central_for(server, "BENCH-T")
    raw = psycopg.connect(admin)
    raw.execute(
        "CREATE TABLE raw_journal (station text, seq bigint, uuid text, format integer, "
        "kind text, ts text, prev_hash text, hash text, body text)"
    )
    raw.commit()
    block = args.records // args.blocks
    raw_time = ship_time = 0.0
    raw_n = ship_n = 0
    build = 0.0
    for k in range(1, args.blocks + 1):
        before = store.head()[0]
        t = time.perf_counter()
        fill(store, spec, k * block)
        build += time.perf_counter() - t
        upto = store.head()[0]
        t = time.perf_counter()
        raw_n += raw_copy(store, raw, before, upto, args.batch_size)
        raw_time += time.perf_counter() - t
        t = time.perf_counter()
        summary = Shipper(store, station_url, args.batch_size).ship()
        ship_time += time.perf_counter() - t
        ship_n += summary.inserted
        assert summary.head_seq == upto, summary
    raw.close()
    body = store.query("SELECT avg(length(body)) AS n FROM journal")[0]["n"]
    kinds = store.query("SELECT kind, count(*) AS n FROM journal GROUP BY kind ORDER BY n DESC")
    raw_rate, ship_rate = raw_n / raw_time, ship_n / ship_time
    mix = ", ".join(f"{r['n']:,} {r['kind']}" for r in kinds)
    print(f"backlog            : {ship_n:,} records ({mix})")
    print(f"                     mean body {body:.0f} bytes; built in {build:.1f} s (not timed)")
    print(f"raw psycopg COPY   : {raw_rate:10,.0f} rows/s    ({raw_n:,} rows, {raw_time:.1f} s)")
    print(
        f"Shipper, whole path: {ship_rate:10,.0f} records/s ({ship_n:,} records, {ship_time:.1f} s)"
    )
    print(f"ratio (goal >= 0.5): {ship_rate / raw_rate:.2f}")
    print(f"load average       : {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    store.close()


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def memory_run(server: Server, spec, workdir: Path, records: int, batch: int) -> dict:
    """Ship a backlog of ``records`` with `inspect-station sync`; its memory and rate."""
    station = f"BENCH-M{records}"
    store = LocalStore(workdir / f"memory-{records}.db", station)
    t = time.perf_counter()
    fill(store, spec, records)
    built = time.perf_counter() - t
    n = store.head()[0]
    store.close()
    _, station_url = central_for(server, station)
    config = workdir / f"station-{records}.toml"
    config.write_text(f'station = "{station}"\ndb = "{store.path}"\n')
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inspect_station",
            "--config",
            str(config),
            "sync",
            "--central",
            station_url,
            "--batch-size",
            str(batch),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    samples: list[int] = []

    def sample() -> None:
        while proc.poll() is None:
            rss = _rss_kib(proc.pid)
            if rss:
                samples.append(rss)
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    t = time.perf_counter()
    sampler.start()
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"sync failed: {output}")
    quarter = max(1, len(samples) // 4)
    return {
        "records": n,
        "built": built,
        "seconds": seconds,
        "peak_mib": usage.ru_maxrss / 1024,
        "first_quarter_mib": max(samples[:quarter], default=0) / 1024,
        "last_quarter_mib": max(samples[-quarter:], default=0) / 1024,
    }


def memory(server: Server, args: argparse.Namespace, spec, workdir: Path) -> None:
    """Peak memory of the shipper for a backlog and one ten times larger."""
    runs = [
        memory_run(server, spec, workdir, args.memory // 10, args.batch_size),
        memory_run(server, spec, workdir, args.memory, args.batch_size),
    ]
    for run in runs:
        print(
            f"sync of {run['records']:>9,} records: peak RSS {run['peak_mib']:6.1f} MiB "
            f"(first quarter {run['first_quarter_mib']:.1f}, last quarter "
            f"{run['last_quarter_mib']:.1f}); {run['records'] / run['seconds']:,.0f} records/s "
            f"end to end; backlog built in {run['built']:.0f} s"
        )
    print(f"peak RSS growth for 10x the backlog: {runs[1]['peak_mib'] / runs[0]['peak_mib']:.2f}x")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="administrator URL of a maintenance database")
    parser.add_argument("--records", type=int, default=200_000, help="throughput backlog")
    parser.add_argument("--blocks", type=int, default=5, help="interleaved blocks")
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="records per transaction"
    )
    parser.add_argument("--memory", type=int, default=1_000_000, help="memory backlog (0: skip)")
    parser.add_argument("--dir", type=Path, default=None, help="where the station files go")
    args = parser.parse_args()
    spec = SpecLibrary.load([shipped_specs_dir()]).get("BRK-1042@C")
    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-", dir=args.dir))
    server = Server(args.url)
    try:
        throughput(server, args, spec, workdir)
        if args.memory:
            memory(server, args, spec, workdir)
    finally:
        server.close()


if __name__ == "__main__":
    main()
