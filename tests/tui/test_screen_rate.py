"""The station redraws up to 120 times a second (a verdict waits at most ~8 ms for Textual's next
screen update), unless the user's own TEXTUAL_FPS says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

# Every screen module is inside the package, so importing the package first is what the app does.
PROBE = "import inspect_station.tui, textual.constants as c; print(c.MAX_FPS)"


def _rate(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_station_updates_its_screen_up_to_120_times_a_second():
    assert _rate() == "120"


def test_a_rate_the_user_set_is_kept():
    assert _rate(TEXTUAL_FPS="30") == "30"
