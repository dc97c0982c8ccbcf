"""The measure screen's panels redraw only the lines that change, and look as a Static would.

With four gauges at 10 Hz the verdict panel and the active characteristic's panel change on
every reading; drawing all their lines again each time (and the whole table on every scroll)
was most of the station's work per reading.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from inspect_station.tui.panels import BigVerdict, LinePanel, banner
from inspect_station.tui.widgets import CharacteristicTable

PANEL_CSS = """
.panel { width: 30; height: 9; border: round $panel; padding: 0 1; }
.centred { text-align: center; content-align: center middle; }
"""

TEXTS = [
    "#2 Bore diameter\nnominal 12.000 · limits 11.990 … 12.010 mm · guard band U = 0.002 mm",
    f"{banner('PASS')}\nPASS #1 120.04 mm\ndeviation +0.04 mm",
    "a lot named [@click=app.quit]L1 and L[/]1\nan escape \x1b[2J in a record",
    "",
]


class Panels(App[None]):
    """A LinePanel beside the Static it replaces, both plain and centred."""

    CSS = PANEL_CSS

    def compose(self) -> ComposeResult:
        """Two pairs of panels."""
        yield LinePanel("", id="line", classes="panel")
        yield Static("", id="static", classes="panel", markup=False)
        yield LinePanel("", id="line-c", classes="panel centred")
        yield Static("", id="static-c", classes="panel centred", markup=False)


def _lines(widget: Static) -> list[str]:
    return [widget.render_line(y).text.rstrip() for y in range(widget.content_size.height)]


async def test_a_line_panel_shows_what_a_static_shows_wrapped_and_aligned_alike():
    app = Panels()
    async with app.run_test(size=(80, 40)) as pilot:
        for text in TEXTS:
            for line_id, static_id in (("#line", "#static"), ("#line-c", "#static-c")):
                line, static = app.query_one(line_id, LinePanel), app.query_one(static_id, Static)
                line.update(text, layout=False)
                static.update(text.replace("\x1b", "\\x1b"), layout=False)
            await pilot.pause()
            for line_id, static_id in (("#line", "#static"), ("#line-c", "#static-c")):
                line, static = app.query_one(line_id, LinePanel), app.query_one(static_id, Static)
                assert _lines(line) == _lines(static), (text, line_id)
        line = app.query_one("#line", LinePanel)
        line.update(TEXTS[2], layout=False)
        await pilot.pause()
        shown = "\n".join(_lines(line))
        assert "[@click=app.quit]L1" in shown and "\\x1b[2J" in shown  # as it is, no control
        assert "\x1b" not in shown
        assert "[@click=app.quit]L1" in str(line.render())


async def test_an_update_redraws_only_the_lines_that_changed():
    app = Panels()
    async with app.run_test(size=(80, 40)) as pilot:
        verdict = app.query_one("#line-c", LinePanel)
        verdict.update(f"{banner('PASS')}\nPASS #1 120.04 mm\ndeviation +0.04 mm", layout=False)
        await pilot.pause()
        drawn: list[int] = []
        original = verdict.render_line

        def counted(y: int):
            drawn.append(y)
            return original(y)

        verdict.render_line = counted  # type: ignore[method-assign]
        verdict.update(f"{banner('PASS')}\nPASS #2 12.005 mm\ndeviation +0.005 mm", layout=False)
        await pilot.pause()
        assert sorted(set(drawn)) == [5, 6]  # the two lines of detail, not the block letters
        assert "PASS #2 12.005 mm" in verdict.render_line(5).text
        assert "█" in verdict.render_line(1).text


async def test_the_same_verdict_word_again_redraws_only_its_detail():
    class VerdictApp(App[None]):
        def compose(self) -> ComposeResult:
            yield BigVerdict("", id="verdict")

    app = VerdictApp()
    async with app.run_test() as pilot:
        verdict = app.query_one(BigVerdict)
        verdict.show(True, "#1 120.01 mm\ndeviation +0.01 mm")
        await pilot.pause()
        drawn: list[int] = []
        original = verdict.render_line
        verdict.render_line = lambda y: drawn.append(y) or original(y)  # type: ignore[method-assign]
        verdict.show(True, "#2 12.005 mm\ndeviation +0.005 mm")
        await pilot.pause()
        assert drawn and all(y >= 5 for y in drawn)  # the banner's five lines stay as drawn
        assert "PASS #2 12.005 mm" in str(verdict.render())


class TableApp(App[None]):
    """A table of 40 characteristics, 6 lines high."""

    CSS = "CharacteristicTable { height: 6; }"

    def compose(self) -> ComposeResult:
        """The table."""
        table = CharacteristicTable([("#", 3), ("Characteristic", 0)], id="t")
        for n in range(1, 41):
            table.add_row(str(n), [str(n), f"Feature {n}"])
        yield table


async def test_scrolling_the_table_touches_no_scroll_bar():
    """Textual's (invisible) scroll bar moved on every scroll, and the screen rebuilt its whole
    map for it: the table draws its rows from the offset and has no scroll bar at all."""
    app = TableApp()
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(CharacteristicTable)
        table.move_cursor(30)
        await pilot.pause()
        assert not table.show_vertical_scrollbar
        assert "Feature 31" in table.render_line(5).text
        assert table.hidden_rows() == (26, 9)
        table.move_cursor(2)
        await pilot.pause()
        assert "Feature 3" in table.render_line(1).text
        assert table.hidden_rows() == (2, 33)
