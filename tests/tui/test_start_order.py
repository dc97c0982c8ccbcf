"""The station's first screen comes first: the shipper starts once the sign-in screen is drawn,
and what it has to say (a central URL it cannot use) still reaches that screen's status bar."""

from __future__ import annotations

from uikit import settle, wait_until

from inspect_station.sync import Shipper
from inspect_station.tui.screens.signin import SignInScreen
from inspect_station.tui.widgets import GaugeStatusBar


def _bar_text(app) -> str:
    return str(app.screen.query_one(GaugeStatusBar).render())


async def test_an_unusable_central_url_is_shown_on_the_sign_in_screen(station):
    app = station.app()
    app._shipper_factory = lambda: Shipper(station.service.store, "ftp://central.example/x")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        assert app.shipper is None
        # Shown when the shipper was refused, not at the status bar's next tick.
        assert "sync off:" in _bar_text(app) and "ftp" in _bar_text(app)


async def test_the_shipper_starts_after_the_first_screen_is_drawn(station, tmp_path):
    central = f"sqlite:///{tmp_path / 'central.db'}"
    app = station.app(central=central)
    screens: list[str] = []
    factory = app._shipper_factory

    def shipper():
        screens.append(type(app.screen).__name__)
        return factory()

    app._shipper_factory = shipper
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.shipper is not None)
        await wait_until(pilot, lambda: "sync:" in _bar_text(app))
    assert screens == ["SignInScreen"]
