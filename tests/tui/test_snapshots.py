"""How the screens that matter look, at 80x24 (pytest-textual-snapshot)."""

from __future__ import annotations

import datetime as dt

import pytest
from uikit import all_connected, settle, sign_in, start_lot, type_text, wait_until

from inspect_station import clock

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def _fixed_record_time(monkeypatch):
    """Records shown on screen carry a fixed time, so the snapshots do not change."""
    moment = dt.datetime(2026, 11, 25, 9, 14, 3, tzinfo=dt.UTC)
    monkeypatch.setattr(clock, "utc_now", lambda: moment)


def test_sign_in(station, snap_compare):
    async def before(pilot):
        await all_connected(pilot)
        await type_text(pilot, "demo")

    assert snap_compare(station.app(), run_before=before, terminal_size=SIZE)


async def _measure(pilot, station, length: str):
    await all_connected(pilot)
    await sign_in(pilot)
    await start_lot(pilot, lot="L-2291")
    screen = pilot.app.screen
    station.simulator("CAL-0042").press(length)
    await wait_until(pilot, lambda: "1" in screen.values)
    await settle(pilot)


def test_measure_pass(station, snap_compare):
    async def before(pilot):
        await _measure(pilot, station, "120.04")

    assert snap_compare(station.app(), run_before=before, terminal_size=SIZE)


def test_measure_fail(station, snap_compare):
    async def before(pilot):
        await _measure(pilot, station, "120.12")

    assert snap_compare(station.app(), run_before=before, terminal_size=SIZE)


async def _failing_part(pilot, station):
    await _measure(pilot, station, "120.12")
    screen = pilot.app.screen
    station.simulator("BG-0007").set_value("12.008")
    await pilot.press("space")
    await wait_until(pilot, lambda: "2" in screen.values)
    station.simulator("IND-0113").set_value("0.012")
    await pilot.press("space")
    await wait_until(pilot, lambda: "3" in screen.values)
    await pilot.press("p")
    await wait_until(pilot, lambda: "4" in screen.values)
    await pilot.press("n")
    await settle(pilot)


def test_reject(station, snap_compare):
    async def before(pilot):
        await _failing_part(pilot, station)
        await pilot.press("down")

    assert snap_compare(station.app(), run_before=before, terminal_size=SIZE)


def test_lot_summary(station, snap_compare):
    async def before(pilot):
        await _failing_part(pilot, station)
        await pilot.press("enter")  # D01
        await type_text(pilot, "over length")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)

    assert snap_compare(station.app(), run_before=before, terminal_size=SIZE)


def test_measure_inch_part_manual_and_corrected(station, snap_compare):
    """Unit column, a millimetre reading converted for an inch part, M and C marks."""

    async def before(pilot):
        await all_connected(pilot)
        await sign_in(pilot)
        await start_lot(pilot, part="SHF", lot="L-IN", lot_size="50", ack=False)
        screen = pilot.app.screen
        await pilot.press("m")
        await type_text(pilot, "0.9997")
        await pilot.press("enter", "enter", "enter")
        await wait_until(pilot, lambda: "1" in screen.values)
        station.simulator("CAL-0042").press("216.00")
        await wait_until(pilot, lambda: "2" in screen.values)
        await pilot.press("up")
        station.simulator("CAL-0042").press("215.90")
        await settle(pilot)
        await type_text(pilot, "caliper slipped")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.values["2"]["value"] == "215.90")
        await pilot.press("up")
        await settle(pilot)

    assert snap_compare(station.app(), run_before=before, terminal_size=SIZE)
