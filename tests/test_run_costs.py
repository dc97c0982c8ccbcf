"""What keeps the default test run short: fewer property examples, bytecode compiled once."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import propertykit
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_default_run_tries_a_tenth_of_each_propertys_examples(monkeypatch):
    monkeypatch.setattr(propertykit, "FULL", False)
    assert [propertykit.examples(n) for n in (30, 300, 1500, 3000)] == [30, 50, 150, 300]


def test_the_full_run_tries_every_example(monkeypatch):
    monkeypatch.setattr(propertykit, "FULL", True)
    assert [propertykit.examples(n) for n in (30, 300, 1500, 3000)] == [30, 300, 1500, 3000]


def test_the_full_run_is_chosen_by_the_environment():
    probe = "import propertykit; print(propertykit.examples(1500))"
    env = {**os.environ, "INSPECT_STATION_PROPERTIES": "full"}
    tests = str(ROOT / "tests")
    full = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=tests, capture_output=True, text=True
    )
    env.pop("INSPECT_STATION_PROPERTIES")
    default = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=tests, capture_output=True, text=True
    )
    assert (full.stdout.strip(), default.stdout.strip()) == ("1500", "150")


def _run_keeps_bytecode() -> bool:
    """Whether the run set its own bytecode cache (see ``conftest._bytecode``)."""
    prefix = os.environ.get("PYTHONPYCACHEPREFIX", "")
    temporary = os.path.join(tempfile.gettempdir(), "inspect-station-tests-pycache-")
    return prefix == os.path.join(sys.prefix, "pycache") or prefix.startswith(temporary)


@pytest.mark.skipif(
    not _run_keeps_bytecode(),
    reason="the run was started with bytecode writing on (or its own PYTHONPYCACHEPREFIX)",
)
def test_a_subprocess_reuses_bytecode_kept_outside_the_checkout():
    prefix = Path(os.environ["PYTHONPYCACHEPREFIX"])
    assert "PYTHONDONTWRITEBYTECODE" not in os.environ
    probe = "import inspect_station.cli.core, sys; print(sys.pycache_prefix)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == str(prefix)
    source = ROOT / "src" / "inspect_station" / "cli" / "core.py"
    kept = list(prefix.rglob("core.cpython-*.pyc"))
    assert any(str(source.parent).lstrip("/") in str(p) for p in kept), kept
    assert not list((ROOT / "src" / "inspect_station").rglob("__pycache__"))
