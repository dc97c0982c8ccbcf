"""Drive the installed `inspect-station demo` in tmux and complete a part as a person would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from inspect_station.demo import DEMO_STATION
from inspect_station.store import LocalStore


class Tmux:
    """One tmux session running a command in an 80x24 terminal."""

    def __init__(self, name: str, command: str, env: dict[str, str]) -> None:
        self.name = name
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "80",
                "-y",
                "24",
                f"env {exports} {command}",
            ],
            check=True,
        )

    def screen(self) -> str:
        """What the terminal shows now."""
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
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
            time.sleep(0.25)

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


def test_complete_a_part_in_the_installed_demo(tmp_path: Path):
    ensure_tmux()
    installed = Path(sys.executable).parent / "inspect-station"
    assert installed.exists(), f"inspect-station is not installed next to {sys.executable}"
    command = str(installed)
    data = tmp_path / "data"
    session = Tmux(f"demo-{tmp_path.name}", command + " demo", {"INSPECT_STATION_DATA": str(data)})
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
        session.keys("d")  # the bore gauge: the station polls it
        session.wait_for("#3 Flatness")
        session.keys("d")  # the indicator
        session.wait_for("#4 Thread")
        session.keys("p")  # the thread gauge: go
        session.wait_for("All characteristics measured")
        session.keys("n")
        if "REJECT part 001" in session.wait_for("REJECT part 001", "S/N 002"):
            session.keys("Enter", "seen", "Enter")
        session.wait_for("S/N 002")
        session.keys("C-q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "demo" in session.screen():
            time.sleep(0.1)
    finally:
        session.close()
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
