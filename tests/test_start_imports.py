"""The station's start imports what its first screen needs, and nothing the inspector reaches
only later: each fresh interpreter starts the station the way ``inspect-station --config FILE``
does (the CLI, the configuration file, ``run_station``'s service and app) up to the first
screen drawn, and reports the modules it had loaded by then. No timing: what is guarded is the
work the start does, which ``bench/bench_footprint.py`` times."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inspect_station.demo import demo_config, station_toml

FIRST_SCREEN = """
import asyncio, json, sys
from pathlib import Path

from inspect_station.cli import Context, spec_skipped
from inspect_station.cli.station import build_app, build_service
from inspect_station.tui.app import StationApp

# What was loaded when the first screen had been drawn: when the station starts its shipper,
# the first thing it does after that.
seen = {}
start_sync = StationApp._start_sync


def noted(self):
    seen.update(screen=type(self.screen).__name__, modules=sorted(sys.modules))
    start_sync(self)


StationApp._start_sync = noted
service = build_service(Context(Path(sys.argv[1])).config, warn=spec_skipped)
app = build_app(service)


async def first_screen():
    async with app.run_test(size=(100, 40)):
        shown = asyncio.Event()
        app.screen.call_after_refresh(shown.set)
        await shown.wait()
        app.warmed_up()  # the screens after sign-in, imported meanwhile on a thread of their own
        later = ("inspect_station.tui.screens.job", "inspect_station.tui.screens.review")
        seen.update(shipping=app.shipper is not None, warmed=all(m in sys.modules for m in later))


asyncio.run(first_screen())
service.store.close()
print(json.dumps(seen))
"""

# Loaded only when the inspector or a command reaches them, never for the first screen.
LATER = {
    # the bench's screens (job, measure, SPC chart) and the review screens
    "inspect_station.tui.screens.job": "the job screen",
    "inspect_station.tui.screens.measure": "the measure screen",
    "inspect_station.tui.screens.review": "the review screen",
    "inspect_station.tui.screens.spc": "the SPC screens",
    "inspect_station.tui.spc_widgets": "the control chart widget",
    "inspect_station.tui.braille_chart": "the control chart's renderer",
    # a part session, its outcomes and live SPC: after a lot is opened
    "inspect_station.measuring.session": "the part session",
    "inspect_station.measuring.outcomes": "the part session's outcomes",
    "inspect_station.measuring.spc": "live SPC",
    "inspect_station.spc.monitor": "the SPC monitor",
    "inspect_station.spc.arl": "ARL",
    "inspect_station.spc.svg": "the SVG chart",
    # a supervisor's review, built on first use
    "inspect_station.review.service": "review of rejects",
    "inspect_station.records.central": "central records",
    # sync starts once the first screen is drawn
    "inspect_station.sync": "the shipper",
    "inspect_station.sync.central_sqlite": "the SQLite central backend",
    "inspect_station.sync.central_pg": "the PostgreSQL central backend",
    "psycopg": "the PostgreSQL driver",
    # other commands' modules
    "inspect_station.cli.core": "record/specs/verify commands",
    "inspect_station.gauges.simulator": "the gauge simulators",
    "inspect_station.tui.demo": "the demo's controls",
    "inspect_station.demo": "the demo",
    "inspect_station.export": "exports",
    "inspect_station.reports": "reports",
    "numpy": "numpy (SPC report)",
    "openpyxl": "spreadsheets",
    "xmlschema": "QIF",
}


def first_screen_modules(config: Path) -> dict:
    """Start the station on ``config`` in a fresh interpreter: its first screen, the modules
    loaded when it was drawn, whether the shipper then started and whether the screens after
    sign-in were imported meanwhile."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_SCREEN, str(config)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["modules"] = set(report["modules"])
    return report


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo station's configuration (real specs, four gauges, a central store) started
    once to its first screen."""
    folder = tmp_path_factory.mktemp("start")
    (folder / "ports").mkdir()
    config = folder / "station.toml"
    config.write_text(station_toml(demo_config(folder)), encoding="utf-8")
    return first_screen_modules(config)


def test_the_station_starts_on_its_sign_in_screen_then_ships_and_loads_what_follows(started):
    modules = started["modules"]
    assert started["screen"] == "SignInScreen"
    assert started["shipping"]  # the configured central store: shipping after the first screen
    assert started["warmed"]  # a sign-in does not wait for the job and review screens' imports
    # What the first screen does need is there: the specs, the record, the gauges, Textual.
    for needed in (
        "inspect_station.spec.model",
        "inspect_station.store.db",
        "inspect_station.gauges.hub",
        "inspect_station.tui.screens.signin",
        "textual",
    ):
        assert needed in modules, needed


@pytest.mark.parametrize("module", sorted(LATER))
def test_the_first_screen_does_not_wait_for(started, module):
    loaded = started["modules"]
    assert module not in loaded, f"{module} ({LATER[module]}) is imported before the first screen"


LAZY_PACKAGES = ("inspect_station.spc", "inspect_station.measuring", "inspect_station.gauges")

EVERY_NAME = """
import importlib, json, pkgutil, sys, types

report = {}
for name in sys.argv[1:]:
    package = importlib.import_module(name)
    # Every module of the package first: a submodule imported after the package could take
    # back a name the package exports (a function named like its module).
    for info in pkgutil.iter_modules(package.__path__, name + "."):
        importlib.import_module(info.name)
    wrong = []
    for export in package.__all__:
        value = getattr(package, export, None)
        if value is None or isinstance(value, types.ModuleType):
            wrong.append(export)
    report[name] = wrong
print(json.dumps(report))
"""


def test_packages_that_import_on_first_use_still_export_every_name():
    done = subprocess.run(
        [sys.executable, "-c", EVERY_NAME, *LAZY_PACKAGES],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {name: [] for name in LAZY_PACKAGES}


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_a_name_a_package_does_not_export_is_an_attribute_error(package):
    module = __import__(package, fromlist=["_"])
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        module.NoSuchName  # noqa: B018
