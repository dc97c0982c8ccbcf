"""The hand-over of gauge events to the screen is bounded: one message in the UI's queue for a
whole burst, every reading that fits reaches the screen in order, and what does not fit (the UI
stalled) or cannot be recorded yet (the writer's backlog full) is told, never dropped silently."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

from textual.message import Message
from uikit import measuring, settle, wait_until

from inspect_station.gauges.codec import Reading
from inspect_station.gauges.errors import FrameError
from inspect_station.gauges.events import ErrorEvent, ErrorKind, ReadingEvent
from inspect_station.tui.app import GaugesWaiting
from inspect_station.tui.handover import GaugeInbox
from inspect_station.tui.screens.measure import MeasureScreen


def reading(asset: str, value: str) -> ReadingEvent:
    """A reading of ``asset`` as a reader delivers it."""
    frame = f"{value}\r".encode()
    return ReadingEvent(
        port=f"port-{asset}",
        at=dt.datetime.now(dt.UTC),
        asset=asset,
        reading=Reading(value, "mm", None, None, frame),
    )


def garbage(asset: str) -> ErrorEvent:
    """An error frame event."""
    return ErrorEvent(
        port=f"port-{asset}",
        at=dt.datetime.now(dt.UTC),
        asset=asset,
        kind=ErrorKind.FRAME,
        reason="garbage on the line",
        error=FrameError("garbage on the line", b"\x07?"),
    )


def test_a_burst_is_one_wake_up_and_every_reading_comes_out_in_order():
    wakes: list[int] = []
    inbox = GaugeInbox(lambda: wakes.append(1))
    sent = [reading(f"G{i % 4}", f"10.{i:04d}") for i in range(50)]
    for event in sent:
        inbox.put(event)
    assert len(wakes) == 1  # one message for the UI, not fifty
    taken = inbox.take()
    assert taken.events == sent and not taken.not_taken and not taken.left_out
    inbox.put(reading("G0", "11.0000"))
    assert len(wakes) == 2  # taken: the next event wakes the UI again


def test_a_full_inbox_keeps_what_fits_and_counts_the_rest():
    inbox = GaugeInbox(lambda: None, limit=5)
    sent = [reading("CAL", f"10.{i:04d}") for i in range(8)]
    for event in sent:
        inbox.put(event)
    inbox.put(garbage("CAL"))
    inbox.put(reading("MIC", "0.5000"))
    taken = inbox.take()
    assert taken.events == sent[:5]
    assert taken.not_taken == {"CAL": 3, "MIC": 1} and taken.left_out == 1
    assert inbox.waiting() == 0


async def test_a_flood_of_readings_is_one_message_and_what_did_not_fit_is_told(station):
    posted: list[Message] = []

    def hook(message: Message) -> None:
        if isinstance(message, GaugesWaiting):
            posted.append(message)

    app = station.app()
    async with app.run_test(message_hook=hook) as pilot:
        await settle(pilot)
        posted.clear()
        inbox = app.gauge_inbox
        # The UI thread is busy (this coroutine runs on it): the readers deliver 300 events.
        for i in range(inbox.limit + 44):
            app._from_reader_thread(reading("CAL-0042", f"120.{i % 100:02d}"))
        assert inbox.waiting() == inbox.limit
        await settle(pilot)
        assert len(posted) == 1
        assert inbox.waiting() == 0
        text = str(app.screen.query_one("#message").render())
        assert "Readings not taken (44 from CAL-0042)" in text


async def test_a_reading_beyond_the_recording_backlog_is_refused_aloud_not_lost(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = app.screen
        assert isinstance(screen, MeasureScreen)
        await wait_until(pilot, lambda: screen.session.ready)  # the part is loaded
        writer = app._writer
        writer.backlog = 1
        disk, busy = threading.Event(), threading.Event()
        writer.submit(lambda: (busy.set(), disk.wait()))  # the disk stalls
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while not busy.is_set():  # the writer holds nothing else waiting
            assert loop.time() < deadline, "the writer never started"
            await pilot.pause(0.02)
        try:
            # Two values typed in (the screen's own path from a capture to the writer).
            screen._take(screen.session.manual("1", "120.01", "test bench"))
            assert writer.waiting() == 1
            screen._take(screen.session.manual("2", "12.005", "test bench"))
            message = screen.query_one("#message")
            while "backlog" not in str(message.render()):
                assert loop.time() < deadline, str(message.render())
                await pilot.pause(0.02)
            assert "#2 not recorded: recording backlog" in str(message.render())
        finally:
            disk.set()
        await wait_until(pilot, lambda: "1" in screen.values)
        assert "2" not in screen.values and screen.session.active_char.id == "2"
    rows = station.service.store.query("SELECT characteristic FROM measurements")
    assert [r["characteristic"] for r in rows] == ["1"]
