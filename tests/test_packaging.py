"""Packaging, tested as users install: build the wheel, install it outside the checkout, run it.

An editable install (what the other tests run on) hides a package or a data file missing from
the wheel; these tests build the real wheel and install it with its dependencies into a fresh
virtual environment in a temporary folder (``-m slow``: they take a minute).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from tmuxkit import check_the_demo_record, complete_a_part_in_the_demo

from inspect_station import locations

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "inspect_station"


def source_modules() -> list[str]:
    """Every module of the package in the checkout, dotted."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def shipped_files() -> list[str]:
    """Wheel paths of the shipped specs and gauge profiles and of the package's data files."""
    out = [
        f"inspect_station/shipped/specs/{p.name}" for p in sorted((ROOT / "specs").glob("*.toml"))
    ]
    out += [
        f"inspect_station/shipped/gauges/{p.name}" for p in sorted((ROOT / "gauges").glob("*.toml"))
    ]
    for pattern in ("*.tcss", "*.html", "*.json"):
        out += [str(p.relative_to(PACKAGE.parent)) for p in sorted(PACKAGE.rglob(pattern))]
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the checkout."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return next(out.glob("inspect_station-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtual environment outside the checkout with the wheel installed (deleted after)."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    yield venv
    shutil.rmtree(venv, ignore_errors=True)


def _run(program: Path, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(program), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_every_shipped_file(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = [str(p.relative_to(PACKAGE.parent)) for p in sorted(PACKAGE.rglob("*.py"))]
    assert len(modules) == len(source_modules())
    missing = [n for n in [*modules, *shipped_files()] if n not in names]
    assert missing == []


@pytest.mark.slow
def test_the_installed_wheel_runs_outside_the_checkout(installed: Path, tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "INSPECT_STATION_CONFIG")}
    env["INSPECT_STATION_DATA"] = str(tmp_path / "data")
    python, program = installed / "bin" / "python", installed / "bin" / "inspect-station"
    # Every module of the checkout imports from the installed wheel (none from src/).
    code = (
        "import importlib, json, sys\n"
        "print(json.dumps({m: importlib.import_module(m).__file__ for m in sys.argv[1:]}))"
    )
    done = _run(python, "-c", code, *source_modules(), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    files = json.loads(done.stdout)
    assert all(Path(f).is_relative_to(installed) for f in files.values()), files
    done = _run(program, "--help", cwd=tmp_path, env=env)
    assert done.returncode == 0 and "Usage: inspect-station" in done.stdout, done.stderr
    done = _run(program, "specs", "list", cwd=tmp_path, env=env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    listed = {tuple(line.split()[:3:2]) for line in done.stdout.splitlines()}
    assert ("BRK-1042", "C") in listed and len(listed) == len(list((ROOT / "specs").glob("*")))
    done = _run(program, "gauges", "check", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    data = tmp_path / "demo-data"
    shown = complete_a_part_in_the_demo(program, data, f"wheel-{tmp_path.name}")
    check_the_demo_record(program, data, shown)


def test_shipped_files_are_read_from_the_installed_package_first(monkeypatch, tmp_path: Path):
    found = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(locations.importlib.util, "find_spec", lambda name: found)
    assert locations.shipped_specs_dir() == tmp_path  # not the checkout's specs/


def test_a_checkout_is_used_only_when_the_package_ships_nothing(monkeypatch):
    def missing(name: str):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(locations.importlib.util, "find_spec", missing)
    assert locations.shipped_gauges_dir() == ROOT / "gauges"  # an editable install
    monkeypatch.setattr(locations, "_source_checkout_dir", lambda name: None)
    missing_dir = locations.shipped_specs_dir()  # a broken wheel: the place it should be
    assert missing_dir.parts[-2:] == ("shipped", "specs") and not missing_dir.exists()
