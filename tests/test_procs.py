"""The test suite's own child processes: Ctrl-C works in them and none outlives its test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from procs import Children

# A child that starts a grandchild in its process group, prints both pids and waits.
FAMILY = (
    "import subprocess, sys, time\n"
    "kid = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
    "print(kid.pid, flush=True)\n"
    "time.sleep(120)\n"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by its parent) counts as gone.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def test_kill_all_ends_every_child_and_what_it_started():
    children = Children()
    proc = children.popen([sys.executable, "-c", FAMILY], stdout=subprocess.PIPE, text=True)
    grandchild = int(proc.stdout.readline())
    assert _alive(proc.pid) and _alive(grandchild)
    children.kill_all()
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def test_ctrl_c_works_in_a_child_of_a_run_that_ignores_it():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    children = Children()
    try:
        code = "import sys, time\nprint('ready', flush=True)\ntime.sleep(60)\n"
        proc = children.popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == -signal.SIGINT  # interrupted, not ignored
    finally:
        children.kill_all()
