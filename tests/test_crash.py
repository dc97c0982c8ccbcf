"""SIGKILL a recording process at random moments: acknowledged means on disk, chain intact.

The cell writes bursts of lines, so ``record --stdin`` finds several waiting and records them
with group commit (one transaction per group, each line acknowledged after its group's
commit): the kill lands while groups are being written and acknowledged.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from userkit import add_users

from inspect_station.store import LocalStore

RUNS = 20


def _feed(proc: subprocess.Popen, run: int, stop: threading.Event) -> None:
    """Write measurement lines as fast as the process takes them, complete parts of 4 in bursts
    of 1 to 12 parts, so that the process finds groups of lines waiting."""
    values = {"1": "120.01", "2": "12.005", "3": "0.02", "4": "pass"}
    rng = random.Random(run)
    part = 0
    try:
        while not stop.is_set():
            burst = []
            for _ in range(rng.randint(1, 12)):
                part += 1
                for char, value in values.items():
                    line = {"serial": f"R{run}-P{part}", "characteristic": char, "value": value}
                    burst.append(json.dumps(line) + "\n")
            proc.stdin.write("".join(burst))
            proc.stdin.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass


@pytest.mark.slow
def test_sigkill_never_loses_an_acknowledged_measurement(tmp_path: Path, children):
    db = tmp_path / "crash.db"
    station = "CRASH-1"
    config = tmp_path / "station.toml"
    config.write_text(f'station = "{station}"\n')
    with LocalStore(db, station) as store:  # the automation cell that records
        add_users(store, [("bot", "Crash-test cell", "cell", None, ["BRK-*"])])
    rng = random.Random(2859)
    acknowledged: dict[str, dict] = {}
    for run in range(RUNS):
        proc = children.popen(
            [
                sys.executable,
                "-m",
                "inspect_station",
                "--config",
                str(config),
                "record",
                "--stdin",
                "--spec",
                "BRK-1042",
                "--lot",
                "LOT-CRASH",
                "--inspector",
                "bot",
                "--db",
                str(db),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        stop = threading.Event()
        feeder = threading.Thread(target=_feed, args=(proc, run, stop), daemon=True)
        feeder.start()
        # Wait for the first ack so the kill lands while records are being written.
        first = proc.stdout.readline()
        assert first, proc.stderr.read()
        lines = [first]
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(proc.pid, signal.SIGKILL)
        stop.set()
        lines.extend(proc.stdout.read().splitlines())
        proc.wait()
        feeder.join(timeout=5)
        assert proc.returncode == -signal.SIGKILL
        for line in lines:
            if line.strip():
                ack = json.loads(line)
                acknowledged[ack["id"]] = ack
        assert acknowledged, "no acknowledgement before the kill"
    with LocalStore(db, station) as store:
        report = store.verify()
        assert report.ok, report.summary()
        rows = {
            r["uuid"]: r
            for r in store.query(
                "SELECT uuid, seq, serial, characteristic, value FROM measurements"
            )
        }
        # every acknowledged measurement is present, exactly as acknowledged
        for uid, ack in acknowledged.items():
            row = rows.get(uid)
            assert row is not None, f"acknowledged measurement {uid} (seq {ack['seq']}) lost"
            assert (row["seq"], row["serial"], row["characteristic"], row["value"]) == (
                ack["seq"],
                ack["serial"],
                ack["characteristic"],
                ack["value"],
            )
        # nothing half-written: a part whose four measurements exist has exactly one result
        complete = store.query(
            "SELECT inspection FROM measurements GROUP BY inspection HAVING COUNT(*) = 4"
        )
        results = {r["inspection"] for r in store.query("SELECT inspection FROM results")}
        assert {c["inspection"] for c in complete} == results
    assert len(acknowledged) > RUNS
