"""Who signs in: a station without users says how to begin; automation cells never sign in."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static
from uikit import sign_in

from inspect_station.config import StationConfig
from inspect_station.locations import shipped_specs_dir
from inspect_station.tui.app import StationApp
from inspect_station.tui.screens.job import JobScreen
from inspect_station.tui.screens.signin import SignInScreen
from inspect_station.users import UserDirectory
from inspect_station.wiring import build_app, build_service


def bare_app(path: Path) -> StationApp:
    """The station UI on an empty record, with no gauges and no sync."""
    config = StationConfig(station="BENCH-NEW", db=path, specs=[shipped_specs_dir()])
    service = build_service(config)
    return build_app(service, hub_factory=lambda _callback: None, shipper_factory=lambda: None)


async def test_a_station_without_users_says_how_to_add_the_first_administrator(tmp_path: Path):
    app = bare_app(tmp_path / "new.db")
    async with app.run_test() as pilot:
        banner = str(app.screen.query_one("#station-banner", Static).render())
        assert "Station BENCH-NEW has no users yet" in banner
        assert "inspect-station users add ID --name" in banner and "--role admin" in banner
        await sign_in(pilot, "123456", "123456")  # a PIN typed as the user id
        assert isinstance(app.screen, SignInScreen)
    rows = app.service.store.query("SELECT user_id, reason FROM sign_ins")
    assert rows == [{"user_id": "unknown id (6 characters)", "reason": "unknown user"}]
    app.service.store.close()


async def test_an_administrator_signs_in_and_an_automation_cell_cannot(tmp_path: Path):
    app = bare_app(tmp_path / "new.db")
    users = UserDirectory(app.service.store)
    boss = users.bootstrap("boss", "Bea Boss", "864209", qualifications=["*"])
    users.add("CELL-1", "Cell one", "cell", None, by=boss, qualifications=["*"])
    async with app.run_test() as pilot:
        await sign_in(pilot, "CELL-1", "000000")
        message = str(app.screen.query_one("#message", Static).render())
        assert "CELL-1 is an automation cell" in message
        await pilot.press("escape")
        await sign_in(pilot, "boss", "864209")
        assert isinstance(app.screen, JobScreen) and app.user.user_id == "boss"
    app.service.store.close()
