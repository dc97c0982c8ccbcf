"""Records per second of ``verify`` (chain + every projection re-derived) vs raw SHA-256.

The record: the lot ``bench_export.py`` builds (measurements with gauge and manual sources,
parts opened and closed, rejects), ``--measurements`` measurements (about 1.5 records each).

Verify: ``LocalStore.verify()`` on a fresh read-only open of the file, as ``verify`` runs it:
every journal row read, its body decoded, its RFC 8785 bytes composed and hashed, the chain
links checked, every projection row derived again and compared with the stored one.
Baseline: ``hashlib.sha256`` over the same canonical bytes, already in memory (what no verify
can beat: hashing alone). Both alternate ``--rounds`` times in the same process; the best of
each is compared. ``--profile`` prints where verify's time goes.

    python bench/bench_verify.py [--measurements 100000] [--rounds 3] [--dir PATH] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import tempfile
import time
from pathlib import Path

from bench_export import build_lot  # the same lot as the export bench (this folder)

from inspect_station.canonical import canonical_bytes
from inspect_station.locations import shipped_specs_dir
from inspect_station.spec import SpecLibrary
from inspect_station.store import LocalStore


def main() -> None:
    """Build the record, time verify and the raw hashing, print both and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measurements", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    parser.add_argument("--profile", action="store_true", help="print verify's profile")
    args = parser.parse_args()

    spec = SpecLibrary.load([shipped_specs_dir()]).get("BRK-1042@C")
    workdir = Path(tempfile.mkdtemp(prefix="bench-verify-", dir=args.dir))
    db = workdir / "station.db"
    with LocalStore(db, "BENCH") as store:
        start = time.perf_counter()
        build_lot(store, spec, "LOT-VERIFY", args.measurements)
        built = time.perf_counter() - start
        canonical = [canonical_bytes(record) for record in store.records()]
    size = sum(len(b) for b in canonical)
    print(
        f"record: {len(canonical):,} records ({size / len(canonical):.0f} canonical bytes each), "
        f"built in {built:.1f} s ({workdir})"
    )
    best_verify = best_raw = float("inf")
    for _ in range(args.rounds):
        start = time.perf_counter()
        digests = [hashlib.sha256(data).hexdigest() for data in canonical]
        best_raw = min(best_raw, time.perf_counter() - start)
        assert len(digests) == len(canonical)
        start = time.perf_counter()
        with LocalStore.open_readonly(db) as store:
            report = store.verify()
        best_verify = min(best_verify, time.perf_counter() - start)
        assert report.ok and report.count == len(canonical), report.summary()
    n = len(canonical)
    verify_rate, raw_rate = n / best_verify, n / best_raw
    print(f"raw hashlib.sha256 over canonical bytes: {raw_rate:12,.0f} records/s")
    print(
        f"verify (chain + projections)           : {verify_rate:12,.0f} records/s (goal >= 100,000)"
    )
    print(f"ratio verify / raw                     : {verify_rate / raw_rate:.3f}")
    if args.profile:
        with LocalStore.open_readonly(db) as store:
            profile = cProfile.Profile()
            profile.runcall(store.verify)
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
