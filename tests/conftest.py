"""Shared fixtures: named for what they give."""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import keptruns
import pytest
from hypothesis import HealthCheck, settings
from pg import share_servers, stop_shared_server
from procs import Children
from propertykit import FULL
from runorder import spread_waiting_modules
from userkit import TEST_SCRYPT_N

from inspect_station.locations import shipped_specs_dir
from inspect_station.recording import ManualSource, Recorder
from inspect_station.spec import PartSpec, SpecLibrary
from inspect_station.store import LocalStore
from inspect_station.users import pins

DATA = Path(__file__).parent / "data"

# Properties without a count of their own: 50 examples in the default run, hypothesis' own 100
# in the full run (INSPECT_STATION_PROPERTIES=full, CI's second step; see propertykit).
# Input generation is not timed: the machines the suite runs on are shared, and a loaded one made
# hypothesis refuse a property as "too slow" (HealthCheck.too_slow) although nothing was wrong.
_NOT_TIMED = [HealthCheck.too_slow]
settings.register_profile(
    "inspect-station-default", max_examples=50, suppress_health_check=_NOT_TIMED
)
settings.register_profile(
    "inspect-station-full", max_examples=100, suppress_health_check=_NOT_TIMED
)
settings.load_profile("inspect-station-full" if FULL else "inspect-station-default")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move what collection built (every test module, hypothesis, the package) out of the
    garbage collector's way (``gc.freeze``): it lives for the whole run, and each full
    collection walked all of it again."""
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every property (hypothesis) test ``property``, so CI's second step can run them all
    at their full counts (``-m "slow or property"``), and spread the terminal UI's modules
    through the run (``spread_waiting_modules``)."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)
    items[:] = spread_waiting_modules(items)


MEMORY_TEMP = Path("/dev/shm")
"""Where the run's temporary folders go when the machine has it (tmpfs: no disk writes)."""


def _temporary_folders_in_memory(config: pytest.Config) -> None:
    """Give the run's temporary folders a base of their own in memory (``/dev/shm``) unless
        ``--basetemp`` says where.

        The tests write thousands of small SQLite files, each commit made durable (fsync): on a
        disk that is a tenth of the run's time, in memory nothing (the durability the tests check --
        a SIGKILLed writer loses nothing acknowledged -- is the process's, which memory keeps the
        same). The folder is removed when the run passes and kept (its path printed) when it fails;
    the kept folders of earlier runs beyond the newest three go once they are a day old
    (``keptruns.prune``).
    """
    if config.option.basetemp or not (MEMORY_TEMP.is_dir() and os.access(MEMORY_TEMP, os.W_OK)):
        return
    keptruns.prune(MEMORY_TEMP, time.time())
    base = tempfile.mkdtemp(prefix=keptruns.PREFIX, dir=MEMORY_TEMP)
    config.option.basetemp = base
    config.stash[_MEMORY_BASE] = Path(base)


_MEMORY_BASE = pytest.StashKey[Path]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the in-memory temporary folders of a run that passed (see above)."""
    base = session.config.stash.get(_MEMORY_BASE, None)
    if base is None or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    if exitstatus == 0:
        shutil.rmtree(base, ignore_errors=True)
    else:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"temporary folders kept in {base}")


def pytest_configure(config: pytest.Config) -> None:
    """Set up, once in the run's controller, what its workers share: temporary folders in
    memory, one PostgreSQL server (``pg.share_servers``) and compiled modules (``_bytecode``)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    _temporary_folders_in_memory(config)
    share_servers()
    config.add_cleanup(stop_shared_server)
    _bytecode(config)


def _bytecode(config: pytest.Config) -> None:
    """Compile each module once, not once per process and run, when bytecode writing is off.

    With ``PYTHONDONTWRITEBYTECODE`` set (some shells and CI images set it so no ``__pycache__``
    lands in the checkout), every test worker and every CLI subprocess a test starts would compile
    the package's sources and the test modules again (pytest also rewrites each test module's
    asserts: most of what collection costs). The run then writes bytecode into a cache folder of
    its own, never in the checkout: ``pycache`` in the virtual environment the tests run from,
    kept from run to run (a module is compiled again when its source changes, as Python always
    checks), or, outside a virtual environment, a temporary folder removed when the run ends.
    Everything the processes of the run import is looked up there (``PYTHONPYCACHEPREFIX``), so
    a first run also compiles the libraries once. An explicit ``PYTHONPYCACHEPREFIX``, or bytecode
    writing left on, is left as it is.
    """
    if os.environ.get("PYTHONPYCACHEPREFIX"):
        return
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return
    if sys.prefix != sys.base_prefix:
        prefix = os.path.join(sys.prefix, "pycache")
    else:
        prefix = tempfile.mkdtemp(prefix="inspect-station-tests-pycache-")
        config.add_cleanup(lambda: shutil.rmtree(prefix, ignore_errors=True))
    os.environ.pop("PYTHONDONTWRITEBYTECODE")
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Keep every test away from the real user's config and data directories.

    They are named inside the test's own temporary folder (created only if the test writes
    there), so they go with it when the test passes.
    """
    home = tmp_path / ".home"
    monkeypatch.setenv("INSPECT_STATION_DATA", str(home / "data"))
    monkeypatch.delenv("INSPECT_STATION_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))


@pytest.fixture(autouse=True)
def _quick_pin_verifiers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """PINs set in a test get a verifier of a lower scrypt cost (N = 2**10, not 2**15).

    The verifier is real and checked the same way: a verifier carries its own cost, and
    ``check_pin`` runs scrypt at that cost whoever checks it (a CLI subprocess too). Only the
    test run's time is spared (PIN checks were a sixth of it). Tests marked
    ``production_pin_cost`` keep the station's own cost, and check it.
    """
    if request.node.get_closest_marker("production_pin_cost") is None:
        monkeypatch.setattr(pins, "SCRYPT_N", TEST_SCRYPT_N)


@pytest.fixture
def children() -> Iterator[Children]:
    """Start subprocesses (``children.popen``) that are killed, with their process groups, after
    the test, whatever it did; Ctrl-C (SIGINT) works in them even if this run ignores it."""
    started = Children()
    yield started
    started.kill_all()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a station database that does not exist yet."""
    return tmp_path / "station.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[LocalStore]:
    """A fresh local record for station TEST-1."""
    with LocalStore(db_path, "TEST-1") as s:
        yield s


@pytest.fixture(scope="session")
def library() -> SpecLibrary:
    """The shipped demo specs."""
    lib = SpecLibrary.load([shipped_specs_dir()])
    assert not lib.problems
    return lib


@pytest.fixture(scope="session")
def bracket(library: SpecLibrary) -> PartSpec:
    """BRK-1042 revision C (mm; guard band, one-sided, attribute)."""
    return library.get("BRK-1042@C")


@pytest.fixture(scope="session")
def shaft(library: SpecLibrary) -> PartSpec:
    """SHF-220 revision A (inches; rounding, angle, µm)."""
    return library.get("SHF-220@A")


@pytest.fixture
def recorded(store: LocalStore, bracket) -> LocalStore:
    """A store holding one complete part of BRK-1042 C (seq 1 spec, 2 lot, 3 part, 4-7, 8)."""
    recorder = Recorder(store)
    for char, value in [("1", "120.01"), ("2", "12.005"), ("3", "0.02"), ("4", "pass")]:
        recorder.measure(
            spec=bracket,
            lot="L1",
            serial="S1",
            inspector="ann",
            characteristic=char,
            value=value,
            source=ManualSource("test"),
            auto_close=True,
        )
    return store
