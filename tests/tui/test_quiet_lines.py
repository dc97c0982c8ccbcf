"""A widget that did not change hands back its last lines; any change (text, size, style) is
drawn, never a stale line."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region

from inspect_station.tui.quiet import HOOKED
from inspect_station.tui.widgets import Plain


class QuietApp(App[None]):
    """A Plain line that can change colour."""

    CSS = """
    Plain { height: 1; width: 30; }
    Plain.alarm { background: red; }
    """

    def compose(self) -> ComposeResult:
        """One Plain."""
        yield Plain("first", id="line")


def _screen_text(app: App[None], y: int = 0) -> str:
    return "".join(segment.text for segment in app.screen._compositor.render_strips()[y])


async def test_an_unchanged_widget_is_not_drawn_again_and_a_changed_one_always_is():
    assert HOOKED  # this Textual marks widgets dirty where QuietLines listens
    app = QuietApp()
    async with app.run_test(size=(40, 5)) as pilot:
        line = app.query_one("#line", Plain)
        crop = Region(0, 0, 30, 1)
        first = line.render_lines(crop)
        drawn: list[int] = []
        original = line.render_line
        line.render_line = lambda y: drawn.append(y) or original(y)  # type: ignore[method-assign]
        assert line.render_lines(crop) is first and not drawn  # nothing changed: no drawing
        line.update("second", layout=False)
        await pilot.pause()
        assert _screen_text(app).startswith("second")
        background = line.render_lines(crop)[0]._segments[0].style.bgcolor
        line.add_class("alarm")
        await pilot.pause()
        assert line.render_lines(crop)[0]._segments[0].style.bgcolor != background
        line.styles.width = 10
        await pilot.pause()
        assert line.render_lines(Region(0, 0, 10, 1))[0].cell_length == 10
        assert _screen_text(app).startswith("second    ")
