"""Drive the installed `inspect-station demo` in tmux and complete a part as a person would.

The program is the one installed next to the test's Python, or ``$INSPECT_STATION_PROGRAM``
(what the packaging test sets to the program of a wheel installed outside the checkout).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tmuxkit import check_the_demo_record, complete_a_part_in_the_demo


def installed_program() -> Path:
    """The inspect-station program under test."""
    given = os.environ.get("INSPECT_STATION_PROGRAM")
    program = Path(given) if given else Path(sys.executable).parent / "inspect-station"
    assert program.exists(), f"no inspect-station program at {program}"
    return program


def test_complete_a_part_in_the_installed_demo(tmp_path: Path):
    program = installed_program()
    data = tmp_path / "data"
    shown = complete_a_part_in_the_demo(program, data, f"demo-{tmp_path.name}")
    check_the_demo_record(program, data, shown)
