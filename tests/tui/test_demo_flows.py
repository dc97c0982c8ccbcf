"""The demo station as a newcomer uses it: D and Space on simulated gauges give values that fit."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import Static
from uikit import measuring, settle, type_text, wait_until

from inspect_station.tui.screens.dialogs import RejectDialog


def message(app) -> str:
    """The current screen's message line."""
    return str(app.screen.query_one("#message", Static).render())


async def test_space_and_d_give_values_that_fit_the_characteristic(station):
    spec = station.service.library.get("BRK-1042@C")
    app = station.app(seed=2)
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = app.screen
        await pilot.press("space")  # the caliper sends by itself: Space cannot ask it
        assert "Press DATA on CAL-0042 (in the demo: D)" in message(app)
        for _ in range(4):
            await pilot.press("d")  # caliper: DATA
            await wait_until(pilot, lambda: "1" in screen.values)
            await pilot.press("space")  # bore gauge: polled
            await wait_until(pilot, lambda: "2" in screen.values)
            await pilot.press("space")  # indicator: polled
            await wait_until(pilot, lambda: "3" in screen.values)
            assert "not recorded" not in message(app), message(app)
            await pilot.press("p")
            await wait_until(pilot, lambda: "4" in screen.values)
            serial = screen.serial
            await pilot.press("n")
            await settle(pilot)
            if isinstance(app.screen, RejectDialog):
                await pilot.press("enter")
                await type_text(pilot, "demo")
                await pilot.press("enter")
                await settle(pilot)
            await wait_until(pilot, lambda s=serial: screen.serial != s)
    rows = station.service.store.query(
        "SELECT characteristic, value, verdict FROM measurements WHERE characteristic != '4'"
    )
    assert len(rows) == 12
    for row in rows:
        ch = spec.get(row["characteristic"])
        low, high = ch.reasonable
        assert low <= Decimal(row["value"]) <= high, row
    assert "12.345" not in {r["value"] for r in rows}  # the profile's fixed display value
    verdicts = [r["verdict"] for r in rows]
    assert verdicts.count("pass") >= 8  # mostly in tolerance
