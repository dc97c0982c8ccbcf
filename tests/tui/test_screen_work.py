"""What the screen does per update stays small: a new sync note lays the screen out again only
when the status bar's height changes, and a line given the same text again is not redrawn."""

from __future__ import annotations

from uikit import measuring, settle

from inspect_station.tui.screens.measure import MeasureScreen
from inspect_station.tui.widgets import GaugeStatusBar, Plain


def _layouts(widget) -> list[bool]:
    """Spy on ``widget.refresh``: whether each call asked for a layout pass."""
    calls: list[bool] = []
    original = widget.refresh

    def refresh(*regions, repaint=True, layout=False, recompose=False):
        calls.append(layout)
        return original(*regions, repaint=repaint, layout=layout, recompose=recompose)

    widget.refresh = refresh
    return calls


async def test_a_new_sync_note_of_the_same_height_is_no_layout_pass(station):
    app = station.app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(GaugeStatusBar)
        states = app.gauge_states()
        bar.show(states, "sync: 1 unsynced")
        await settle(pilot)
        layouts = _layouts(bar)
        bar.show(states, "sync: 2 unsynced")
        await settle(pilot)
        assert layouts and not any(layouts)  # redrawn, not laid out
        assert "2 unsynced" in str(bar.render())
        layouts.clear()
        bar.show(states, "sync: " + "a very long last error " * 12)  # now it wraps
        await settle(pilot)
        assert any(layouts)


async def test_a_line_given_the_same_text_again_is_not_redrawn(station):
    app = station.app()
    async with app.run_test() as pilot:
        await settle(pilot)
        line = app.screen.query_one("#message", Plain)
        line.update("Reading CAL-0042…", layout=False)
        await settle(pilot)
        calls = _layouts(line)
        line.update("Reading CAL-0042…", layout=False)
        assert calls == []
        line.update("Part 001: ready", layout=False)
        assert calls and str(line.render()) == "Part 001: ready"


async def test_an_answer_arriving_while_the_screen_is_removed_touches_no_widget(station):
    """A commit acknowledged while the station closes finds the screen no longer alive, so its
    verdict is not drawn into widgets being removed (it raised NoMatches): the screen is being
    pruned (Textual removes its widgets a few at a time) or the app is shutting down."""
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = app.screen
        assert isinstance(screen, MeasureScreen) and screen.alive
        screen._pruning = True  # what Textual marks a screen being removed with
        assert not screen.alive
        screen._shown_due.append(object())  # type: ignore[arg-type]  # never looked at
        screen._show_recorded()
        assert screen._shown_due == []
        screen._pruning = False
        app._running = False  # what the app's shutdown begins with
        assert not screen.alive
        app._running = True
        assert screen.alive
