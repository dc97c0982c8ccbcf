"""What the screens show: units, marks, keys, messages that end, names that are never cut."""

from __future__ import annotations

from textual.widgets import Static
from uikit import measuring, settle, type_text, wait_until

from inspect_station.tui.keybar import KeyBar
from inspect_station.tui.screens.dialogs import ManualEntryDialog, TextDialog
from inspect_station.tui.screens.measure import MeasureScreen
from inspect_station.tui.widgets import CharacteristicTable, fit


def message(app) -> str:
    """The current screen's message line."""
    return str(app.screen.query_one("#message", Static).render())


def cells(screen: MeasureScreen, char_id: str) -> dict[str, str]:
    """The table row of a characteristic, by column title."""
    table = screen.query_one(CharacteristicTable)
    row = table.rows[table.keys.index(char_id)]
    return {title: row[i] for i, (title, _) in enumerate(table.columns)}


def shown(screen: MeasureScreen, widget_id: str) -> str:
    return str(screen.query_one(widget_id).render())


async def test_an_inch_part_shows_units_values_as_read_and_converted_and_marks(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot, part="SHF", lot="L-IN", lot_size="50", ack=False)
        screen = app.screen
        assert isinstance(screen, MeasureScreen) and screen.spec.part_number == "SHF-220"
        assert cells(screen, "1")["Unit"] == "in" and cells(screen, "5")["Unit"] == "um"
        # 1: the micrometer is not to hand: typed, with a reason -> M
        await pilot.press("m")
        assert isinstance(app.screen, ManualEntryDialog)
        await type_text(pilot, "0.9997")
        await pilot.press("enter", "enter", "enter")  # value, first reason picked, confirmed
        await wait_until(pilot, lambda: "1" in screen.values)
        assert cells(screen, "1")["M/C"] == "M" and cells(screen, "1")["Value"] == "0.9997"
        # 2: the millimetre caliper on an inch part: as read and converted
        station.simulator("CAL-0042").press("216.00")
        await wait_until(pilot, lambda: "2" in screen.values)
        assert cells(screen, "2")["Value"] == "8.503937 ←216.00mm"
        assert cells(screen, "2")["M/C"] == ""
        verdict = shown(screen, "#verdict")
        assert "#2 216.00 mm = 8.503937 in" in verdict and "deviation +0.003937 in" in verdict
        # 2 again: a correction, with its reason -> C
        await pilot.press("up")
        station.simulator("CAL-0042").press("215.90")
        await wait_until(pilot, lambda: isinstance(app.screen, TextDialog))
        await type_text(pilot, "caliper slipped")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.values["2"]["value"] == "215.90")
        assert cells(screen, "2")["M/C"] == "C"
        assert cells(screen, "2")["Value"] == "8.500 ←215.90mm"
        await pilot.press("up")  # back to #2 (the station went on to the next open one)
        active = shown(screen, "#active")
        assert "recorded 215.90 mm = 8.500 in → PASS" in active
        assert "C corrected: caliper slipped" in active
    rows = station.service.store.query(
        "SELECT characteristic, source, supersedes IS NOT NULL AS correction FROM measurements"
    )
    assert [(r["characteristic"], r["source"], r["correction"]) for r in rows] == [
        ("1", "manual", 0),
        ("2", "gauge", 0),
        ("2", "gauge", 1),
    ]


async def test_the_live_value_and_the_reading_message_belong_to_this_part(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = app.screen
        station.simulator("CAL-0042").press("120.01")
        await wait_until(pilot, lambda: "1" in screen.values)
        station.simulator("BG-0007").set_value("12.008")
        await pilot.press("space")
        await wait_until(pilot, lambda: "2" in screen.values)
        assert "Reading" not in message(app)  # the reading came: the message is over
        station.simulator("IND-0113").set_value("0.011")
        await pilot.press("space")
        await wait_until(pilot, lambda: "3" in screen.values)
        await pilot.press("p")
        await wait_until(pilot, lambda: "4" in screen.values)
        assert message(app) == "All characteristics measured: N closes the part."
        await pilot.press("n")
        await wait_until(pilot, lambda: screen.serial == "002" and not screen.values)
        active = shown(screen, "#active")  # #1, whose caliper read 120.01 for part 001
        assert "CAL-0042 caliper: live —" in active and "120.01" not in active


async def test_every_key_is_in_the_key_bar_at_80_columns(station):
    app = station.app()
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.screen.query_one(KeyBar)
        sign_in = str(bar.render())
        assert "tab  Next field" in sign_in and "^q  Quit" in sign_in
        await measuring(pilot)
        bar = app.screen.query_one(KeyBar)
        lines = str(bar.render()).splitlines()
        assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
        text = " ".join(lines)
        for key in (
            "↑/↓  Characteristic",
            "space  Read",
            "m  Manual",
            "p/f  Pass/Fail",
            "n  Close part",
            "s  Serial",
            "l  Lot",
            "d  DATA",
            "esc  Job",
            "f2  Sign out",
            "^q  Quit",
        ):
            assert key in text, (key, text)


async def test_ctrl_q_quits_and_the_record_says_the_session_ended(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
    rows = station.service.store.query("SELECT event, reason FROM sign_ins ORDER BY seq")
    assert rows[-1] == {"event": "sign_out", "reason": "station closed"}


async def test_the_next_serial_keeps_the_prefix_of_the_last(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = app.screen
        assert screen.serial == "001"
        await pilot.press("s", "ctrl+a", "ctrl+k")
        await type_text(pilot, "SN-100")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.serial == "SN-100")
        station.simulator("CAL-0042").press("120.01")
        await wait_until(pilot, lambda: "1" in screen.values)
        station.simulator("BG-0007").set_value("12.008")
        await pilot.press("space")
        await wait_until(pilot, lambda: "2" in screen.values)
        station.simulator("IND-0113").set_value("0.011")
        await pilot.press("space")
        await wait_until(pilot, lambda: "3" in screen.values)
        await pilot.press("p")
        await wait_until(pilot, lambda: "4" in screen.values)
        await pilot.press("n")
        await settle(pilot)
        await wait_until(pilot, lambda: screen.serial != "SN-100")
        assert screen.serial == "SN-101"


async def test_long_names_end_in_an_ellipsis_never_a_cut(station):
    app = station.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await measuring(pilot)
        table = app.screen.query_one(CharacteristicTable)
        line = table.render_line(4).text  # row 4: "Thread M6x1, go/no-go"
        assert "Thread M6x1, go/no…" in line
        await pilot.resize_terminal(120, 24)
        await settle(pilot)
        assert "Thread M6x1, go/no-go " in table.render_line(4).text  # room: all of it


def test_fit_cuts_with_an_ellipsis_by_cells():
    assert fit("bore oversize, checked twice", 24) == "bore oversize, checked …"
    assert fit("short", 24) == "short"
    assert fit("Ø bore", 4) == "Ø b…"
    assert fit("漢字漢字", 5) == "漢字…"
