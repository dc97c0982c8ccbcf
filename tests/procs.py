"""Child processes of a test: Ctrl-C works in them, and none outlives the test.

A test run started with SIGINT ignored (a background job, some CI runners) passes that to every
child, and a Python started so never turns SIGINT into KeyboardInterrupt: ``sync --watch`` could
not be interrupted and would keep running after the test. ``Children.popen`` resets SIGINT to
its default in the child before it starts, and puts the child in a process group of its own, so
that ``kill_all`` (the ``children`` fixture's finalizer) ends it and everything it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any


def default_sigint() -> None:
    """In a new child, before it runs: SIGINT does what Ctrl-C does in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Children:
    """The subprocesses one test started."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[Any]] = []

    def popen(self, args: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """``subprocess.Popen`` in a process group of its own, SIGINT at its default."""
        proc = subprocess.Popen(args, process_group=0, preexec_fn=default_sigint, **kwargs)
        self.started.append(proc)
        return proc

    def kill_all(self) -> None:
        """SIGKILL every child's process group (the child and whatever it started); reap them."""
        for proc in self.started:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        self.started.clear()
