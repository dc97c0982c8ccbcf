"""A demo station on simulated gauges for UI tests, and helpers to wait for it."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from userkit import TEST_SCRYPT_N

from inspect_station.demo import demo_config, ensure_demo_users
from inspect_station.gauges.hub import GaugeHub
from inspect_station.gauges.simulator import SimulatorBank
from inspect_station.station import StationService
from inspect_station.store import LocalStore
from inspect_station.sync import Shipper
from inspect_station.tui.app import StationApp
from inspect_station.tui.demo import DemoControls
from inspect_station.users import UserDirectory, pins
from inspect_station.wiring import build_app, build_service

TODAY = dt.date(2026, 11, 25)


@dataclass
class Station:
    """Everything a UI test needs: the service, the simulators, a way to build the app."""

    service: StationService
    bank: SimulatorBank
    clock: list[float]

    def app(self, seed: int = 7, central: str | None = None) -> StationApp:
        """A fresh app on this station (fixed date, seeded demo values, a settable clock).

        Sync is off unless ``central`` names a central store URL.
        """

        def hub(callback):
            return GaugeHub(self.service.config, on_event=callback, today=lambda: TODAY)

        return build_app(
            self.service,
            demo=DemoControls(self.service, self.bank, random.Random(seed)),
            hub_factory=hub,
            shipper_factory=lambda: (
                Shipper(self.service.store, central, poll_interval=0.2) if central else None
            ),
            clock=lambda: self.clock[0],
        )

    def simulator(self, asset: str):
        """The simulator behind a demo asset."""
        return self.bank.for_asset(self.service.config, asset)


@pytest.fixture(scope="session")
def demo_users_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo record holding only the demo users, made once, their PINs' verifiers at the tests'
    scrypt cost (a session fixture is made before the per-test one that lowers it)."""
    path = tmp_path_factory.mktemp("demo-users") / "demo.db"
    with (
        pytest.MonkeyPatch.context() as patch,
        LocalStore(path, demo_config(path.parent, today=TODAY).station) as store,
    ):
        patch.setattr(pins, "SCRYPT_N", TEST_SCRYPT_N)
        ensure_demo_users(UserDirectory(store))
    return path


@pytest.fixture
def station(tmp_path: Path, demo_users_db: Path) -> Iterator[Station]:
    """The demo station in a temporary folder, with its demo users and simulators running."""
    (tmp_path / "ports").mkdir()
    config = demo_config(tmp_path, today=TODAY)
    shutil.copyfile(demo_users_db, config.db_path)
    service = build_service(config, today=TODAY)
    with SimulatorBank(config) as bank:
        yield Station(service, bank, [1000.0])
    service.store.close()
