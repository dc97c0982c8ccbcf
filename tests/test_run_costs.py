"""What keeps the default test run short: fewer property examples, bytecode compiled once."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keptruns
import propertykit
import pytest
import runorder

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


@dataclass
class _Item:
    nodeid: str


def test_the_ui_modules_are_spread_through_the_first_three_quarters_each_kept_whole():
    items = [_Item(f"tests/test_{m:02d}.py::t{t}") for m in range(12) for t in range(3)]
    items[6:6] = [_Item(f"tests/tui/test_u{m}.py::t{t}") for m in range(3) for t in range(2)]
    run = runorder.spread_waiting_modules(items)
    assert sorted(i.nodeid for i in run) == sorted(i.nodeid for i in items)
    modules = [i.nodeid.split("::")[0] for i in run]
    order = [m for k, m in enumerate(modules) if k == 0 or modules[k - 1] != m]
    assert len(order) == len(set(order)), "a module was split"
    assert [m for m in order if "/tui/" not in m] == [f"tests/test_{m:02d}.py" for m in range(12)]
    assert [order.index(f"tests/tui/test_u{m}.py") for m in range(3)] == [3, 7, 11]
    assert order[-3:] == ["tests/test_09.py", "tests/test_10.py", "tests/test_11.py"]
    in_module = [i.nodeid for i in run if i.nodeid.startswith("tests/tui/test_u1.py")]
    assert in_module == ["tests/tui/test_u1.py::t0", "tests/tui/test_u1.py::t1"]


def test_a_run_of_ui_modules_alone_keeps_its_order():
    items = [_Item(f"tests/tui/test_u{m}.py::t") for m in range(3)]
    assert runorder.spread_waiting_modules(items) == items


def test_kept_run_folders_beyond_the_newest_three_go_once_a_day_old(tmp_path: Path):
    now = 1_000_000_000.0
    ages = {"a": 10, "b": 20, "c": 30, "d": 40, "e": 90_000, "f": 100_000, "g": 200_000}
    for name, age in ages.items():
        folder = tmp_path / f"{keptruns.PREFIX}{name}"
        (folder / "popen-gw0").mkdir(parents=True)
        os.utime(folder, (now - age, now - age))
    other = tmp_path / "someone-elses-folder"
    other.mkdir()
    os.utime(other, (0, 0))
    removed = keptruns.prune(tmp_path, now)
    assert sorted(p.name[-1] for p in removed) == ["e", "f", "g"]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [f"{keptruns.PREFIX}{n}" for n in "abcd"] + ["someone-elses-folder"]


def test_a_kept_folder_younger_than_a_day_stays_whatever_its_rank(tmp_path: Path):
    now = 1_000_000_000.0
    for index in range(6):
        folder = tmp_path / f"{keptruns.PREFIX}{index}"
        folder.mkdir()
        os.utime(folder, (now - 3600 * index, now - 3600 * index))
    assert keptruns.prune(tmp_path, now) == []
    assert len(list(tmp_path.iterdir())) == 6
