"""SPC at the bench: the live chart, the alarm that blocks the next part, the limits screen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spcstationkit import BASELINE, locked, measure_parts, session_of, spc_station
from uikit import settle, sign_in, start_lot, type_text, wait_until
from userkit import PINS

from inspect_station.tui.screens.measure import MeasureScreen
from inspect_station.tui.screens.spc import AlarmDialog, ChartScreen, LimitsScreen
from inspect_station.tui.spc_widgets import ControlChart
from inspect_station.wiring import build_app

SIZE = (132, 32)  # wide enough for the live chart beside the verdict


@pytest.fixture
def bench(tmp_path: Path):
    """A station whose SPC-1 #1 has ten baseline readings (lot L-0), locked or not."""
    service = spc_station(tmp_path)
    session = session_of(service, lot="L-0")
    measure_parts(session, BASELINE)
    yield service
    service.store.close()


def app_of(service):
    return build_app(service, hub_factory=lambda _: None, shipper_factory=lambda: None)


async def measure_screen(pilot) -> MeasureScreen:
    await sign_in(pilot, "ann", PINS["ann"])
    await start_lot(pilot, part="SPC-1", lot="L-1", ack=False)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, MeasureScreen))
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.session.ready)
    return screen


async def manual(pilot, screen: MeasureScreen, char: str, value: str) -> None:
    await pilot.press("m")
    await settle(pilot)
    await type_text(pilot, value)
    await pilot.press("enter")
    await settle(pilot)
    await type_text(pilot, "test bench")
    await pilot.press("enter")
    await wait_until(pilot, lambda: char in screen.values)
    await settle(pilot)


async def test_the_chart_shows_limits_not_locked_and_redraws_only_for_its_data(bench):
    app = app_of(bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await measure_screen(pilot)
        chart = screen.query_one("#spc-chart", ControlChart)
        await wait_until(pilot, lambda: chart.data is not None)
        assert chart.data.title == "#1 Length: limits not locked"
        assert len(chart.data.points) == 10
        drawn = chart.redraws
        await manual(pilot, screen, "1", "10.01")  # #1 has a new point: redrawn for #2 next
        assert screen.session.active_char.id == "2"
        assert chart.data.characteristic.id == "2"
        await wait_until(pilot, lambda: not screen._chart_due)
        before = chart.redraws
        screen._draw_chart()  # same characteristic, same data: nothing is redrawn
        assert chart.redraws == before and before > drawn
        await manual(pilot, screen, "2", "5.001")  # #2's data changed: redrawn
        await wait_until(pilot, lambda: chart.redraws > before)


async def test_an_alarm_blocks_the_next_part_until_answered_with_codes(bench):
    locked(bench)
    app = app_of(bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await measure_screen(pilot)
        chart = screen.query_one("#spc-chart", ControlChart)
        await wait_until(pilot, lambda: chart.data is not None and chart.data.locked)
        assert "SPC alarm" not in str(screen.query_one("KeyBar").render())
        await manual(pilot, screen, "1", "10.20")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AlarmDialog))
        await pilot.press("escape")  # later: the part cannot be closed, no part can be opened
        await settle(pilot)
        await manual(pilot, screen, "2", "5.000")
        await pilot.press("n")
        await settle(pilot)
        assert "A answers it" in str(screen.query_one("#message").render())
        assert not bench.store.query("SELECT * FROM results WHERE lot = 'L-1'")
        await pilot.press("s")
        await type_text(pilot, "099")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.serial != "099"

        assert "a  SPC alarm" in str(screen.query_one("KeyBar").render())
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AlarmDialog))
        await pilot.press("down", "enter")  # cause TOOL
        await pilot.press("down", "down", "enter")  # action TOOL
        await pilot.press("enter")  # release the held parts
        await type_text(pilot, "insert chipped, replaced")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bench.store.query("SELECT * FROM spc_answers"))
        await settle(pilot)
        answer = bench.store.query("SELECT * FROM spc_answers")[0]
        assert (answer["cause"], answer["action"], answer["answered_by"]) == ("TOOL", "TOOL", "ann")
        assert answer["note"] == "insert chipped, replaced"
        assert json.loads(answer["parts"])[0]["decision"] == "release"
        await pilot.press("n")
        await wait_until(pilot, lambda: bench.store.query("SELECT * FROM results WHERE lot='L-1'"))


async def test_the_limits_screen_locks_with_a_supervisor_pin_and_refuses_an_inspector(bench):
    app = app_of(bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await measure_screen(pilot)
        await pilot.press("g")  # the chart, full size
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChartScreen))
        await pilot.press("k")  # its limits
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, LimitsScreen))
        limits = pilot.app.screen
        await pilot.press("f4")
        await wait_until(pilot, lambda: limits.proposal is not None)
        shown = str(limits.query_one("#proposal").render())
        assert "would have alarmed" in shown and "false alarm every" in shown
        limits.query_one("#sup-user").value = "ann"
        limits.query_one("#sup-pin").value = PINS["ann"]
        await pilot.press("f8")
        await wait_until(
            pilot, lambda: "Only a supervisor" in str(limits.query_one("#message").render())
        )
        assert not bench.store.query("SELECT * FROM spc_limits")
        limits.query_one("#sup-user").value = "sam"
        limits.query_one("#sup-pin").value = PINS["sam"]
        await pilot.press("f8")
        await wait_until(pilot, lambda: bench.store.query("SELECT * FROM spc_limits"))
        await pilot.press("escape")
        await pilot.press("escape")
        chart = screen.query_one("#spc-chart", ControlChart)
        await wait_until(pilot, lambda: screen.session.spc.chart("1").locked)
        screen.action_move(0)
        await wait_until(pilot, lambda: chart.data is not None and chart.data.locked)
        assert chart.data.title == "#1 Length: I-MR, limits v1"


def test_measure_screen_with_a_locked_chart(tmp_path, snap_compare):
    """The measure screen at 100x32: #1's chart with its control and tolerance limits."""
    service = spc_station(tmp_path)
    session = session_of(service, lot="L-0")
    measure_parts(session, [*BASELINE, "10.03", "9.99", "10.04"])
    locked(service)
    measure_parts(session, ["10.01", "9.99", "10.03", "10.00", "10.05"])

    async def before(pilot):
        screen = await measure_screen(pilot)
        chart = screen.query_one("#spc-chart", ControlChart)
        await wait_until(pilot, lambda: chart.data is not None and chart.data.locked)
        await settle(pilot)

    try:
        assert snap_compare(app_of(service), run_before=before, terminal_size=SIZE)
    finally:
        service.store.close()


async def test_supervisors_see_open_alarms_in_review_next_to_rejects(bench):
    locked(bench)
    session = session_of(bench, lot="L-9")
    session.open_part()
    session.record(session.manual("1", "10.20", "test bench"))
    app = app_of(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "sam", PINS["sam"])
        await pilot.press("f9")
        await wait_until(pilot, lambda: pilot.app.screen.query("#spc-alarms"))
        line = pilot.app.screen.query_one("#spc-alarms")
        await wait_until(pilot, lambda: "SPC: 1 open alarm(s)" in str(line.render()))
        assert "SPC-1 #1 rule 1 (1 held, SPC-BENCH)" in str(line.render())


async def test_on_a_narrow_terminal_the_verdict_keeps_the_width_and_g_shows_the_chart(bench):
    """At 80 columns the live chart is not squeezed beside the verdict (the reading's details
    would be cut); on a wide terminal it is there, and G shows it full size on either."""
    app = app_of(bench)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await measure_screen(pilot)
        assert not screen.query_one("#spc-chart").display
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, ChartScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.resize_terminal(132, 32)
        await settle(pilot)
        assert screen.query_one("#spc-chart").display


async def test_a_hidden_chart_is_not_plotted_and_is_drawn_up_to_date_when_shown(bench):
    """On a narrow terminal a reading costs no plot nobody sees; widening the terminal shows the
    chart with every point taken meanwhile."""
    app = app_of(bench)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await measure_screen(pilot)
        chart = screen.query_one("#spc-chart", ControlChart)
        drawn = chart.redraws
        await manual(pilot, screen, "1", "10.01")
        await wait_until(pilot, lambda: not screen._chart_due)
        assert chart.redraws == drawn
        await pilot.resize_terminal(132, 32)
        await wait_until(pilot, lambda: chart.redraws > drawn)
        assert chart.data is not None and chart.data.characteristic.id == "2"
        await pilot.press("up")
        await wait_until(pilot, lambda: chart.data.characteristic.id == "1")
        assert len(chart.data.points) == 11
