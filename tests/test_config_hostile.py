"""A hostile station.toml is one sentence naming file and line, exit 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from inspect_station.cli import main
from inspect_station.text import unsafe

CONFIGS = sorted((Path(__file__).parent / "data" / "config").glob("*.toml"))


def expectation(path: Path) -> tuple[str, str]:
    """(line, message) from the file's first line '# expect: LINE: MESSAGE'."""
    first = path.read_bytes().decode("utf-8", "replace").lstrip("\ufeff").splitlines()[0]
    line, _, message = first.removeprefix("# expect: ").partition(": ")
    return line, message


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_a_hostile_station_toml_is_one_sentence_with_file_and_line(path: Path):
    line, message = expectation(path)
    result = CliRunner().invoke(main, ["--config", str(path), "verify"])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {path}:{line}: {message}"), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not any(unsafe(c) for c in result.output.strip())
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_station_toml_that_is_a_named_pipe_is_refused_without_waiting(tmp_path: Path):
    fifo = tmp_path / "station.toml"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, "-m", "inspect_station", "--config", str(fifo), "verify"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"Error: {fifo}: not a regular file, not a data file"
