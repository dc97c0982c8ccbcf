"""The characteristics table has no scroll bar: its header says how many rows are out of view,
and the highlighted row is always scrolled into view."""

from __future__ import annotations

from textual.app import App, ComposeResult

from inspect_station.tui.widgets import CharacteristicTable

COLUMNS = [("#", 3), ("Characteristic", 0), ("Result", 7)]


class TableApp(App[None]):
    """A table of 12 characteristics, 6 lines high (a header and 5 rows)."""

    CSS = "CharacteristicTable { height: 6; }"

    def compose(self) -> ComposeResult:
        table = CharacteristicTable(COLUMNS, id="t")
        for n in range(1, 13):
            table.add_row(str(n), [str(n), f"Feature {n}", ""])
        yield table


def lines(table: CharacteristicTable) -> list[str]:
    """What the table shows, line by line."""
    return [table.render_line(y).text.rstrip() for y in range(table.size.height)]


async def test_the_header_counts_the_rows_out_of_view_and_the_cursor_row_is_shown():
    app = TableApp()
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(CharacteristicTable)
        assert table.scrollbar_size_vertical == 0
        assert table.hidden_rows() == (0, 7)
        assert "Characteristic ↓7 more" in lines(table)[0]
        table.move_cursor(9)  # the 10th row: scrolled into view
        await pilot.pause()
        shown = lines(table)
        assert any("Feature 10" in line for line in shown[1:])
        above, below = table.hidden_rows()
        assert above > 0 and below == 2 and above + below == 7
        assert f"Characteristic ↑{above} ↓2 more" in shown[0]
        table.move_cursor(0)
        await pilot.pause()
        assert table.hidden_rows() == (0, 7) and "Feature 1" in lines(table)[1]


async def test_a_table_that_fits_has_a_plain_header():
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(CharacteristicTable)
        table.styles.height = 14
        await pilot.pause()
        assert table.hidden_rows() == (0, 0)
        assert "more" not in lines(table)[0]
