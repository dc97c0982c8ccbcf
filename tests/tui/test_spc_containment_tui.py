"""At the bench: what the alarm dialog decides for the held part is done -- "reject" makes it a
reject in review's queue (defect SPC) that closing keeps; "reinspect" starts the part in hand
again as its re-inspection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spcstationkit import BASELINE, locked, measure_parts, session_of, spc_station
from test_spc_screens import SIZE, app_of, manual, measure_screen
from textual.widgets import OptionList
from uikit import settle, type_text, wait_until

from inspect_station.records import LocalSource
from inspect_station.review.service import Review
from inspect_station.tui.screens.spc import AlarmDialog
from inspect_station.tui.spc_widgets import ControlChart


async def decide(pilot, downs: int, note: str) -> None:
    """In the alarm dialog: the held parts' decision (``downs`` below release) and the note;
    the cause and action stay as highlighted."""
    dialog = pilot.app.screen
    assert isinstance(dialog, AlarmDialog)
    decision = dialog.query_one("#decision", OptionList)
    dialog.set_focus(decision)
    await settle(pilot)
    assert decision.highlighted == 0
    await pilot.press(*(["down"] * downs), "enter")
    await type_text(pilot, note)
    await pilot.press("enter")


@pytest.fixture
def bench(tmp_path: Path):
    """A station whose SPC-1 #1 has limits locked from ten baseline readings (lot L-0)."""
    service = spc_station(tmp_path)
    session = session_of(service, lot="L-0")
    measure_parts(session, BASELINE)
    locked(service)
    yield service
    service.store.close()


async def alarm_on_part_in_hand(pilot) -> tuple[object, str]:
    """The measure screen after #1 of the part in hand raised an alarm (dialog open)."""
    screen = await measure_screen(pilot)
    chart = screen.query_one("#spc-chart", ControlChart)
    await wait_until(pilot, lambda: chart.data is not None and chart.data.locked)
    await manual(pilot, screen, "1", "10.20")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AlarmDialog))
    return screen, screen.serial


async def test_rejecting_the_held_part_in_the_alarm_dialog_sends_it_to_review(bench):
    app = app_of(bench)
    async with app.run_test(size=SIZE) as pilot:
        screen, serial = await alarm_on_part_in_hand(pilot)
        await decide(pilot, 2, "insert chipped")  # reject the held parts
        await wait_until(pilot, lambda: bench.store.query("SELECT * FROM spc_answers"))
        await settle(pilot)
        assert f"{serial} rejected: reject" in str(screen.query_one("#message").render())
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


async def test_the_part_in_hand_sent_to_reinspection_starts_again_and_closes_there(bench):
    app = app_of(bench)
    async with app.run_test(size=SIZE) as pilot:
        screen, serial = await alarm_on_part_in_hand(pilot)
        await decide(pilot, 1, "gauge re-zeroed")  # reinspect the held parts
        await wait_until(pilot, lambda: bench.store.query("SELECT * FROM reinspections"))
        await wait_until(pilot, lambda: screen.session.ready and not screen.values)
        assert screen.serial == serial
        assert "held until re-measured" in str(screen.query_one("#message").render())
        await manual(pilot, screen, "1", "10.01")
        # Back from 10.20 to 10.01: the moving range alarms (rule 1 on the range chart).
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AlarmDialog))
        await decide(pilot, 0, "range from the outlier before the re-inspection")
        await wait_until(pilot, lambda: len(bench.store.query("SELECT * FROM spc_answers")) == 2)
        await manual(pilot, screen, "2", "5.000")
        await pilot.press("n")
        await wait_until(pilot, lambda: screen.serial != serial)
        (reinspection,) = bench.store.query("SELECT * FROM reinspections")
        (result,) = bench.store.query(
            f"SELECT * FROM results WHERE inspection = '{reinspection['uuid']}'"
        )
        assert result["result"] == "accept"
        others = bench.store.query(
            f"SELECT * FROM results WHERE lot = 'L-1' AND serial = '{serial}' "
            f"AND inspection <> '{reinspection['uuid']}'"
        )
        assert others == []  # the held inspection was never closed
