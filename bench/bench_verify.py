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
of each is compared. The load average is printed beside the figures (the machine is shared).
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
    best = {"raw": float("inf"), "fast": float("inf"), "reference": float("inf")}
    n = len(canonical)
    for _ in range(args.rounds):
        start = time.perf_counter()
        digests = [hashlib.sha256(data).hexdigest() for data in canonical]
        best["raw"] = min(best["raw"], time.perf_counter() - start)
        assert len(digests) == n
        for name in ("fast", "reference"):
            start = time.perf_counter()
            with LocalStore.open_readonly(db) as store:
                if name == "fast":
                    report = store.verify()
                else:
                    report = verify_rows(
                        store.station, store.journal_rows, store._tuples, fast=False
                    )
            best[name] = min(best[name], time.perf_counter() - start)
            assert report.ok and report.count == n, report.summary()
    rate = {name: n / seconds for name, seconds in best.items()}
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min)            : {load} on {os.cpu_count()} cores")
    print(f"raw hashlib.sha256 over canonical bytes: {rate['raw']:12,.0f} records/s")
    print(
        f"verify (chain + projections)           : {rate['fast']:12,.0f} records/s "
        f"(goal >= 100,000), ratio to raw {rate['fast'] / rate['raw']:.3f}"
    )
    print(
        f"reference verify (decode, project)     : {rate['reference']:12,.0f} records/s, "
        f"ratio to raw {rate['reference'] / rate['raw']:.3f}"
    )
    print(
        f"the goal as a share of raw hashing     : {100_000 / rate['raw']:.3f} "
        f"(100,000 records/s over raw in this run); verify reaches {rate['fast'] / rate['raw']:.3f}"
    )
    if args.profile:
        with LocalStore.open_readonly(db) as store:
            profile = cProfile.Profile()
            profile.runcall(store.verify)
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
