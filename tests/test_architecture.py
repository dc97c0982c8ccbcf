"""The separations DESIGN.md asks for, checked."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import inspect_station

CORE = sorted(
    m.name
    for m in pkgutil.walk_packages(inspect_station.__path__, "inspect_station.")
    if not m.name.startswith(("inspect_station.tui", "inspect_station.shipped"))
)


@pytest.mark.parametrize("module", CORE)
def test_core_never_imports_textual(module: str):
    code = f"import sys, {module}; sys.exit(1 if 'textual' in sys.modules else 0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} imports textual {result.stderr}"


def test_only_the_store_opens_sqlite_files():
    import pathlib

    root = pathlib.Path(inspect_station.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "sqlite3.connect(" in path.read_text()
        and not str(path.relative_to(root)).startswith(("store/", "sync/"))
    ]
    assert offenders == []
