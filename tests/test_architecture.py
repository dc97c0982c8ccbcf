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


# Imports the modules one after another in a fresh interpreter and stops at the first one after
# which textual is loaded (printing the modules that were clean before it).
_PROBE = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
    if "textual" in sys.modules:
        print("TEXTUAL", name)
        break
    print("CLEAN", name)
"""


@pytest.fixture(scope="module")
def textual_importers() -> dict[str, str]:
    """Core module -> 'clean' or what importing it on its own did, in as few interpreters as
    possible: one for the whole core when it is clean, one more after each offender."""
    verdicts: dict[str, str] = {}
    todo = list(CORE)
    while todo:
        result = subprocess.run(
            [sys.executable, "-c", _PROBE, *todo], capture_output=True, text=True
        )
        for line in result.stdout.splitlines():
            state, name = line.split(" ", 1)
            verdicts[name] = "clean" if state == "CLEAN" else "imports textual"
        done = [m for m in todo if m in verdicts]
        if not done:  # the first module failed to import at all
            verdicts[todo[0]] = f"does not import: {result.stderr.strip()[-400:]}"
            done = [todo[0]]
        todo = todo[len(done) :]
    return verdicts


@pytest.mark.parametrize("module", CORE)
def test_core_never_imports_textual(module: str, textual_importers: dict[str, str]):
    assert textual_importers[module] == "clean", f"{module} {textual_importers[module]}"


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
