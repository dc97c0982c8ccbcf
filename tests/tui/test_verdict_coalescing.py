"""Readings committed in one group are drawn in one screen update: each value in its row, the
verdict panel once with the last verdict, the highlight and its panel once -- and each reading
still tells that its verdict is shown, in order (a stack light, the latency probe)."""

from __future__ import annotations

import asyncio
import threading

from textual.message import Message
from textual.pilot import Pilot
from uikit import measuring, settle, wait_until

from inspect_station.tui.panels import BigVerdict
from inspect_station.tui.screens.measure import RESULT, VALUE, MeasureScreen
from inspect_station.tui.widgets import CharacteristicTable


async def _until(pilot: Pilot, condition, timeout: float = 15.0) -> None:
    """Wait for ``condition`` without queueing anything on the writer (it is held on purpose)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await pilot.pause(0.02)


async def test_three_readings_of_one_commit_are_three_values_one_verdict_panel_update(station):
    shown: dict[int, str] = {}

    def hook(message: Message) -> None:
        if isinstance(message, MeasureScreen.VerdictShown):
            shown.setdefault(id(message), message.recorded.ack.characteristic)

    app = station.app()
    async with app.run_test(message_hook=hook) as pilot:
        await measuring(pilot)
        screen = app.screen
        assert isinstance(screen, MeasureScreen)
        await wait_until(pilot, lambda: screen.session.ready)
        writer = app._writer
        verdict = screen.query_one(BigVerdict)
        panel_updates: list[tuple[bool | None, str]] = []
        original_show = verdict.show

        def counted_show(passed: bool | None, detail: str = "") -> None:
            panel_updates.append((passed, detail))
            original_show(passed, detail)

        verdict.show = counted_show  # type: ignore[method-assign]
        active_updates: list[str] = []
        original_cursor = screen._cursor

        def counted_cursor() -> None:
            active_updates.append(screen.session.active_char.id)
            original_cursor()

        screen._cursor = counted_cursor  # type: ignore[method-assign]
        disk, busy = threading.Event(), threading.Event()
        writer.submit(lambda: (busy.set(), disk.wait()))  # the disk is slow: readings wait
        try:
            await _until(pilot, busy.is_set)
            station.simulator("CAL-0042").press("120.01")  # #1, pushed
            await _until(pilot, lambda: writer.waiting() == 1)
            station.simulator("BG-0007").set_value("12.004")  # #2
            await pilot.press("space")
            await _until(pilot, lambda: writer.waiting() == 2)
            station.simulator("IND-0113").set_value("0.02")  # #3
            await pilot.press("space")
            await _until(pilot, lambda: writer.waiting() == 3)
            panel_updates.clear()
            active_updates.clear()
        finally:
            disk.set()
        # The UI waits here, not taking messages, until the group is committed and its three
        # answers are posted to it: they arrive together, as a group commit's answers do.
        writer.submit(lambda: None).result(timeout=30)
        await settle(pilot)
        assert writer.groups[-1] == 3
        table = screen.query_one(CharacteristicTable)
        rows = {key: row for key, row in zip(table.keys, table.rows, strict=True)}
        assert [rows[c][VALUE] for c in ("1", "2", "3")] == ["120.01", "12.004", "0.02"]
        assert all(rows[c][RESULT] for c in ("1", "2", "3"))
        assert len(panel_updates) == 1  # one verdict panel update for the group ...
        assert panel_updates[0][1].startswith("#3 0.02")  # ... showing the last verdict
        assert "#3 0.02" in str(verdict.render())
        assert len(active_updates) == 1  # the highlight and its panel once
        assert list(shown.values()) == ["1", "2", "3"]  # each reading told, in order
