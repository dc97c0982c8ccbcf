"""Measurements per second through the paths users take vs a raw one-row-per-commit insert.

Paths measured, each against the same raw baseline:

- ``record --stdin`` (the CLI, a real subprocess): once it has acknowledged a warm-up line,
  ``--lines`` JSON lines written to its standard input as fast as it reads them, every
  acknowledgement read back. Printed twice: sustained (from writing the first line to reading
  the last acknowledgement) and end to end (from starting the process).
- the CLI's recording call in-process, one measurement at a time: ``Recorder.measure`` with
  ``auto_close`` (the part's result written with its last measurement), as ``record`` does for
  a lone line;
- the TUI's path in-process: the station's writer thread (``StationWriter``) given the four
  readings of a part at once, as four gauges send them, through ``PartSession.grouped`` (the
  SPC hooks included), then the part's close, as the measure screen submits them: the writer
  commits the four waiting readings together, then the close (two commits per part).

The CPU time ``record --stdin`` used is printed too (per measurement, and the rate that CPU
time alone would allow against the raw rate): on a loaded machine the subprocess waits for a
core far longer than for the disk, which the wall-clock ratio alone hides. The load average is
printed beside the figures.

Baseline: ``sqlite3`` insert of one row of the size a measurement stores, then commit, same
pragmas (WAL, synchronous=FULL), same disk. Each block of every path runs interleaved with a
block of the baseline in the same process so machine noise hits both alike.

    python bench/bench_record.py [--count 1000] [--lines 2000] [--blocks 3] [--dir PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from inspect_station.config import StationConfig
from inspect_station.locations import shipped_specs_dir
from inspect_station.measuring import Capture, PartSession
from inspect_station.measuring.writer import StationWriter
from inspect_station.recording import ManualSource, MeasurementAck, Recorder
from inspect_station.spec import PartSpec, SpecLibrary
from inspect_station.station import StationService
from inspect_station.store import LocalStore
from inspect_station.users import UserDirectory

CHARS = ["1", "2", "3", "4"]
VALUES = {"1": "120.012", "2": "12.006", "3": "0.021", "4": "pass"}


class Raw:
    """The baseline: one row of a measurement's size inserted and committed durably."""

    def __init__(self, path: Path, payload: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute(
            "CREATE TABLE t (seq INTEGER PRIMARY KEY, uuid TEXT, hash TEXT, body TEXT)"
        )
        self.payload = payload
        self.n = 0
        self.time = 0.0

    def block(self, count: int) -> None:
        """Insert and commit ``count`` rows one by one; adds to the totals."""
        start = time.perf_counter()
        for _ in range(count):
            self.n += 1
            self.conn.execute("BEGIN")
            self.conn.execute(
                "INSERT INTO t (seq, uuid, hash, body) VALUES (?, ?, ?, ?)",
                (self.n, f"{self.n:036d}", f"{self.n:064d}", self.payload),
            )
            self.conn.execute("COMMIT")
        self.time += time.perf_counter() - start

    @property
    def rate(self) -> float:
        """Rows per second so far."""
        return self.n / self.time


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cli_block(
    config: Path, db: Path, lot: str, lines: int, first_part: int
) -> tuple[float, float, float]:
    """Feed ``lines`` lines to ``record --stdin``; (sustained seconds, end-to-end seconds,
    CPU seconds the process used for the lines, its start and warm-up left out).

    Sustained: from writing the first of the lines to reading the last acknowledgement, once
    the process is ready (it has acknowledged one warm-up line). End to end: from starting
    the process, the warm-up line included."""
    command = [sys.executable, "-m", "inspect_station", "--config", str(config), "record"]
    command += ["--stdin", "--spec", "BRK-1042", "--lot", lot, "--inspector", "cell"]
    command += ["--db", str(db)]
    payload = []
    for i in range(lines):
        char = CHARS[i % 4]
        serial = f"C{first_part + i // 4}"
        payload.append(
            json.dumps({"serial": serial, "characteristic": char, "value": VALUES[char]})
        )
    data = ("\n".join(payload) + "\n").encode()
    warm_up = json.dumps({"serial": f"W{first_part}", "characteristic": "1", "value": "120.0"})
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(warm_up.encode() + b"\n")
    proc.stdin.flush()
    if not proc.stdout.readline().startswith(b"{"):
        raise SystemExit("record --stdin did not acknowledge the warm-up line")

    def feed() -> None:
        assert proc.stdin is not None
        proc.stdin.write(data)
        proc.stdin.close()

    cpu_before = cpu_seconds(proc.pid)
    fed_at = time.perf_counter()
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    acks = 0
    for _ in proc.stdout:
        acks += 1
        if acks == lines:
            break
    last_at = time.perf_counter()
    cpu = cpu_seconds(proc.pid) - cpu_before  # before it exits (its exit is not the lines')
    acks += sum(1 for _ in proc.stdout)
    proc.wait()
    feeder.join()
    if proc.returncode != 0 or acks != lines:
        raise SystemExit(f"record --stdin failed: exit {proc.returncode}, {acks} acknowledgements")
    return last_at - fed_at, last_at - start, cpu


def main() -> None:
    """Run the benchmark and print rates and their ratios to the baseline."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000, help="measurements per in-process block")
    parser.add_argument("--lines", type=int, default=2000, help="lines per record --stdin run")
    parser.add_argument("--blocks", type=int, default=3, help="interleaved blocks per path")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    args = parser.parse_args()

    spec = SpecLibrary.load([shipped_specs_dir()]).get("BRK-1042@C")
    workdir = Path(tempfile.mkdtemp(prefix="bench-record-", dir=args.dir))
    config = workdir / "station.toml"
    config.write_text('station = "BENCH"\n')
    db = workdir / "station.db"
    store = LocalStore(db, "BENCH")
    users = UserDirectory(store)
    admin = users.bootstrap("bench-admin", "Bench Administrator", "864209")
    users.add("cell", "Bench cell", "cell", None, by=admin, qualifications=["BRK-*"])
    recorder = Recorder(store)
    recorder.open_lot("LOT-B", spec, "cell", lot_size=10_000)
    library = SpecLibrary.load([shipped_specs_dir()])
    service = StationService(StationConfig(station="BENCH", db=db), store, library)
    cell = service.users.get("cell")
    session = PartSession(service, cell, spec, service.lot_progress("LOT-B"))
    writer = StationWriter(service.recorder)

    # Size the raw row like what one measurement stores: its journal row and projection row.
    ack = measure(recorder, spec, "P0", "1", auto_close=False)
    body_len = store.query("SELECT length(body) AS n FROM journal WHERE seq = ?", (ack.seq,))[0]
    row = store.query("SELECT * FROM measurements WHERE seq = ?", (ack.seq,))[0]
    row_len = sum(len(str(v)) for v in row.values() if v is not None)
    raw = Raw(workdir / "raw.db", "x" * (body_len["n"] + row_len))

    cli_sustained = cli_total = 0.0
    cli_n = 0
    cli_path = tui_path = 0.0
    cli_path_n = tui_path_n = 0
    part = 0
    raw_cli = Raw(workdir / "raw-cli.db", raw.payload)
    cli_cpu = 0.0
    for block in range(args.blocks):
        sustained, total, cpu = cli_block(config, db, f"LOT-CLI-{block}", args.lines, part)
        cli_cpu += cpu
        part += args.lines // 4 + 1
        cli_sustained += sustained
        cli_total += total
        cli_n += args.lines
        raw_cli.block(args.lines + 1)

        start = time.perf_counter()
        for i in range(args.count):
            if i % 4 == 0:
                part += 1
            measure(recorder, spec, f"P{part}", CHARS[i % 4], auto_close=True)
        cli_path += time.perf_counter() - start
        cli_path_n += args.count
        raw.block(args.count)

        start = time.perf_counter()
        for _ in range(args.count // 4):
            part += 1
            serial = f"P{part}"
            futures = [
                writer.submit_measurement(
                    session.grouped(
                        Capture(serial, char, VALUES[char], None, ManualSource("benchmark"))
                    )
                )
                for char in CHARS
            ]
            closed = writer.submit(
                lambda serial=serial: recorder.close_inspection(
                    spec=spec, lot="LOT-B", serial=serial, inspector="cell"
                )
            )
            closed.result()
            assert all(isinstance(f.result(), MeasurementAck) for f in futures)
        tui_path += time.perf_counter() - start
        tui_path_n += args.count
        raw.block(args.count)

    writer.shutdown()
    groups = list(writer.groups)
    report = store.verify()
    assert report.ok, report.summary()
    store.close()
    print(f"stored per measurement      : {body_len['n']} + {row_len} bytes (journal + projection)")
    print(f"raw sqlite3 insert+commit   : {raw.rate:8.0f} rows/s (in-process blocks)")
    print(f"raw sqlite3 insert+commit   : {raw_cli.rate:8.0f} rows/s (beside the CLI runs)")
    rate = cli_n / cli_sustained
    print(
        f"record --stdin, sustained   : {rate:8.0f} measurements/s = "
        f"{rate / raw_cli.rate:.2f} x raw (goal >= 2)"
    )
    per = cli_cpu / cli_n
    print(
        f"record --stdin, CPU time    : {per * 1000:8.3f} ms per measurement (sustained part) = "
        f"{1 / per:.0f}/s = {1 / per / raw_cli.rate:.2f} x raw if it had a core to itself"
    )
    rate = (cli_n + args.blocks) / cli_total
    print(
        f"record --stdin, end to end  : {rate:8.0f} measurements/s = "
        f"{rate / raw_cli.rate:.2f} x raw (process start included, {args.lines} lines a run)"
    )
    rate = cli_path_n / cli_path
    print(f"measure(auto_close), 1 by 1 : {rate:8.0f} measurements/s = {rate / raw.rate:.2f} x raw")
    rate = tui_path_n / tui_path
    print(
        f"TUI writer: 4 + close a part: {rate:8.0f} measurements/s = {rate / raw.rate:.2f} x raw "
        f"(last groups: {sum(groups) / max(1, len(groups)):.1f} readings per commit)"
    )
    print(f"{report.summary()}")
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    raw.conn.close()
    raw_cli.conn.close()


def measure(recorder: Recorder, spec: PartSpec, serial: str, char: str, *, auto_close: bool):
    """One measurement of the bench lot, recorded the way the CLI or the TUI records it."""
    return recorder.measure(
        spec=spec,
        lot="LOT-B",
        serial=serial,
        inspector="cell",
        characteristic=char,
        value=VALUES[char],
        source=ManualSource("benchmark"),
        auto_close=auto_close,
    )


if __name__ == "__main__":
    main()
