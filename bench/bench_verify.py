"""Records per second of ``verify`` (chain + every projection re-derived) vs raw SHA-256.

The record: the lot ``bench_export.py`` builds (measurements with gauge and manual sources,
parts opened and closed, rejects), ``--measurements`` measurements (about 1.5 records each).

Verify: ``LocalStore.verify()`` on a fresh read-only open of the file, as ``verify`` runs it:
every journal row read, the chain links checked, every record's RFC 8785 bytes hashed (the
stored bytes, their canonical form checked without a decode: ``store/verify_fast.py``), every
projection row derived again and compared with the stored one. The reference verification
(``fast=False``: every body decoded, re-encoded, projected in Python) is timed too.
Baseline: ``hashlib.sha256`` over the same canonical bytes, already in memory (what no verify
can beat: hashing alone). All three alternate ``--rounds`` times in the same process; the best
of each is compared, by the clock and by the CPU time of this process (records per CPU second:
what one core does, less disturbed by the other work on a shared machine). The load average
is printed beside the figures. What SQLite alone takes (the fast path's reads of every span,
without the Python around them) is timed too, as a share of verify's CPU time.
``--profile`` prints where verify's time goes; ``--db`` times an existing record instead of
building one.

    python bench/bench_verify.py [--measurements 100000] [--rounds 3] [--dir PATH] [--profile]
                                 [--db station.db]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_export import build_lot  # the same lot as the export bench (this folder)

from inspect_station.canonical import canonical_bytes
from inspect_station.locations import shipped_specs_dir
from inspect_station.spec import SpecLibrary
from inspect_station.store import LocalStore
from inspect_station.store.verifier import verify_rows


def main() -> None:
    """Build the record, time verify and the raw hashing, print both and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measurements", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    parser.add_argument("--profile", action="store_true", help="print verify's profile")
    parser.add_argument("--db", type=Path, default=None, help="an existing record to verify")
    args = parser.parse_args()

    spec = SpecLibrary.load([shipped_specs_dir()]).get("BRK-1042@C")
    if args.db is None:
        workdir = Path(tempfile.mkdtemp(prefix="bench-verify-", dir=args.dir))
        db = workdir / "station.db"
        with LocalStore(db, "BENCH") as store:
            start = time.perf_counter()
            build_lot(store, spec, "LOT-VERIFY", args.measurements)
            built = time.perf_counter() - start
        print(f"built in {built:.1f} s ({workdir})")
    else:
        db = args.db
    with LocalStore.open_readonly(db) as store:
        canonical = [canonical_bytes(record) for record in store.records()]
    size = sum(len(b) for b in canonical)
    print(f"record: {len(canonical):,} records ({size / len(canonical):.0f} canonical bytes each)")
    names = ("raw", "verify", "reference", "sqlite")
    best = {name: float("inf") for name in names}
    cpu = {name: float("inf") for name in names}
    n = len(canonical)

    def timed(name: str, work: Callable[[], object]) -> object:
        start, start_cpu = time.perf_counter(), time.process_time()
        out = work()
        best[name] = min(best[name], time.perf_counter() - start)
        cpu[name] = min(cpu[name], time.process_time() - start_cpu)
        return out

    def verify(fast: bool) -> object:
        with LocalStore.open_readonly(db) as store:
            report = verify_rows(store.station, store.journal_rows, store._tuples, fast=fast)
        assert report.ok and report.count == n, report.summary()
        return report

    for _ in range(args.rounds):
        digests = timed("raw", lambda: [hashlib.sha256(data).hexdigest() for data in canonical])
        assert len(digests) == n  # type: ignore[arg-type]
        timed("verify", lambda: verify(True))
        timed("reference", lambda: verify(False))
        timed("sqlite", lambda: _sqlite_reads(db, n))
    rate = {name: n / seconds for name, seconds in best.items()}
    rate_cpu = {name: n / seconds for name, seconds in cpu.items()}
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min)            : {load} on {os.cpu_count()} cores")
    print("                                          records/s (clock)   records/CPU-second")
    lines = {
        "raw": "raw hashlib.sha256 over canonical bytes",
        "verify": "verify (chain + projections)",
        "reference": "reference verify (decode, project)",
    }
    for name, label in lines.items():
        ratio = "" if name == "raw" else f"  ratio to raw {rate[name] / rate['raw']:.3f}"
        print(f"{label:41s}: {rate[name]:12,.0f} {rate_cpu[name]:18,.0f}{ratio}")
    print(
        f"the goal as a share of raw hashing     : {100_000 / rate['raw']:.3f} "
        f"(100,000 records/s over raw in this run); verify reaches "
        f"{rate['verify'] / rate['raw']:.3f} (clock), "
        f"{rate_cpu['verify'] / rate_cpu['raw']:.3f} (CPU)"
    )
    print(
        f"SQLite's reads alone (the fast path's) : {cpu['sqlite'] / cpu['verify']:.2f} of verify's "
        f"CPU time; hashing alone {cpu['raw'] / cpu['verify']:.2f}; the Python per record the rest"
    )
    if args.profile:
        with LocalStore.open_readonly(db) as store:
            profile = cProfile.Profile()
            profile.runcall(store.verify)
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


def _sqlite_reads(db: Path, n: int) -> int:
    """What SQLite alone takes in verify: the fast path's reads of every span, nothing else."""
    from inspect_station.store.verifier import SPAN
    from inspect_station.store.verify_fast import COUNT_SQL, SPAN_SQL

    with LocalStore.open_readonly(db) as store:
        for first in range(1, n + 1, SPAN):
            last = min(n, first + SPAN - 1)
            store._tuples(SPAN_SQL, (store.station, first, last))
            store._tuples(COUNT_SQL, (first, last))
    return n


if __name__ == "__main__":
    main()
