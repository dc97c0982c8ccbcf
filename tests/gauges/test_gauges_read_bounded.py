"""A reader never blocks on, and never grows, a queue nobody empties: what does not fit is
dropped, counted, and reported where the gap is (``gauges read`` with an unread stdout)."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

from gaugekit import WAIT, quick, shipped
from procs import default_sigint

from inspect_station.gauges import (
    ConnectedEvent,
    DroppedEvent,
    GaugeEvent,
    GaugeReader,
    ReadingEvent,
    simulator_for,
)


def test_a_full_queue_drops_counts_and_reports_the_gap_in_its_place(start_sim):
    profile = quick(shipped("mitutoyo-ascii"), double_press_window=Decimal("0"))
    sim = start_sim(profile)
    events: queue.Queue[GaugeEvent] = queue.Queue(maxsize=3)
    seen: list[GaugeEvent] = []
    connected, twenty = threading.Event(), threading.Event()

    def watch(event: GaugeEvent) -> None:
        seen.append(event)
        if isinstance(event, ConnectedEvent):
            connected.set()
        if sum(isinstance(e, ReadingEvent) for e in seen) == 20:
            twenty.set()

    reader = GaugeReader(sim.port, profile, events=events, on_event=watch)
    reader.start()
    try:
        assert connected.wait(WAIT)
        for n in range(1, 21):
            sim.send_raw(profile.encode(f"{n}.5"))
        assert twenty.wait(WAIT)
        assert events.qsize() == 3  # bounded: never more than the queue holds
        first = [events.get_nowait() for _ in range(3)]
        assert isinstance(first[0], ConnectedEvent)
        assert [e.value for e in first[1:]] == ["1.5", "2.5"]
        assert reader.dropped == 18
        sim.send_raw(profile.encode("21.5"))
        gap = events.get(timeout=WAIT)
        assert isinstance(gap, DroppedEvent) and gap.count == 18
        after = events.get(timeout=WAIT)
        assert isinstance(after, ReadingEvent) and after.value == "21.5"
        assert 2 + gap.count + 1 == 21  # every reading is delivered or counted, none lost
    finally:
        reader.close()


def test_gauges_read_with_an_unread_stdout_drops_and_reports(tmp_path: Path):
    text = (Path(shipped("mitutoyo-ascii").source)).read_text()
    profile_file = tmp_path / "fast-caliper.toml"
    profile_file.write_text(text.replace("double_press_window = 0.3", "double_press_window = 0"))
    profile = quick(shipped("mitutoyo-ascii"))
    sim = simulator_for(profile).start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspect_station", "gauges", "read", "--profile",
         str(profile_file), "--port", sim.port, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=default_sigint,  # Ctrl-C works even in a run that ignores SIGINT
    )  # fmt: skip
    try:
        assert b"Connected" in proc.stderr.readline() + proc.stderr.readline()
        sent = 0
        for n in range(3000):  # far more than the pipe and the queue hold while unread
            sim.send_raw(profile.encode(f"{n}.{n % 1000:03d}"))
            sent += 1
        readings = dropped = 0
        while dropped == 0:  # read on; each line read makes room for one more frame
            line = json.loads(proc.stdout.readline())
            if "dropped" in line:
                dropped += line["dropped"]
            else:
                readings += 1
                assert readings < 10_000, "everything was held: nothing was ever dropped"
                sim.send_raw(profile.encode(f"9{sent}.5"))
                sent += 1
        assert dropped > 0 and readings + dropped <= sent
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=WAIT * 6)
        summary = err.decode().strip().splitlines()[-1]
        total = int(summary.split()[0])
        assert summary == (
            f"{total} events were dropped because the output was not read fast enough."
        )
        assert total >= dropped
        assert b"Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sim.close()
