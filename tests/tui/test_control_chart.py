"""The live control chart widget: what it draws from a characteristic's data, and that it lays
its lines out only when the data, its size or the theme changed (never per screen update)."""

from __future__ import annotations

from pathlib import Path

import pytest
from spcstationkit import BASELINE, locked, measure_part, measure_parts, session_of, spc_station
from textual.app import App, ComposeResult

from inspect_station.tui.spc_widgets import ALARMED, NEWEST, ControlChart


class ChartApp(App[None]):
    """The two charts of the full-size chart screen, nothing else."""

    CSS = "#values { height: 30; } #ranges { height: 12; }"

    def compose(self) -> ComposeResult:
        yield ControlChart(id="values")
        yield ControlChart(spread=True, id="ranges")


@pytest.fixture
def station(tmp_path: Path):
    """SPC-1 #1 with locked limits, then an in-control part and one far above the UCL."""
    service = spc_station(tmp_path)
    session = session_of(service, lot="L-0")
    measure_parts(session, BASELINE)
    locked(service)
    measure_parts(session, ["10.01"])
    measure_part(session, "10.20")  # rule 1: above the UCL; the part stays open (alarm)
    yield session
    service.store.close()


def rows(chart: ControlChart) -> list[str]:
    return chart.text().splitlines()


def row_of(lines: list[str], label: str) -> int:
    return next(r for r, line in enumerate(lines) if line.split("├")[0].strip() == label)


async def test_the_chart_draws_the_limits_the_alarm_and_the_newest_point_where_they_are(station):
    data = station.spc.chart("1")
    assert data is not None and data.locked and data.points[-1].alarmed
    async with ChartApp().run_test(size=(70, 42)) as pilot:
        values = pilot.app.query_one("#values", ControlChart)
        ranges = pilot.app.query_one("#ranges", ControlChart)
        assert values.show(data) and ranges.show(data)
        await pilot.pause()
        lines = rows(values)
        assert lines[0].strip() == "#1 Length: I-MR, limits v1"
        ucl, cl, lcl = (row_of(lines, name) for name in ("UCL", "CL", "LCL"))
        assert ucl < cl < lcl
        newest_row = next(r for r, line in enumerate(lines) if NEWEST in line)
        assert newest_row < ucl  # 10.20 is above the UCL (about 10.05)
        assert lines[newest_row].rstrip().endswith(NEWEST + "│")  # the newest at the right
        assert ALARMED not in "".join(lines)  # the newest point's own marker is on top
        assert lines[-1].split() == ["1", str(len(data.points))]
        spread = rows(ranges)
        assert spread[0].strip() == "moving range"
        assert row_of(spread, "UCL") < row_of(spread, "R̄")
        assert any(NEWEST in line for line in spread)


async def test_the_chart_is_laid_out_again_only_when_its_data_or_size_changed(station):
    data = station.spc.chart("1")
    async with ChartApp().run_test(size=(70, 42)) as pilot:
        chart = pilot.app.query_one("#values", ControlChart)
        chart.show(data)
        await pilot.pause()
        built, drawn = chart.builds, rows(chart)
        assert built >= 1
        assert not chart.show(data)  # the same data: nothing to do
        chart.refresh()  # the screen asks for its lines again (a neighbour changed)
        await pilot.pause()
        assert chart.builds == built and rows(chart) == drawn
        await pilot.resize_terminal(90, 42)
        await pilot.pause()
        assert chart.builds == built + 1 and len(rows(chart)[0]) == 90
        assert chart.show(station.spc.chart("2"))  # another characteristic
        await pilot.pause()
        assert chart.builds == built + 2 and rows(chart)[0].strip().startswith("#2 Bore")
