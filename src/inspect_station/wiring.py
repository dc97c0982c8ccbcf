"""Wiring: the one place that builds a station -- its service, then its app -- from a config.

The CLI (``inspect-station``, ``demo``, ``review``) and the UI tests build through these two
functions, so what runs at a bench is what is tested. Nothing here prints: what a user should
hear about (a spec file skipped) goes to the ``warn`` callback the caller gives.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from inspect_station.config import StationConfig
from inspect_station.errors import SpecError
from inspect_station.spec import SpecLibrary
from inspect_station.station import StationService
from inspect_station.store import LocalStore

if TYPE_CHECKING:
    from inspect_station.gauges.events import GaugeEvent
    from inspect_station.gauges.hub import GaugeHub
    from inspect_station.review.service import Review
    from inspect_station.sync import Shipper
    from inspect_station.tui.app import StationApp
    from inspect_station.tui.demo import DemoControls


def _ignore(_problem: str) -> None:
    """Drop a warning."""


def build_service(
    config: StationConfig,
    db: Path | None = None,
    *,
    today: dt.date | None = None,
    warn: Callable[[str], None] = _ignore,
) -> StationService:
    """The station service of a configuration: its specs and its local record (``db``, or the
    configured one). Each spec file skipped is handed to ``warn`` (``file: reason``); no
    released spec at all is a SpecError."""
    library = SpecLibrary.load(config.spec_paths)
    for problem in library.problems:
        warn(problem)
    if not library.released():
        raise SpecError("No released part spec found; check the specs setting.")
    store = LocalStore(db or config.db_path, config.station)
    return StationService(config, store, library, today=today)


def build_app(
    service: StationService,
    *,
    demo: DemoControls | None = None,
    hub_factory: Callable[[Callable[[GaugeEvent], None]], GaugeHub | None] | None = None,
    shipper_factory: Callable[[], Shipper | None] | None = None,
    review: Review | None = None,
    office: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> StationApp:
    """The station UI on ``service``, starting at its sign-in screen.

    By default it reads the configured gauges and ships to the configured central store;
    ``hub_factory`` / ``shipper_factory`` replace either (returning None: none). An office
    terminal (``office``) takes supervisors straight to ``review``'s rejects.
    """
    from inspect_station.tui.app import StationApp
    from inspect_station.tui.screens.signin import SignInScreen

    return StationApp(
        service,
        home=SignInScreen,
        demo=demo,
        hub_factory=hub_factory,
        shipper_factory=shipper_factory,
        review=review,
        office=office,
        clock=clock,
    )
