"""The screens show data as it is: text that looks like markup neither acts nor crashes, and a
terminal escape held in a record is shown escaped, never sent to the terminal."""

from __future__ import annotations

import pytest
from hostilekit import unchecked_text
from textual.widgets import Input, Static
from uikit import all_connected, settle, sign_in, start_lot, type_text, wait_until

from inspect_station.recording import ManualSource
from inspect_station.text import unsafe
from inspect_station.tui.screens.job import JobScreen
from inspect_station.tui.screens.measure import MeasureScreen
from inspect_station.tui.screens.review import RejectDetailScreen, ReviewScreen


def screen_text(app) -> str:
    """Every character the current screen's widgets would send to the terminal."""
    out = []
    for widget in app.screen.query("*"):
        if not widget.display or widget.size.height == 0:
            continue
        for y in range(widget.size.height):
            out.append("".join(segment.text for segment in widget.render_line(y)))
    return "\n".join(out)


def message(app) -> str:
    """The current screen's message line."""
    return str(app.screen.query_one("#message", Static).render())


async def test_a_lot_id_that_looks_like_markup_is_shown_as_typed(station):
    lot = "[@click=app.quit]L[/]1"
    app = station.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await all_connected(pilot)
        await sign_in(pilot)
        await start_lot(pilot, lot=lot)
        assert isinstance(app.screen, MeasureScreen)
        assert lot in screen_text(app)
        await pilot.click("#header")  # a click on the lot does nothing: no markup action
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, MeasureScreen)
    assert [r["lot"] for r in station.service.store.query("SELECT lot FROM lots")] == [lot]


@pytest.mark.parametrize("typed", ["١٢٣", "1_000", "9007199254740993"])
async def test_a_lot_size_outside_the_grammar_is_refused_with_a_sentence(station, typed):
    app = station.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await type_text(pilot, "BRK")
        await pilot.press("enter")
        await type_text(pilot, "L-9")
        await pilot.press("enter", "enter")
        app.screen.query_one("#lot-size", Input).value = typed  # as pasted
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, JobScreen)
        assert message(app).startswith("Lot size: ")
    assert station.service.store.query("SELECT * FROM lots") == []


def hostile_reject(service) -> None:
    """A rejected part whose lot, serial and note hold escapes, as an old record could."""
    with unchecked_text():
        _reject(service)


def _reject(service) -> None:
    spec = service.library.get("BRK-1042@C")
    user = service.users.get("demo")
    lot, serial = "L\x1b[2J\u202e7", "S\x9b31m[/]"
    for char, value in [("1", "120.31"), ("2", "12.005"), ("3", "0.02"), ("4", "pass")]:
        service.measure(user, spec, lot, serial, char, value, source=ManualSource("x\x1b[5m"))
    service.close_part(user, spec, lot, serial, defect_code="D01", note="burr\x1b]0;t\x07")


async def test_escapes_in_a_record_never_reach_the_terminal(station):
    hostile_reject(station.service)
    app = station.app()
    async with app.run_test(size=(140, 40)) as pilot:
        await sign_in(pilot, "super", "271828")
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        await wait_until(pilot, lambda: "L\\x1b[2J\\u202e7" in screen_text(app))
        assert not [c for c in screen_text(app) if unsafe(c) and c != "\n"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RejectDetailScreen)
        shown = screen_text(app)
        assert "burr\\x1b]0;t\\x07" in shown and "S\\x9b31m[/]" in shown
        assert not [c for c in shown if unsafe(c) and c != "\n"]
    assert station.service.store.verify().ok


OUTSIDE_THE_GRAMMAR = [
    ("١٢٠.٠٥", "write digits as ASCII 0-9"),
    ("++120.05", "more than one sign"),
    ("1_20.05", "digit separators"),
    ("12 0.05", "blank inside"),
    ("120.1" + "0" * 55 + "1", "at most 30"),
]
"""Manual entries outside the number grammar, each with what its refusal says."""


async def test_manual_entry_outside_the_grammar_is_refused_and_nothing_recorded(station):
    app = station.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await all_connected(pilot)
        await sign_in(pilot)
        await start_lot(pilot)
        screen = app.screen
        for typed, reason in OUTSIDE_THE_GRAMMAR:  # one after the other, as an inspector would
            await pilot.press("m")
            app.screen.query_one(Input).value = typed  # as typed or pasted
            await pilot.press("enter", "enter", "enter")  # value, first reason, confirm
            await wait_until(pilot, lambda reason=reason: reason in message(app))
            assert app.screen is screen and "1" not in screen.values, typed
    assert station.service.store.query("SELECT * FROM measurements") == []
    assert station.service.store.verify().ok
