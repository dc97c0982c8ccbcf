"""Measurements per second through the whole recording path vs a raw sqlite3 insert + commit.

Whole path: evaluate + journal record (RFC 8785, SHA-256, chain) + projection row + one durable
commit (WAL, synchronous=FULL) per measurement, through ``Recorder.measure``.
Baseline: ``sqlite3`` insert of one row of the same size + commit, same pragmas, same disk.
Both run interleaved in blocks in the same process so machine noise hits both alike.

    python bench/bench_record.py [--count 2000] [--blocks 5] [--dir PATH]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from inspect_station.locations import shipped_specs_dir
from inspect_station.recording import ManualSource, Recorder
from inspect_station.spec import SpecLibrary
from inspect_station.store import LocalStore


def main() -> None:
    """Run the benchmark and print rates and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000, help="measurements per block")
    parser.add_argument("--blocks", type=int, default=5, help="interleaved blocks per side")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    args = parser.parse_args()

    spec = SpecLibrary.load([shipped_specs_dir()]).get("BRK-1042@C")
    workdir = Path(tempfile.mkdtemp(prefix="bench-record-", dir=args.dir))
    store = LocalStore(workdir / "station.db", "BENCH")
    recorder = Recorder(store)
    recorder.open_lot("LOT-B", spec, "bench", lot_size=10_000)

    # Size the raw row like what one measurement stores: its journal row and projection row.
    ack = recorder.measure(
        spec=spec,
        lot="LOT-B",
        serial="P0",
        inspector="bench",
        characteristic="1",
        value="120.012",
        source=ManualSource("benchmark"),
    )
    body_len = store.query("SELECT length(body) AS n FROM journal WHERE seq = ?", (ack.seq,))[0]
    row = store.query("SELECT * FROM measurements WHERE seq = ?", (ack.seq,))[0]
    row_len = sum(len(str(v)) for v in row.values() if v is not None)
    payload = "x" * (body_len["n"] + row_len)

    raw = sqlite3.connect(workdir / "raw.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA synchronous = FULL")
    raw.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, uuid TEXT, hash TEXT, body TEXT)")

    chars = ["1", "2", "3", "4"]
    values = {"1": "120.012", "2": "12.006", "3": "0.021", "4": "pass"}
    whole_time = raw_time = 0.0
    n_whole = n_raw = 0
    part = 0
    for _ in range(args.blocks):
        start = time.perf_counter()
        for i in range(args.count):
            if i % 4 == 0:
                part += 1
            char = chars[i % 4]
            recorder.measure(
                spec=spec,
                lot="LOT-B",
                serial=f"P{part}",
                inspector="bench",
                characteristic=char,
                value=values[char],
                source=ManualSource("benchmark"),
            )
        whole_time += time.perf_counter() - start
        n_whole += args.count

        start = time.perf_counter()
        for _ in range(args.count):
            n_raw += 1
            raw.execute("BEGIN")
            raw.execute(
                "INSERT INTO t (seq, uuid, hash, body) VALUES (?, ?, ?, ?)",
                (n_raw, f"{n_raw:036d}", f"{n_raw:064d}", payload),
            )
            raw.execute("COMMIT")
        raw_time += time.perf_counter() - start

    assert store.verify().ok
    whole_rate = n_whole / whole_time
    raw_rate = n_raw / raw_time
    print(f"stored per measurement  : {body_len['n']} + {row_len} bytes (journal + projection)")
    print(f"whole recording path    : {whole_rate:8.0f} measurements/s ({n_whole} measurements)")
    print(f"raw sqlite3 insert+commit: {raw_rate:8.0f} rows/s ({n_raw} rows)")
    print(f"ratio (goal >= 0.5)     : {whole_rate / raw_rate:.2f}")
    store.close()
    raw.close()


if __name__ == "__main__":
    main()
