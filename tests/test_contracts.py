"""The import contracts in pyproject.toml hold, and they do fail when someone breaks them.

`lint-imports` (import-linter) checks the layers, the absence of import circles and which
module owns each external library. These tests run it on the package as it is, then on copies
of the package with one bad import planted, to prove each contract can fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import inspect_station

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(inspect_station.__file__).parent
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(pythonpath: Path | None = None, contract: str | None = None) -> tuple[int, str]:
    """Run lint-imports with the project's contracts (on a planted copy when ``pythonpath``,
    only ``contract`` when given): its exit code and output."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    only = ["--contract", contract] if contract else []
    result = subprocess.run(
        [str(LINT), "--no-cache", "--no-logo", *only, str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=pythonpath or ROOT,
    )
    return result.returncode, result.stdout + result.stderr


def _planted(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of the package with ``line`` appended to ``module`` (a path inside it)."""
    copy = tmp_path / "inspect_station"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / module).open("a", encoding="utf-8") as handle:
        handle.write(f"\n{line}\n")
    return tmp_path


def test_the_import_contracts_hold():
    code, output = _lint()
    assert code == 0, output
    assert "Contracts: 9 kept, 0 broken." in output


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # numbers imports text; text importing numbers back closes a circle inside the core
        # (one layer, so only the circle contract can see it).
        ("text.py", "import inspect_station.numbers", "no-circles"),
        # spec/ reads numbers with the number grammar; numbers importing spec/ back is a circle.
        ("numbers.py", "import inspect_station.spec.model", "no-circles"),
        # The core reaching up into the store.
        ("evaluate.py", "import inspect_station.store.db", "layers"),
        # The store reaching up into the write path.
        ("store/journal.py", "import inspect_station.recording", "layers"),
        # A new top-level module nobody placed in a layer.
        ("newthing.py", "import inspect_station.errors", "layers"),
        # A core module pulling in textual, directly or through the TUI.
        ("sampling.py", "import textual.app", "textual-only-in-tui"),
        ("station.py", "import inspect_station.tui.widgets", "textual-only-in-tui"),
        ("gauges/codec.py", "import serial", "pyserial-owner"),
        ("sync/shipper.py", "import psycopg", "psycopg-owner"),
        ("export/csvfile.py", "import sqlite3", "sqlite-owner"),
        ("export/trace.py", "import inspect_station.review.views", "exports-see-review-queries"),
        ("sync/verify.py", "import click", "click-only-in-cli"),
    ],
)
def test_a_planted_bad_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
):
    code, output = _lint(_planted(tmp_path, module, line), contract)
    assert code == 1, output
    assert "0 kept, 1 broken" in output


def test_the_planted_copy_is_the_one_checked(tmp_path: Path):
    """The copy without a planted import passes: a broken run above is the planted line's."""
    code, output = _lint(_planted(tmp_path, "errors.py", "# nothing planted"))
    assert code == 0, output


def test_ci_checks_the_contracts_and_the_types_before_the_tests():
    ci = (ROOT / ".ci" / "run").read_text()
    command = ci.strip().splitlines()[-1]
    assert command.index("lint-imports") < command.index("pytest")
    assert command.index("mypy") < command.index("pytest")
