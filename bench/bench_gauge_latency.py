"""Latency of a gauge reading: the frame written to a pty -> the reading at the reader's consumer.

Three paths over the same kind of pseudo-terminal (raw mode, 9600 8N1), in the same process,
interleaved in blocks so machine noise hits all alike:

- bare:     the floor: a thread that waits for the port to become readable (``select``) and
            takes whatever is waiting in one ``os.read`` on the port pyserial opened (a
            13-byte frame written in one call arrives in one read), until the frame's ``\\r``;
            latency ends there. Nothing can deliver a reading sooner, so the reader paths'
            overhead below is measured from a true floor (pyserial's ``read_until``, one byte
            per system call, was slower than the reader it was meant to bound);
- callback: a GaugeReader (mitutoyo-ascii profile) reporting to an ``on_event`` callback; latency
            ends when the callback receives the ReadingEvent (how the TUI is fed);
- queue:    the same reader reporting to a ``queue.Queue`` read by another thread; latency ends
            when ``get()`` returns there.

Latency starts just before the ``os.write`` of the whole 13-byte frame to the pty master (one
syscall: its first and last byte are written together). Each frame waits for its reading before
the next is written, and values differ so no frame is taken for a double press.

    python bench/bench_gauge_latency.py [--count 1000] [--blocks 5]
"""

from __future__ import annotations

import argparse
import os
import queue
import select
import statistics
import threading
import time
import tty
from collections.abc import Callable

import serial

from inspect_station.gauges import GaugeReader, ReadingEvent, load_profile
from inspect_station.locations import shipped_gauges_dir

PROFILE = load_profile("mitutoyo-ascii", [shipped_gauges_dir()])


def frame(i: int) -> bytes:
    """A distinct Mitutoyo record for frame number ``i``."""
    return PROFILE.encode(f"{i % 10000}.{i % 997:03d}")


class Pty:
    """A raw pseudo-terminal pair; the master is the simulated gauge's side."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def close(self) -> None:
        """Close both sides."""
        os.close(self.master)
        os.close(self.slave)


def measure(pty: Pty, count: int, start: int, done: threading.Event, stamp: list[int]) -> list[int]:
    """Write ``count`` frames one at a time; nanoseconds from write to the consumer's stamp."""
    out = []
    for i in range(start, start + count):
        data = frame(i)
        done.clear()
        t0 = time.perf_counter_ns()
        os.write(pty.master, data)
        if not done.wait(5):
            raise SystemExit(f"frame {i} never arrived")
        out.append(stamp[0] - t0)
    return out


def bare_block(count: int, start: int) -> list[int]:
    """Latencies of the floor: select, then one read of whatever is waiting."""
    pty = Pty()
    port = serial.Serial(pty.path, 9600, timeout=1)
    done = threading.Event()
    stamp = [0]
    wake_r, wake_w = os.pipe()  # closing the benchmark wakes the select

    def consume() -> None:
        pending = b""
        while True:
            ready, _, _ = select.select([port.fd, wake_r], [], [])
            if wake_r in ready:
                return
            pending += os.read(port.fd, 4096)
            if pending.endswith(b"\r"):
                stamp[0] = time.perf_counter_ns()
                pending = b""
                done.set()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    try:
        return measure(pty, count, start, done, stamp)
    finally:
        os.write(wake_w, b"x")
        thread.join()
        os.close(wake_r)
        os.close(wake_w)
        port.close()
        pty.close()


def reader_block(count: int, start: int, via_queue: bool) -> list[int]:
    """Latencies through a GaugeReader to a callback or through its queue to another thread."""
    pty = Pty()
    done = threading.Event()
    stamp = [0]
    events: queue.Queue = queue.Queue()
    consumer: threading.Thread | None = None

    def on_event(event: object) -> None:
        if isinstance(event, ReadingEvent):
            stamp[0] = time.perf_counter_ns()
            done.set()

    def drain() -> None:
        while True:
            event = events.get()
            if event is None:
                return
            on_event(event)

    callback: Callable[[object], None] | None = None if via_queue else on_event
    reader = GaugeReader(pty.path, PROFILE, on_event=callback, events=events if via_queue else None)
    reader.start(require_port=True)
    if via_queue:
        consumer = threading.Thread(target=drain, daemon=True)
        consumer.start()
    try:
        return measure(pty, count, start, done, stamp)
    finally:
        reader.close()
        if consumer is not None:
            events.put(None)
            consumer.join()
        pty.close()


def percentile(values: list[int], q: float) -> float:
    """The ``q`` quantile (0..1) in microseconds, nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
    return ordered[index] / 1000


def report(name: str, values: list[int]) -> tuple[float, float]:
    """Print one line of figures; return p50 and p99 in microseconds."""
    p50, p99 = percentile(values, 0.50), percentile(values, 0.99)
    print(
        f"{name:<9} n={len(values):>5}  p50 {p50:8.1f} us  p99 {p99:8.1f} us  "
        f"mean {statistics.fmean(values) / 1000:8.1f} us  max {max(values) / 1000:8.1f} us"
    )
    return p50, p99


def main() -> None:
    """Run the benchmark and print p50/p99 per path and the reader's overhead."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000, help="frames per block and path")
    parser.add_argument("--blocks", type=int, default=5, help="interleaved blocks per path")
    args = parser.parse_args()

    results: dict[str, list[int]] = {"bare": [], "callback": [], "queue": []}
    frame_no = 0
    for _ in range(args.blocks):
        results["bare"] += bare_block(args.count, frame_no)
        results["callback"] += reader_block(args.count, frame_no, via_queue=False)
        results["queue"] += reader_block(args.count, frame_no, via_queue=True)
        frame_no += args.count

    print(f"gauge reading latency: {args.blocks} x {args.count} frames per path, pty, 13 bytes")
    _, bare99 = report("bare", results["bare"])
    bare50 = percentile(results["bare"], 0.5)
    for name in ("callback", "queue"):
        p50, p99 = report(name, results[name])
        verdict = "within" if p99 - bare99 <= 2000 else "NOT within"
        print(
            f"          {name} - bare: p50 {p50 - bare50:+.1f} us, p99 {p99 - bare99:+.1f} us "
            f"({verdict} the 2 ms goal)"
        )


if __name__ == "__main__":
    main()
