"""Whole inspector flows against simulated gauges, driven with Pilot."""

from __future__ import annotations

from textual.widgets import Static
from uikit import measuring, settle, sign_in, start_lot, type_text, wait_until

from inspect_station.gauges.hub import GaugeState
from inspect_station.tui.screens.dialogs import (
    ManualEntryDialog,
    RejectDialog,
    RevisionDialog,
    TextDialog,
)
from inspect_station.tui.screens.job import JobScreen
from inspect_station.tui.screens.measure import MeasureScreen
from inspect_station.tui.screens.signin import SignInScreen


def message(app) -> str:
    """The current screen's message line."""
    return str(app.screen.query_one("#message", Static).render())


async def test_wrong_pin_then_sign_in(station):
    app = station.app()
    async with app.run_test() as pilot:
        await sign_in(pilot, "demo", "0000")
        assert isinstance(app.screen, SignInScreen)
        assert "Wrong PIN (4 tries left)." in message(app)
        await pilot.press("escape")
        await sign_in(pilot, "demo", "314159")
        assert isinstance(app.screen, JobScreen) and app.user.user_id == "demo"
    rows = station.service.store.query("SELECT reason, success FROM sign_ins")
    assert [(r["reason"], r["success"]) for r in rows] == [
        ("wrong PIN", 0),
        (None, 1),
        ("station closed", 1),  # quitting ends the session in the record
    ]


async def test_badge_scan_signs_in(station):
    app = station.app()
    async with app.run_test() as pilot:
        await sign_in(pilot, "BADGE-0002", "271828")
        assert app.user.user_id == "super"


async def test_unqualified_inspector_cannot_start(station):
    app = station.app()
    async with app.run_test() as pilot:
        await sign_in(pilot, "trainee", "141421")
        await start_lot(pilot, ack=False)
        assert isinstance(app.screen, JobScreen)
        assert "Terry Trainee is not qualified to inspect BRK-1042" in message(app)
    assert station.service.store.query("SELECT * FROM lots") == []


async def test_new_revision_is_shown_and_acknowledged_before_measuring(station):
    app = station.app()
    async with app.run_test() as pilot:
        await sign_in(pilot)
        await start_lot(pilot, ack=False)
        assert isinstance(app.screen, RevisionDialog)
        changes = str(app.screen.query_one("#changes", Static).render())
        assert "limits 119.85 … 120.15 mm → 119.90 … 120.10 mm" in changes
        assert "ADDED    #3" in changes
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, MeasureScreen)
    acks = station.service.store.query(
        "SELECT user_id, revision, previous_revision FROM revision_acks"
    )
    assert acks == [{"user_id": "demo", "revision": "C", "previous_revision": "B"}]
    async with station.app().run_test() as pilot:  # not asked twice
        await sign_in(pilot)
        await start_lot(pilot, lot="L-2", ack=False)
        assert isinstance(pilot.app.screen, MeasureScreen)


async def measure_part(pilot, station, values: dict[str, str]) -> MeasureScreen:
    """Measure BRK-1042 C: caliper pushed, bore gauge and indicator polled, thread attribute."""
    screen = pilot.app.screen
    assert isinstance(screen, MeasureScreen)
    caliper = station.simulator("CAL-0042")
    caliper.press(values["1"])
    await wait_until(pilot, lambda: "1" in screen.values)
    station.simulator("BG-0007").set_value(values["2"])
    await pilot.press("space")
    await wait_until(pilot, lambda: "2" in screen.values)
    station.simulator("IND-0113").set_value(values["3"])
    await pilot.press("space")
    await wait_until(pilot, lambda: "3" in screen.values)
    await pilot.press("p" if values["4"] == "pass" else "f")
    await wait_until(pilot, lambda: "4" in screen.values)
    return screen


async def test_measure_a_passing_part_then_a_failing_part_and_reject_it(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = await measure_part(
            pilot, station, {"1": "120.05", "2": "12.008", "3": "0.012", "4": "pass"}
        )
        assert screen.serial == "001"
        assert [screen.values[c]["verdict"] for c in "1234"] == ["pass"] * 4
        await pilot.press("n")
        await settle(pilot)
        assert screen.serial == "002" and screen.values == {}
        assert "Part 001 ACCEPTED" in message(app)
        bells = []
        app.bell = lambda: bells.append(1)
        await measure_part(pilot, station, {"1": "120.11", "2": "12.017", "3": "0.01", "4": "pass"})
        assert (
            screen.values["1"]["verdict"] == "fail" and screen.values["2"]["zone"] == "guard-band"
        )
        assert len(bells) == 2  # a bell on each FAIL
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, RejectDialog)
        await pilot.press("down", "enter")  # D02
        await type_text(pilot, "burr on edge")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and screen.serial == "003"
        assert "Part 002 REJECTED" in message(app)
    store = station.service.store
    results = store.query("SELECT serial, result, failed, defect_code, note FROM results")
    assert results == [
        {"serial": "001", "result": "accept", "failed": "[]", "defect_code": None, "note": None},
        {
            "serial": "002",
            "result": "reject",
            "failed": '["1","2"]',
            "defect_code": "D02",
            "note": "burr on edge",
        },
    ]
    caliper = store.query(
        "SELECT source, gauge_asset, gauge_calibration_due, raw FROM measurements "
        "WHERE serial = '001' AND characteristic = '1'"
    )[0]
    assert caliper == {
        "source": "gauge",
        "gauge_asset": "CAL-0042",
        "gauge_calibration_due": "2027-06-13",
        "raw": "01A+00120.05\r",
    }
    assert store.verify().ok


async def test_unplug_mid_part_manual_entry_then_replug(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = app.screen
        caliper = station.simulator("CAL-0042")
        caliper.unplug()
        await wait_until(
            pilot, lambda: "CAL-0042 UNPLUGGED" in str(screen.query_one("#gauges").render())
        )
        assert "CAL-0042 disconnected" in message(app)
        await pilot.press("m")
        assert isinstance(app.screen, ManualEntryDialog)
        await type_text(pilot, "120.02")
        await pilot.press("enter")  # to the reasons
        await pilot.press("enter")  # first reason: gauge unplugged
        await pilot.press("enter")  # confirm
        await wait_until(pilot, lambda: "1" in screen.values)
        caliper.replug()
        await wait_until(pilot, lambda: app.hub.state("CAL-0042").state is GaugeState.CONNECTED)
        await pilot.press("up")  # back to #1 and re-measure from the gauge: a correction
        caliper.press("120.03")
        await wait_until(pilot, lambda: isinstance(app.screen, TextDialog))
        await type_text(pilot, "gauge back")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.values["1"]["value"] == "120.03")
    rows = station.service.store.query(
        "SELECT value, source, manual_reason, supersedes IS NOT NULL AS corr, reason "
        "FROM measurements ORDER BY seq"
    )
    assert rows == [
        {
            "value": "120.02",
            "source": "manual",
            "manual_reason": "gauge unplugged or not answering",
            "corr": 0,
            "reason": None,
        },
        {
            "value": "120.03",
            "source": "gauge",
            "manual_reason": None,
            "corr": 1,
            "reason": "gauge back",
        },
    ]


async def test_overdue_gauge_is_refused_and_shown_locked(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot, part="SHF", ack=False)
        screen = app.screen
        assert "LOCKED cal. overdue" in str(screen.query_one("#gauges").render())
        for _ in range(2):
            await pilot.press("down")  # #3 keyway depth: the overdue depth gauge
        assert "LOCKED: calibration overdue" in str(screen.query_one("#active").render())
        station.simulator("DG-0301").press("0.130")
        await wait_until(pilot, lambda: "calibration" in message(app))
        assert "DG-0301" in message(app) and "3" not in screen.values
        await pilot.press("space")
        assert "locked (calibration overdue): M for manual entry" in message(app)
    assert station.service.store.query("SELECT * FROM measurements") == []


async def test_implausible_reading_is_refused_not_recorded(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = app.screen
        station.simulator("CAL-0042").press("12.005")  # the bore's value on the length
        await wait_until(pilot, lambda: "not recorded" in message(app))
        assert "not a plausible reading" in message(app)
        assert screen.values == {} and screen.active == 0
    assert station.service.store.query("SELECT * FROM measurements") == []


async def test_idle_timeout_signs_out(station):
    app = station.app()
    async with app.run_test() as pilot:
        await sign_in(pilot)
        assert app.user is not None
        station.clock[0] += app.idle_limit + 1
        await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen))
        assert app.user is None and "idle time-out" in message(app)
    rows = station.service.store.query(
        "SELECT event, reason FROM sign_ins WHERE event = 'sign_out'"
    )
    assert rows == [{"event": "sign_out", "reason": "idle time-out"}]


async def test_demo_key_presses_the_active_gauge(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = app.screen
        await pilot.press("d")  # caliper: push
        await wait_until(pilot, lambda: "1" in screen.values)
        await pilot.press("d")  # bore gauge: poll
        await wait_until(pilot, lambda: "2" in screen.values)
        assert screen.active == 2


async def test_background_sync_ships_measurements_and_shows_status(station, tmp_path):
    central = f"sqlite:///{tmp_path / 'central.db'}"
    app = station.app(central=central)
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = app.screen
        station.simulator("CAL-0042").press("120.01")
        await wait_until(pilot, lambda: "1" in screen.values)
        head = station.service.store.head()[0]
        await wait_until(pilot, lambda: app.shipper.status().acked_seq == head)
        await wait_until(pilot, lambda: "all synced" in str(screen.query_one("#gauges").render()))
    from inspect_station.sync import open_central
    from inspect_station.sync.url import parse_central_url

    store = open_central(parse_central_url(central))
    try:
        heads = {s.station: s for s in store.stations()}
    finally:
        store.close()
    assert heads["DEMO-STATION"].head_seq == head


async def test_resume_an_unfinished_lot_and_part(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot, lot="L-RES")
        screen = app.screen
        station.simulator("CAL-0042").press("120.02")
        await wait_until(pilot, lambda: "1" in screen.values)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, JobScreen)
        lots = app.screen.query_one("#lots")
        await wait_until(pilot, lambda: lots.row_count == 1)
        await pilot.press("f5", "enter")
        await settle(pilot)
        resumed = app.screen
        assert isinstance(resumed, MeasureScreen) and resumed is not screen
        await wait_until(pilot, lambda: "1" in resumed.values)
        assert resumed.serial == "001" and resumed.values["1"]["value"] == "120.02"
        assert resumed.active == 1  # continues with the first open characteristic
