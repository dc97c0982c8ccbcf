"""A plant on one PostgreSQL: many stations recording and shipping into one central store at once.

    python bench/bench_plant.py [--stations 10,50,100] [--backlog 2000] [--burst 20000]
        [--rate 1.0] [--seconds 30] [--batch-size 5000] [--url ADMIN_URL]

For each plant size in ``--stations`` (a fresh central database each):

- every station is a process of its own with its own local SQLite record and its own station
  role; before the start each holds ``--backlog`` records not yet shipped (a shift's worth, as
  after a network outage), and station 1 holds ``--burst`` (a week offline: the bursting one);
- at the start every station runs the real ``Shipper`` on its thread (woken after each commit, as
  the station app does) and records live through ``Recorder`` at ``--rate`` measurements a
  second (a part of four characteristics, each measurement its own durable commit, the result
  written when the part is complete) for ``--seconds``;
- then every station waits until the central store holds its whole record.

Printed per plant size, each a ratio against a baseline measured in the same run:

- aggregate ingest: records the central store took from the start until it held everything
  recorded before the start, per second, against a raw single-stream psycopg COPY of the same
  kind of rows (one transaction per batch, into a plain table: no key, no trigger);
- commit-to-central latency of the live records: from the local durable commit to the moment
  the station's shipper has the central store's acknowledgement of a batch holding it; p50/p99
  over the plant, and the worst station's p99 (no station starved);
- 0 lost, 0 duplicated: per station, the central store's records count, distinct seqs and
  head hash against the local record; then ``inspect-station verify --central`` must say OK.

``--url`` names a server and a maintenance database where USER may CREATE DATABASE and CREATE
ROLE; without it a private server is started as the tests do (``tests/pg.py``), fsync on.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT / "tests" / "sync")]

from backlog import VALUES, fill  # noqa: E402  (tests/sync/backlog.py)
from bench_sync import Server, raw_copy  # noqa: E402

from inspect_station.backoff import Backoff  # noqa: E402
from inspect_station.locations import shipped_specs_dir  # noqa: E402
from inspect_station.recording import ManualSource, Recorder  # noqa: E402
from inspect_station.spec import SpecLibrary  # noqa: E402
from inspect_station.store import LocalStore  # noqa: E402
from inspect_station.sync import DEFAULT_BATCH_SIZE, Shipper, SyncStatus, open_central  # noqa: E402

SPEC = "BRK-1042@C"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# -- one station (a process) ------------------------------------------------------------------


def station_main(job: dict[str, Any], ready: Any, go: Any, results: Any) -> None:
    """One station: build its backlog, then record live and ship until central holds it all."""
    try:
        results.put(_station(job, ready, go))
    except BaseException as exc:  # reported to the parent, which fails the run
        results.put({"station": job["station"], "error": f"{type(exc).__name__}: {exc}"})


def _station(job: dict[str, Any], ready: Any, go: Any) -> dict[str, Any]:
    spec = SpecLibrary.load([shipped_specs_dir()]).get(SPEC)
    station = job["station"]
    store = LocalStore(Path(job["dir"]) / f"{station}.db", station)
    fill(store, spec, job["backlog"])
    before = store.head()[0]
    shipper = Shipper(
        store,
        job["url"],
        job["batch_size"],
        backoff=Backoff(initial=0.05, maximum=1.0),
        poll_interval=1.0,
    )
    acks: list[tuple[int, float]] = []

    def on_status(status: SyncStatus) -> None:
        acks.append((status.acked_seq, time.monotonic()))

    ready.put(station)
    go.wait()
    started = time.monotonic()
    stop = threading.Event()
    thread = threading.Thread(target=shipper.run, args=(stop, on_status), daemon=True)
    thread.start()
    recorder = Recorder(store)
    rng = random.Random(station)
    commits: list[tuple[int, float]] = []
    interval = 1.0 / job["rate"]
    next_at = started + rng.uniform(0, interval)
    end = started + job["seconds"]
    part = 0
    chars = list(VALUES)
    while next_at < end:
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at += interval
        index = len(commits) % len(chars)
        if index == 0:
            part += 1
        recorder.measure(
            spec=spec,
            lot="LOT-LIVE",
            serial=f"L{part}",
            inspector="ann",
            characteristic=chars[index],
            value=VALUES[chars[index]],
            source=ManualSource("plant bench"),
            auto_close=True,
            lot_size=100_000,
        )
        commits.append((store.head()[0], time.monotonic()))
        shipper.wake()
    head = store.head()
    deadline = time.monotonic() + job["drain_timeout"]
    while (not acks or acks[-1][0] < head[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(30)
    store.close()

    def acknowledged(seq: int) -> float | None:
        for acked, at in acks:
            if acked >= seq:
                return at
        return None

    latencies = []
    unacked = 0
    for seq, at in commits:
        when = acknowledged(seq)
        if when is None:
            unacked += 1
        else:
            latencies.append((when - at) * 1000)
    drained = acknowledged(before)
    return {
        "station": station,
        "before": before,
        "head_seq": head[0],
        "head_hash": head[1],
        "acked": acks[-1][0] if acks else 0,
        "drained": None if drained is None else drained - started,
        "started": started,
        "latencies": latencies,
        "unacked": unacked,
        "live": len(commits),
        "acks": [(at - started, seq) for seq, at in acks],
    }


# -- the plant --------------------------------------------------------------------------------


def raw_rate(server: Server, workdir: Path, records: int, batch: int) -> float:
    """Rows/s of a raw single-stream psycopg COPY of a station's rows (one commit per batch)."""
    spec = SpecLibrary.load([shipped_specs_dir()]).get(SPEC)
    workdir.mkdir(parents=True, exist_ok=True)
    store = LocalStore(workdir / "raw.db", "RAW-1")
    fill(store, spec, records)
    admin = server.database()
    with psycopg.connect(admin) as conn:
        conn.execute(
            "CREATE TABLE raw_journal (station text, seq bigint, uuid text, format integer, "
            "kind text, ts text, prev_hash text, hash text, body text)"
        )
        conn.commit()
        started = time.perf_counter()
        n = raw_copy(store, conn, 0, store.head()[0], batch)
        seconds = time.perf_counter() - started
    store.close()
    return n / seconds


def plant(server: Server, args: argparse.Namespace, stations: int, workdir: Path) -> dict:
    """Run one plant size; its figures."""
    folder = workdir / f"plant-{stations}"
    folder.mkdir()
    admin = server.database()
    names = [f"ST-{i:03d}" for i in range(1, stations + 1)]
    with open_central(admin) as central:
        central.migrate()
        urls = {name: central.add_station(name).url for name in names}
    context = mp.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    procs = []
    for i, name in enumerate(names):
        job = {
            "station": name,
            "dir": str(folder),
            "url": urls[name],
            "backlog": args.burst if i == 0 else args.backlog,
            "rate": args.rate,
            "seconds": args.seconds,
            "batch_size": args.batch_size,
            "drain_timeout": args.drain_timeout,
        }
        proc = context.Process(target=station_main, args=(job, ready, go, results), daemon=True)
        proc.start()
        procs.append(proc)
    out: list[dict] = []
    for _ in names:  # every station has built its backlog (or failed doing so)
        try:
            ready.get(timeout=args.build_timeout)
        except queue.Empty:
            raise SystemExit("stations did not get ready in time") from None
    go.set()
    started = time.monotonic()
    samples: list[tuple[float, int]] = []
    with psycopg.connect(admin, autocommit=True) as conn:
        while len(out) < len(names):
            total = conn.execute(
                "SELECT coalesce(sum(records), 0) FROM inspect_station.stations"
            ).fetchone()[0]
            samples.append((time.monotonic() - started, int(total)))
            try:
                out.append(results.get(timeout=0.1))
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and results.empty():
                    break
    for proc in procs:
        proc.join(30)
    failed = [r for r in out if "error" in r]
    if failed or len(out) < len(names):
        raise SystemExit(f"{len(names) - len(out) + len(failed)} station(s) failed: {failed[:3]}")
    return {"stations": stations, "results": out, "samples": samples, "admin": admin}


def check(admin: str, results: list[dict]) -> tuple[int, int, str]:
    """(records lost, records duplicated, verify's last line) for a plant's central store."""
    held = {}
    with psycopg.connect(admin) as conn:
        for station, n, seqs, uuids, top in conn.execute(
            "SELECT station, count(*), count(DISTINCT seq), count(DISTINCT uuid), max(seq) "
            "FROM inspect_station.journal GROUP BY station"
        ).fetchall():
            held[station] = (n, seqs, uuids, top)
        heads = dict(
            conn.execute("SELECT station, head_hash FROM inspect_station.stations").fetchall()
        )
    lost = duplicated = 0
    for r in results:
        n, seqs, uuids, _top = held.get(r["station"], (0, 0, 0, 0))
        lost += r["head_seq"] - seqs
        duplicated += (n - seqs) + (n - uuids)
        if seqs == r["head_seq"] and heads.get(r["station"]) != r["head_hash"]:
            lost += 1  # the same count but another chain: count it as a loss
    done = subprocess.run(
        [sys.executable, "-m", "inspect_station", "verify", "--central", admin],
        capture_output=True,
        text=True,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    verdict = lines[-1] if lines else f"exit {done.returncode}"
    if done.returncode != 0:
        verdict = f"FAILED (exit {done.returncode}): {verdict}"
    return lost, duplicated, verdict


def _taken_by(results: list[dict], moment: float) -> int:
    """Records the central store had acknowledged to the stations ``moment`` s after the start."""
    return sum(max((seq for at, seq in r["acks"] if at <= moment), default=0) for r in results)


def report(run: dict, raw: float) -> dict:
    """Print one plant size's figures; return them for the summary."""
    results = run["results"]
    burst = next(r for r in results if r["station"] == "ST-001")
    others = [r for r in results if r is not burst]
    pre = sum(r["before"] for r in results)
    inf = float("inf")
    everything = max(r["drained"] or inf for r in results)
    together = max((r["drained"] or inf for r in others), default=everything)
    # While every station ships at once: until the last station but the bursting one is in.
    concurrent = _taken_by(results, together) / together if together < inf else 0.0
    overall = _taken_by(results, everything) / everything
    moments = sorted({at for r in results for at, _ in r["acks"]})
    peak = 0.0
    window = min(1.0, everything)
    for t0 in [0.0, *moments]:  # the most the central store took in any second
        if t0 + window <= everything:
            peak = max(peak, (_taken_by(results, t0 + window) - _taken_by(results, t0)) / window)
    live = [x for r in others for x in r["latencies"]]
    per_station = sorted(
        ((percentile(r["latencies"], 99), r["station"]) for r in others if r["latencies"]),
        reverse=True,
    )
    unacked = sum(r["unacked"] for r in results)
    lost, duplicated, verdict = check(run["admin"], results)
    measured = sum(r["live"] for r in results)
    figures = {
        "stations": run["stations"],
        "records": sum(r["head_seq"] for r in results),
        "ingest": concurrent,
        "ratio": concurrent / raw,
        "overall": overall,
        "peak": peak,
        "p50": percentile(live, 50),
        "p99": percentile(live, 99),
        "worst": per_station[0] if per_station else (0.0, "-"),
        "burst_in": burst["drained"] or inf,
        "lost": lost,
        "duplicated": duplicated,
        "verify": verdict,
    }
    print(f"\n== {run['stations']} stations ==")
    print(
        f"records shipped      : {figures['records']:,} ({pre:,} waiting at the start, "
        f"{measured:,} measurements recorded live)"
    )
    print(f"raw single COPY      : {raw:10,.0f} rows/s (measured just before)")
    print(
        f"aggregate ingest     : {concurrent:10,.0f} records/s while every station shipped its "
        f"backlog ({together:.1f} s): ratio {figures['ratio']:.2f} (goal >= 0.5)"
    )
    print(
        f"                       {overall:10,.0f} records/s until the week-long backlog was in "
        f"too ({everything:.1f} s, its last part one stream); peak {peak:,.0f}/s over 1 s "
        f"(ratio {peak / raw:.2f})"
    )
    print(
        f"commit -> central    : p50 {figures['p50']:.0f} ms, p99 {figures['p99']:.0f} ms over "
        f"the live records of the {len(others)} other stations; worst station p99 "
        f"{figures['worst'][0]:.0f} ms ({figures['worst'][1]}); {unacked} never acknowledged"
    )
    print(
        f"bursting station     : {burst['before']:,} records offline (ST-001), in after "
        f"{figures['burst_in']:.1f} s; its live records queue behind them (chain order): "
        f"p99 {percentile(burst['latencies'], 99):.0f} ms"
    )
    print(f"lost / duplicated    : {lost} / {duplicated}")
    print(f"verify --central     : {verdict}")
    return figures


def main() -> None:
    """Parse arguments, run each plant size, print the figures and a summary table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", default="10,50,100", help="plant sizes, comma-separated")
    parser.add_argument("--backlog", type=int, default=2000, help="records waiting per station")
    parser.add_argument("--burst", type=int, default=20000, help="station 1's week offline")
    parser.add_argument("--rate", type=float, default=1.0, help="measurements/s per station")
    parser.add_argument("--seconds", type=float, default=30.0, help="live recording time")
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="records per transaction"
    )
    parser.add_argument("--url", help="administrator URL of a maintenance database")
    parser.add_argument("--dir", type=Path, default=None, help="where the station files go")
    parser.add_argument("--build-timeout", type=float, default=1800.0, help=argparse.SUPPRESS)
    parser.add_argument("--drain-timeout", type=float, default=600.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(x) for x in args.stations.split(",") if x.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="bench-plant-", dir=args.dir))
    server = Server(args.url)
    try:
        rows = []
        for n in sizes:
            raw = raw_rate(server, workdir / f"raw-{n}", max(args.backlog, 6000), args.batch_size)
            rows.append(report(plant(server, args, n, workdir), raw))
    finally:
        server.close()
    print(
        "\nstations  records  ingest/s  ratio  all-in/s  peak/s  p50 ms  p99 ms  worst p99  "
        "burst in  lost dup"
    )
    for f in rows:
        print(
            f"{f['stations']:>8}  {f['records']:>7,}  {f['ingest']:>8,.0f}  {f['ratio']:5.2f}  "
            f"{f['overall']:>8,.0f}  {f['peak']:>6,.0f}  {f['p50']:>6.0f}  {f['p99']:>6.0f}  "
            f"{f['worst'][0]:>9.0f}  {f['burst_in']:>7.1f}s  {f['lost']:>4} {f['duplicated']:>3}"
        )


if __name__ == "__main__":
    main()
