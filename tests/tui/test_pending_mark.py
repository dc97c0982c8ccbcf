"""A reading being recorded is marked "…" only if its commit is slow: a quick commit goes
straight to the verdict, so the screen redraws once per reading, not twice (the second redraw
waited for the next frame and delayed the verdict)."""

from __future__ import annotations

import asyncio
import threading

from uikit import measuring, settle, wait_until

from inspect_station.tui.screens.measure import VALUE, MeasureScreen
from inspect_station.tui.widgets import CharacteristicTable


def _drawn_values(table: CharacteristicTable) -> list[tuple[str, str]]:
    """Spy on the table: every (characteristic, text) put in its value column."""
    drawn: list[tuple[str, str]] = []
    original = table.set_cells

    def set_cells(key: str, cells: dict[int, str]) -> None:
        if VALUE in cells:
            drawn.append((key, cells[VALUE]))
        original(key, cells)

    table.set_cells = set_cells  # type: ignore[method-assign]
    return drawn


async def test_a_quickly_committed_reading_goes_straight_to_its_value(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = app.screen
        assert isinstance(screen, MeasureScreen)
        drawn = _drawn_values(screen.query_one(CharacteristicTable))
        station.simulator("CAL-0042").press("120.01")
        await wait_until(pilot, lambda: "1" in screen.values)
        await settle(pilot)
        assert ("1", "…") not in drawn
        assert drawn and drawn[-1][0] == "1" and "120.01" in drawn[-1][1]


async def test_a_reading_whose_commit_is_slow_is_marked_until_it_is_recorded(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = app.screen
        assert isinstance(screen, MeasureScreen)
        table = screen.query_one(CharacteristicTable)
        row = table.keys.index("1")
        disk = threading.Event()
        app._writer.submit(disk.wait)  # the disk is slow: the writer is busy
        try:
            station.simulator("CAL-0042").press("120.01")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 15
            # (not wait_until: it waits for the writer, which is what is held up here)
            while table.rows[row][VALUE] != "…" and loop.time() < deadline:
                await pilot.pause(0.02)
            assert table.rows[row][VALUE] == "…" and "1" not in screen.values
        finally:
            disk.set()
        await wait_until(pilot, lambda: "1" in screen.values)
        await settle(pilot)
        assert "120.01" in table.rows[row][VALUE]
