"""The station's writer groups: gauge readings waiting together are one durable commit, and
each still shows its own verdict (or its own refusal) on the measure screen."""

from __future__ import annotations

import asyncio
import threading

from textual.message import Message
from textual.pilot import Pilot
from uikit import measuring, settle, wait_until

from inspect_station.tui.screens.measure import MeasureScreen


async def _until(pilot: Pilot, condition, timeout: float = 15.0) -> None:
    """Wait for ``condition`` without queueing anything on the writer (it is held on purpose,
    and a job behind the readings would end their group)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await pilot.pause(0.02)


async def test_readings_waiting_together_are_one_commit_each_with_its_verdict(station):
    shown: dict[int, str] = {}  # a message is seen by the screen, then by the app it bubbles to

    def hook(message: Message) -> None:
        if isinstance(message, MeasureScreen.VerdictShown):
            shown.setdefault(id(message), message.recorded.ack.characteristic)

    app = station.app()
    async with app.run_test(message_hook=hook) as pilot:
        await measuring(pilot)
        screen = app.screen
        assert isinstance(screen, MeasureScreen)
        await wait_until(pilot, lambda: screen.session.ready)  # the part is loaded
        writer = app._writer
        disk, busy = threading.Event(), threading.Event()
        writer.submit(lambda: (busy.set(), disk.wait()))  # the disk is slow: the writer is busy
        seen: list[str] = []
        try:
            await _until(pilot, busy.is_set)  # the writer holds nothing else waiting
            station.simulator("CAL-0042").press("120.01")  # #1, pushed
            await _until(pilot, lambda: writer.waiting() == 1)
            station.simulator("BG-0007").set_value("120.01")  # #2: the length on the bore
            await pilot.press("space")
            await _until(pilot, lambda: writer.waiting() == 2)
            station.simulator("IND-0113").set_value("0.02")  # #3
            await pilot.press("space")
            await _until(pilot, lambda: writer.waiting() == 3)
            store = station.service.store
            store.conn.set_trace_callback(lambda sql: seen.append(sql) if sql == "COMMIT" else None)
        finally:
            disk.set()
        await wait_until(pilot, lambda: "1" in screen.values and "3" in screen.values)
        await settle(pilot)
        assert seen == ["COMMIT"]  # the three readings: one transaction
        assert writer.groups[-1] == 3
        assert list(shown.values()) == ["1", "3"]  # each recorded one shows its verdict, in order
        assert "2" not in screen.values
        message = str(screen.query_one("#message").render())
        assert "#2 not recorded" in message and "plausible" in message
    rows = station.service.store.query(
        "SELECT characteristic, value FROM measurements ORDER BY seq"
    )
    assert [(r["characteristic"], r["value"]) for r in rows] == [("1", "120.01"), ("3", "0.02")]
