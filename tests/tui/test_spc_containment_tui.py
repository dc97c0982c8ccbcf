"""At the bench: an alarm answered "reject" in the alarm dialog makes the held part a reject
(review's queue, defect SPC), and closing it keeps it that reject."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spcstationkit import BASELINE, locked, measure_parts, session_of, spc_station
from test_spc_screens import SIZE, app_of, manual, measure_screen
from uikit import settle, type_text, wait_until

from inspect_station.records import LocalSource
from inspect_station.review.service import Review
from inspect_station.tui.screens.spc import AlarmDialog
from inspect_station.tui.spc_widgets import ControlChart


@pytest.fixture
def bench(tmp_path: Path):
    """A station whose SPC-1 #1 has limits locked from ten baseline readings (lot L-0)."""
    service = spc_station(tmp_path)
    session = session_of(service, lot="L-0")
    measure_parts(session, BASELINE)
    locked(service)
    yield service
    service.store.close()


async def test_rejecting_the_held_part_in_the_alarm_dialog_sends_it_to_review(bench):
    app = app_of(bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await measure_screen(pilot)
        chart = screen.query_one("#spc-chart", ControlChart)
        await wait_until(pilot, lambda: chart.data is not None and chart.data.locked)
        await manual(pilot, screen, "1", "10.20")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AlarmDialog))
        serial = screen.serial
        await pilot.press("down", "enter")  # cause TOOL
        await pilot.press("down", "down", "enter")  # action TOOL
        await pilot.press("down", "down", "enter")  # reject the held parts
        await type_text(pilot, "insert chipped")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bench.store.query("SELECT * FROM spc_answers"))
        await settle(pilot)
        message = str(screen.query_one("#message").render())
        assert f"{serial} rejected: reject" in message
        (answer,) = bench.store.query("SELECT * FROM spc_answers")
        (part,) = json.loads(answer["parts"])
        assert part["decision"] == "reject"
        (reject,) = Review(LocalSource(bench.store), bench.store).queue()
        assert (reject.serial, reject.defect_code, reject.reject) == (serial, "SPC", part["result"])
        await manual(pilot, screen, "2", "5.000")
        await pilot.press("n")  # closing the part keeps the containment reject
        await wait_until(pilot, lambda: screen.serial != serial)
        results = bench.store.query(
            f"SELECT * FROM results WHERE lot = 'L-1' AND serial = '{serial}'"
        )
        assert [r["result"] for r in results] == ["reject"]
