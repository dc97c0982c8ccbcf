"""SIGKILL the station's writer while it group-commits readings: acknowledged means on disk.

The child is a station as the app runs it -- a part session handing its captures to the
``StationWriter`` -- fed bursts of readings faster than it commits, so the writer finds several
waiting and records them in one transaction. A reading is acknowledged (a JSON line, what the
screen's verdict is) only once its future completes, after its group's commit. The kill lands
while groups are being written and acknowledged; every acknowledged reading must be in the
record exactly as acknowledged, and the chain intact.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from spcstationkit import spc_station

from inspect_station.store import LocalStore

RUNS = 8

CHILD = """
import json, random, sys, threading
from pathlib import Path

from inspect_station.config import StationConfig
from inspect_station.measuring import Capture, PartSession
from inspect_station.measuring.writer import StationWriter
from inspect_station.recording import ManualSource
from inspect_station.wiring import build_service

db, specs, run = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
service = build_service(StationConfig(station="SPC-BENCH", db=db, specs=[specs]))
user = service.users.get("ann")
spec = service.library.get("SPC-1@A")
writer = StationWriter(service.recorder)
progress = writer.submit(lambda: service.start_lot(user, spec, "LOT-W", lot_size=5000)).result()
session = PartSession(service, user, spec, progress)
out = threading.Lock()


def acked(future):
    error = future.exception()
    if error is not None:
        print(f"refused: {error}", file=sys.stderr, flush=True)
        return
    ack = future.result()
    line = {
        "id": ack.uuid, "seq": ack.seq, "serial": ack.serial,
        "characteristic": ack.characteristic, "value": ack.evaluation.value,
        "group": writer.groups[-1],
    }
    with out:
        sys.stdout.write(json.dumps(line) + "\\n")
        sys.stdout.flush()


rng = random.Random(run)
part = 0
while True:
    if writer.waiting() > 60:
        writer.submit(lambda: None).result()  # let the writer catch up a little
        continue
    for _ in range(rng.randint(1, 8)):
        part += 1
        for char, value in (("1", "10.01"), ("2", "5.000")):
            capture = Capture(f"R{run}-P{part}", char, value, None, ManualSource("crash test"))
            writer.submit_measurement(session.grouped(capture)).add_done_callback(acked)
"""


@pytest.mark.slow
def test_sigkill_during_grouped_station_writes_loses_nothing_acknowledged(tmp_path: Path, children):
    service = spc_station(tmp_path)  # the record, its users and the spec
    db, specs = tmp_path / "station.db", tmp_path / "specs"
    service.store.close()
    rng = random.Random(9001)
    acknowledged: dict[str, dict] = {}
    groups: list[int] = []
    for run in range(RUNS):
        proc = children.popen(
            [sys.executable, "-c", CHILD, str(db), str(specs), str(run)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        first = proc.stdout.readline()
        assert first, proc.stderr.read()
        lines = [first]
        time.sleep(rng.uniform(0.0, 0.25))  # where the kill lands: at random in the stream
        os.kill(proc.pid, signal.SIGKILL)
        lines.extend(proc.stdout.read().splitlines())
        stderr = proc.stderr.read()
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert "refused" not in stderr, stderr
        for line in lines:
            if line.strip():
                ack = json.loads(line)
                acknowledged[ack["id"]] = ack
                groups.append(ack["group"])
    assert max(groups) > 1, "the writer never grouped: the test did not test group commit"
    with LocalStore(db, "SPC-BENCH") as store:
        report = store.verify()
        assert report.ok, report.summary()
        rows = {
            r["uuid"]: r
            for r in store.query(
                "SELECT uuid, seq, serial, characteristic, value FROM measurements"
            )
        }
    for uid, ack in acknowledged.items():
        row = rows.get(uid)
        assert row is not None, f"acknowledged measurement {uid} (seq {ack['seq']}) lost"
        assert (row["seq"], row["serial"], row["characteristic"], row["value"]) == (
            ack["seq"],
            ack["serial"],
            ack["characteristic"],
            ack["value"],
        )
    assert len(acknowledged) > RUNS
