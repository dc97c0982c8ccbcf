"""Keys typed ahead (a badge or barcode scanner, a quick typist) land where they were meant."""

from __future__ import annotations

from textual import events
from textual.widgets import Input
from uikit import settle, sign_in

from inspect_station.tui.screens.dialogs import RevisionDialog
from inspect_station.tui.screens.job import JobScreen


def _keys(text: str) -> list[events.Key]:
    """The key events a terminal sends for ``text`` (``\\r`` is Enter)."""
    return [events.Key("enter", "\r") if c == "\r" else events.Key(c, c) for c in text]


async def test_a_job_typed_ahead_in_one_burst_starts_the_lot(station):
    """Part, lot, an empty work order and the lot size arrive as one burst of keys, with no
    pause for the screen to move the focus: each Enter still moves on from the field it was
    typed into, so the lot size is not typed into the work order."""
    app = station.app()
    async with app.run_test() as pilot:
        await sign_in(pilot)
        assert isinstance(app.screen, JobScreen)
        for key in _keys("BRK\rLOT-T1\r\r200\r"):
            app.post_message(key)
        await settle(pilot, rounds=6)
        shown = {i.id: i.value for i in app.screen.query(Input)}
        assert isinstance(app.screen, RevisionDialog), (shown, app.focused)
        job = app.screen_stack[-2]
        assert job.query_one("#work-order", Input).value == ""
        assert job.query_one("#lot-size", Input).value == "200"
        assert job.query_one("#lot", Input).value == "LOT-T1"
