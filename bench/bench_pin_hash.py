"""What a PIN verifier costs: the scrypt parameters, chosen by this measurement.

For each candidate cost N (r=8, p=1) it prints the time of one verification, its memory, the
ratio to a raw SHA-256 of the PIN (the baseline, measured in the same run), and what trying
every 6-digit PIN against one stolen verifier costs on one core. It then times a whole sign-in
(count the attempt, scrypt, record the outcome: two durable commits) against a bare scrypt
check of the chosen parameters. Nothing here is asserted; the machines are shared and noisy.

    python bench/bench_pin_hash.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from inspect_station.store import LocalStore
from inspect_station.users import UserDirectory
from inspect_station.users.attempts import LOCKOUT, MAX_FAILURES
from inspect_station.users.pins import SCRYPT_N, SCRYPT_P, SCRYPT_R, check_pin, hash_pin

PINS_6 = 10**6
"""Every 6-digit PIN."""


def per_call(fn, rounds: int) -> float:
    """Median seconds of one call of ``fn`` over ``rounds`` calls."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print the cost table and the sign-in path figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="timed calls per figure")
    args = parser.parse_args()
    salt = os.urandom(16)
    raw = per_call(lambda: hashlib.sha256(salt + b"864209").digest(), 1000)
    print(f"baseline: raw SHA-256 of a PIN {raw * 1e6:.2f} µs")
    print(
        f"{'N':>8} {'memory':>8} {'verify':>10} {'x SHA-256':>11} {'all 6-digit PINs, 1 core':>26}"
    )
    for log_n in (14, 15, 16, 17):
        n = 2**log_n
        seconds = per_call(
            lambda n=n: hashlib.scrypt(
                b"864209", salt=salt, n=n, r=8, p=1, dklen=32, maxmem=300 * 2**20
            ),
            args.rounds,
        )
        chosen = " <- chosen" if n == SCRYPT_N else ""
        print(
            f"{n:>8} {128 * 8 * n / 2**20:>6.0f}MiB {seconds * 1000:>8.1f}ms "
            f"{seconds / raw:>11,.0f} {seconds * PINS_6 / 3600:>20,.1f} hours{chosen}"
        )

    verifier = hash_pin("864209")
    bare = per_call(lambda: check_pin("864209", verifier), args.rounds)
    with (
        tempfile.TemporaryDirectory(prefix="bench-pin-") as folder,
        LocalStore(Path(folder) / "station.db", "BENCH-PIN") as store,
    ):
        users = UserDirectory(store)
        users.bootstrap("boss", "Bench Admin", "864209")
        whole = per_call(lambda: users.authenticate("boss", "864209"), args.rounds)
    print(
        f"sign-in, whole path (count, scrypt N={SCRYPT_N} r={SCRYPT_R} p={SCRYPT_P}, record): "
        f"{whole * 1000:.1f} ms vs bare scrypt check {bare * 1000:.1f} ms "
        f"(ratio {whole / bare:.2f})"
    )
    tries_per_day = MAX_FAILURES * (24 * 60 / (LOCKOUT.total_seconds() / 60))
    print(
        f"online guessing at the station: at most {tries_per_day:.0f} tries a day per user "
        f"(lock-out after {MAX_FAILURES} for {LOCKOUT}); half the 6-digit PINs take "
        f"{PINS_6 / 2 / tries_per_day / 365:.0f} years"
    )


if __name__ == "__main__":
    main()
