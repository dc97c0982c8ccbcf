"""Drive an installed `inspect-station demo` in tmux, as a person at a terminal would.

Used by the tmux test (the program next to the test's Python, or ``$INSPECT_STATION_PROGRAM``)
and by the packaging test (the program of a wheel installed outside the checkout).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from inspect_station.demo import DEMO_STATION
from inspect_station.store import LocalStore

EXITED = "[demo exited with"


class Tmux:
    """One tmux session running a command in an 80x24 terminal."""

    def __init__(self, name: str, command: str, env: dict[str, str]) -> None:
        self.name = name
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        size = ["-x", "80", "-y", "24"]
        run = f"env {exports} {command}"
        subprocess.run(["tmux", "new-session", "-d", "-s", name, *size, run], check=True)

    def screen(self) -> str:
        """What the terminal shows now."""
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-J", "-t", self.name], capture_output=True, text=True
        ).stdout

    def wait_for(self, *texts: str, timeout: float = 20.0) -> str:
        """Wait until one of ``texts`` is on the screen; fail with the screen if none ever is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if any(text in shown for text in texts):
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{texts!r} never appeared; the screen shows:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        """Type like a person: one key (or word) at a time."""
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)
            time.sleep(0.1)

    def close(self) -> None:
        """End the session."""
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def ensure_tmux() -> None:
    """tmux, found or installed with apt-get when running as root; otherwise a clear failure."""
    if shutil.which("tmux"):
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise AssertionError("tmux is needed to drive the demo as a person would: install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "tmux"]):
        subprocess.run(command, env=env, capture_output=True, check=True, timeout=900)


def complete_a_part_in_the_demo(program: Path, data: Path, name: str) -> str:
    """Start ``program demo`` with its data under ``data``, sign in, start a lot, measure and
    close one part with the demo's keys, quit; returns what the terminal shows after the exit."""
    ensure_tmux()
    command = f"sh -c '{shlex.quote(str(program))} demo; echo \"{EXITED} $?]\"; sleep 60'"
    session = Tmux(name, command, {"INSPECT_STATION_DATA": str(data)})
    try:
        session.wait_for("Scan your badge")
        session.keys("demo", "Enter")
        session.keys("314159", "Enter")
        session.wait_for("Unfinished lots")
        session.keys("BRK", "Enter", "LOT-T1", "Enter", "Enter", "200", "Enter")
        session.wait_for("What changed since")
        session.keys("a")
        session.wait_for("part 1 of 50")
        session.wait_for("CAL-0042")
        session.keys("d")  # the caliper's DATA key
        session.wait_for("#2 Bore diameter")
        session.keys("Space")  # the bore gauge: the station polls it
        session.wait_for("#3 Flatness")
        session.keys("d")  # the indicator: DATA, then the station polls it
        session.wait_for("#4 Thread")
        session.keys("p")  # the thread gauge: go
        session.wait_for("All characteristics measured")
        session.keys("n")
        if "REJECT part 001" in session.wait_for("REJECT part 001", "S/N 002"):
            session.keys("Enter", "seen", "Enter")
        session.wait_for("S/N 002")
        session.keys("C-q")
        return session.wait_for(EXITED)
    finally:
        session.close()


def check_the_demo_record(program: Path, data: Path, after_exit: str) -> None:
    """The part is in the demo's record, and the line the demo printed works for the CLI."""
    assert f"{EXITED} 0]" in after_exit, after_exit
    config_file = data / "demo" / "demo.station.toml"
    assert f"inspect-station --config {config_file} verify" in after_exit, after_exit
    with LocalStore(data / "demo" / "demo.db", DEMO_STATION) as store:
        assert store.verify().ok
        rows = store.query("SELECT serial, characteristic, source FROM measurements ORDER BY seq")
        assert [(r["serial"], r["characteristic"]) for r in rows] == [
            ("001", "1"),
            ("001", "2"),
            ("001", "3"),
            ("001", "4"),
        ]
        assert [r["source"] for r in rows] == ["gauge", "gauge", "gauge", "manual"]
        results = store.query("SELECT serial, result FROM results")
        assert len(results) == 1 and results[0]["serial"] == "001"
    env = {**os.environ, "INSPECT_STATION_DATA": str(data)}
    for args in (["--config", str(config_file), "verify"], ["--demo", "trace", "gauge", "BG-0007"]):
        done = subprocess.run(
            [str(program), *args], capture_output=True, text=True, env=env, timeout=60
        )
        assert done.returncode == 0, done.stderr
    assert "LOT-T1" in done.stdout
