"""Memory of ``gauges read`` whose standard output nobody reads, against one whose output is read.

A pseudo-terminal plays a push gauge sending distinct Mitutoyo records as fast as it can (or at
``--rate`` frames per second) for ``--seconds``. Two runs of the real command, one after the
other on the same kind of pty:

- drained:  its stdout is read continuously (the baseline: what the process needs anyway);
- stalled:  its stdout is a pipe nobody reads, so every line it prints blocks.

The resident set size (VmRSS) of each process is sampled at the start and the end; the script
prints both growths and their ratio, and the drops the stalled run reported. Before the queue
was bounded, the stalled run grew without bound (42 -> 96 MB in 40 s at 5,000 frames/s).

    python bench/bench_gauges_read_memory.py [--seconds 20] [--rate 5000]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

from inspect_station.gauges import load_profile
from inspect_station.locations import shipped_gauges_dir

PROFILE = load_profile("mitutoyo-ascii", [shipped_gauges_dir()])


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def run(seconds: float, rate: float, drained: bool, profile_file: Path) -> tuple[int, int, str]:
    """(RSS at start, RSS at end, last stderr line) of one run of ``gauges read``."""
    master, slave = os.openpty()
    tty.setraw(slave)
    port = os.ttyname(slave)
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspect_station", "gauges", "read", "--profile",
         str(profile_file), "--port", port, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stderr.readline()  # "Reading ..."
    proc.stderr.readline()  # "Connected to ..."
    if drained:
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    start = rss_kib(proc.pid)
    end_at = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end_at:
        os.write(master, PROFILE.encode(f"{n % 10000}.{n % 997:03d}"))
        n += 1
        if rate:
            time.sleep(max(0.0, n / rate - (seconds - (end_at - time.monotonic()))))
    end = rss_kib(proc.pid)
    proc.send_signal(signal.SIGINT)
    if not drained:
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    _, err = proc.communicate(timeout=60)
    os.close(master)
    os.close(slave)
    lines = err.decode().strip().splitlines()
    return start, end, lines[-1] if lines else ""


def main() -> None:
    """Run both and print the growth of each and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=5000.0, help="frames/s; 0: flat out")
    args = parser.parse_args()
    text = PROFILE.source.read_text() if PROFILE.source else ""
    profile_file = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-read-caliper.toml"
    profile_file.write_text(text.replace("double_press_window = 0.3", "double_press_window = 0"))
    base = run(args.seconds, args.rate, True, profile_file)
    stalled = run(args.seconds, args.rate, False, profile_file)
    grow_base = max(1, base[1] - base[0])
    grow_stalled = stalled[1] - stalled[0]
    print(f"drained: {base[0] / 1024:.1f} -> {base[1] / 1024:.1f} MB")
    print(f"stalled: {stalled[0] / 1024:.1f} -> {stalled[1] / 1024:.1f} MB  ({stalled[2]})")
    print(f"growth stalled / drained: {grow_stalled / grow_base:.2f}")


if __name__ == "__main__":
    main()
