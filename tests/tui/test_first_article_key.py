"""F3 on the job screen declares the lot started next a first article (AS9102)."""

from __future__ import annotations

from textual.widgets import Static
from uikit import all_connected, settle, sign_in, start_lot

from inspect_station.tui.keybar import KeyBar
from inspect_station.tui.screens.job import JobScreen
from inspect_station.tui.screens.measure import MeasureScreen


def message(app) -> str:
    """The current screen's message line."""
    return str(app.screen.query_one("#message", Static).render())


async def test_f3_declares_the_lot_a_first_article(station):
    app = station.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await all_connected(pilot)
        await sign_in(pilot)
        assert isinstance(app.screen, JobScreen)
        bar = " ".join(str(app.screen.query_one(KeyBar).render()).splitlines())
        assert "f3  First article" in bar
        await pilot.press("f3")
        assert message(app).startswith("First article: the lot started next is declared")
        await pilot.press("f3")
        assert message(app) == "Not a first article."
        await pilot.press("f3")
        await start_lot(pilot, lot="FA-LOT")
        await settle(pilot)
        assert isinstance(app.screen, MeasureScreen)
    rows = station.service.store.query("SELECT lot, serial, scope, declared_by FROM first_articles")
    assert rows == [{"lot": "FA-LOT", "serial": None, "scope": "lot", "declared_by": "demo"}]


async def test_without_f3_no_first_article_is_declared(station):
    app = station.app()
    async with app.run_test() as pilot:
        await all_connected(pilot)
        await sign_in(pilot)
        await start_lot(pilot, lot="L-2")
        await settle(pilot)
        assert isinstance(app.screen, MeasureScreen)
    assert station.service.store.query("SELECT * FROM first_articles") == []
