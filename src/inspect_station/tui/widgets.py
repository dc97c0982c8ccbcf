"""Widgets readable at arm's length: plain text, the characteristics, the gauge bar (the verdict
and the active panel are in ``panels``)."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.content import Content
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import VisualType
from textual.widgets import DataTable, Static

from inspect_station.config import CalibrationStatus
from inspect_station.gauges.hub import AssetState, GaugeState
from inspect_station.text import printable
from inspect_station.tui.quiet import QuietLines


def plain(text: str) -> Content:
    """Text that came from data, to show as it is: never markup, never a terminal control.

    A lot named ``[@click=app.quit]L1`` or ``L[/]1`` must neither act nor crash the screen,
    and an escape sequence in a record must not reach the terminal.
    """
    # Line by line: each line is then one C-speed scan when it is clean (a multi-line text
    # such as the verdict's banner otherwise fell to a per-character check on every reading).
    return Content("\n".join(printable(line) for line in text.split("\n")))


def _shown(content: VisualType) -> VisualType:
    """A string made plain; Content and renderables are the caller's own and stay as given."""
    return plain(content) if isinstance(content, str) else content


class Plain(Static, QuietLines):
    """A Static whose strings are shown as they are (see :func:`plain`); no markup at all."""

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        super().__init__(_shown(content), markup=False, **kwargs)
        self._text: str | None = content if isinstance(content, str) else None

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        """Show ``content``; a string is shown plain, and the same string again is no redraw."""
        if isinstance(content, str):
            if content == self._text:
                return
            self._text = content
        else:
            self._text = None
        super().update(_shown(content), layout=layout)


class PlainTable(DataTable[Any]):
    """A DataTable whose string cells are shown as they are (see :func:`plain`)."""

    @staticmethod
    def _cell(value: Any) -> Any:
        return Text(printable(value)) if isinstance(value, str) else value

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        """Add a row; string cells are shown plain."""
        return super().add_row(*(self._cell(c) for c in cells), **kwargs)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        """Change a cell; a string is shown plain."""
        super().update_cell(row_key, column_key, self._cell(value), **kwargs)

    def update_cell_at(self, coordinate: Any, value: Any, **kwargs: Any) -> None:
        """Change the cell at a coordinate; a string is shown plain."""
        super().update_cell_at(coordinate, self._cell(value), **kwargs)


def fit(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, ending in an ellipsis when it had to be cut."""
    if cell_len(text) <= width:
        return text
    if width <= 0:
        return ""
    return set_cell_size(text, width - 1) + "…"


_STATE_MARK = {
    GaugeState.CONNECTED: "●",
    GaugeState.CONNECTING: "…",
    GaugeState.DISCONNECTED: "✕",
    GaugeState.ERROR: "!",
}


def gauge_label(state: AssetState) -> Text:
    """One gauge in the status bar: a mark and the asset; words only for what needs attention.

    Overdue gauges and gauges whose calibration failed show as LOCKED; the state is in words
    as well as colour.
    """
    asset = printable(state.asset)
    if state.calibration is CalibrationStatus.OVERDUE:
        return Text(f"⊘ {asset} LOCKED cal. overdue", style="bold reverse red")
    if state.calibration is CalibrationStatus.FAILED:
        return Text(f"⊘ {asset} LOCKED cal. failed", style="bold reverse red")
    style = {
        GaugeState.CONNECTED: "green",
        GaugeState.DISCONNECTED: "bold red",
        GaugeState.ERROR: "yellow",
    }.get(state.state, "")
    text = Text(f"{_STATE_MARK[state.state]} {asset}", style=style)
    if state.state is GaugeState.DISCONNECTED:
        text.append(" UNPLUGGED", style="bold red")
    elif state.state is not GaugeState.CONNECTED:
        text.append(f" {state.state.value}", style=style)
    if state.calibration is CalibrationStatus.DUE:
        text.append(f" (cal. due {state.calibration_due:%d %b})", style="yellow")
    return text


class GaugeStatusBar(Plain):
    """Every gauge's connection and calibration status, plus sync status, on one line."""

    DEFAULT_CSS = """
    GaugeStatusBar {
        height: auto;
        max-height: 3;
        background: $boost;
        padding: 0 1;
    }
    """

    _shown: Text | None = None
    _lines = -1
    """Lines the shown text took (its height), -1 before it was laid out."""

    def show(self, states: list[AssetState], extra: str = "") -> None:
        """Render the gauges' states and an extra note (sync status); unchanged text is skipped."""
        text = Text()
        for i, state in enumerate(states):
            if i:
                text.append("  ")
            text.append_text(gauge_label(state))
        if not states:
            text.append("no gauges configured: manual entry only", style="dim")
        if extra:
            text.append(f"   {printable(extra)}", style="dim")
        if self._shown is not None and text == self._shown:
            return
        self._shown = text
        # A layout pass (the whole screen laid out and redrawn) only when the bar's height
        # changes: the sync note changes every few seconds, the number of lines seldom.
        width = self.content_region.width
        lines = len(text.wrap(self.app.console, width)) if width > 0 else -1
        self.update(text, layout=lines != self._lines or lines < 0)
        self._lines = lines


class CharacteristicTable(ScrollView):
    """The part's characteristics, one line each, with the active one highlighted.

    A Line API widget: each row's rendering is cached, so a new reading redraws one or two
    lines instead of the whole table (measured: a DataTable re-rendered every visible row on
    each update and pushed the verdict latency past 100 ms with four gauges at 10 Hz). It has
    no scroll bar: Textual repaints everything between the changed row and the verdict panel on
    every reading, a scroll bar included (a quarter of the screen's work per reading), so the
    header says how many rows are out of view instead ("Characteristic ↑3 ↓5 more"); the
    highlighted row is always scrolled into view.
    """

    DEFAULT_CSS = """
    CharacteristicTable {
        height: 1fr;
        min-height: 3;
        overflow: hidden hidden;
    }
    """

    HEADER_STYLE = Style(bold=True, reverse=True)
    CURSOR_STYLE = Style(reverse=True, bold=True)
    VERDICT_STYLE = {"PASS": Style(color="green", bold=True), "FAIL": Style(color="red", bold=True)}

    FLEX_MIN = 12
    """The narrowest a column of width 0 (it takes the width the others leave) gets."""

    def __init__(self, columns: list[tuple[str, int]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns = columns
        """(title, width) of each column; width 0: the width the others leave."""
        self.rows: list[list[str]] = []
        self.keys: list[str] = []
        self.cursor = 0
        """Index of the highlighted row."""
        self._cache: dict[int, dict[tuple[bool, int], Strip]] = {}
        """Row index -> (highlighted, width) -> its rendered line."""
        self._header_cache: tuple[tuple[tuple[int, int], int], Strip] | None = None
        """The header line and the (rows out of view, width) it was drawn for."""
        self._blank = Strip.blank(0)
        self.can_focus = False

    def add_row(self, key: str, cells: list[str]) -> None:
        """Append a row identified by ``key``."""
        self.keys.append(key)
        self.rows.append(list(cells))
        self.virtual_size = Size(self._width, len(self.rows) + 1)

    @property
    def _width(self) -> int:
        return sum(width + 1 for width in self._widths(self.size.width))

    def _widths(self, available: int) -> list[int]:
        """Each column's width when the widget is ``available`` cells wide."""
        fixed = sum(width + 1 for _, width in self.columns if width)
        flex = max(self.FLEX_MIN, available - fixed - 1)
        return [width or flex for _, width in self.columns]

    def on_resize(self) -> None:
        """A new width: the flexible column changes, every line is drawn again."""
        self._cache.clear()
        self.virtual_size = Size(self._width, len(self.rows) + 1)
        self._into_view()

    def set_cell(self, key: str, column: int, text: str) -> None:
        """Change one cell; only its line is redrawn."""
        self.set_cells(key, {column: text})

    def set_cells(self, key: str, cells: dict[int, str]) -> None:
        """Change cells of one row (column -> text); its line is redrawn once, if it changed."""
        index = self.keys.index(key)
        row = self.rows[index]
        changed = False
        for column, text in cells.items():
            if row[column] != text:
                row[column] = text
                changed = True
        if changed:
            self._forget(index)

    def hidden_rows(self) -> tuple[int, int]:
        """How many rows are scrolled out of view above and below."""
        top = int(self.scroll_offset.y)
        visible = max(1, self.size.height - 1)
        return top, max(0, len(self.rows) - top - visible)

    def move_cursor(self, index: int) -> None:
        """Highlight row ``index`` and scroll it into view."""
        old, self.cursor = self.cursor, index
        if old == index:
            self._into_view()
            return
        if self._into_view():  # the whole table is drawn again: no line to refresh on its own
            self._cache.pop(old, None)
            self._cache.pop(index, None)
            return
        self._forget(old)
        self._forget(index)

    def _into_view(self) -> bool:
        """Scroll the highlighted row into view (and no further than the last row); whether
        the table scrolled."""
        top = self.scroll_offset.y
        visible = max(1, self.size.height - 1)
        if self.cursor < top:
            top = self.cursor
        elif self.cursor >= top + visible:
            top = self.cursor - visible + 1
        return self._scroll(top)

    def _scroll(self, top: int) -> bool:
        """Show the rows from ``top`` (the overflow is hidden, so Textual's own scrolling and
        its invisible scroll bar -- whose every move rebuilt the screen's whole map -- are not
        used: the lines are drawn from the offset); whether the offset changed."""
        top = max(0, min(top, len(self.rows) - max(1, self.size.height - 1)))
        if top == self.scroll_offset.y:
            return False
        self.set_scroll(None, top)
        self.refresh()
        return True

    def _forget(self, index: int) -> None:
        self._cache.pop(index, None)
        self.refresh_line(index + 1)

    def _line(
        self, cells: list[str], style: Style | None, verdict_column: int | None, width: int
    ) -> Strip:
        segments = []
        widths = self._widths(width)
        for i, (text, width) in enumerate(zip(cells, widths, strict=True)):
            cell_style = style
            if i == verdict_column and style is None:
                cell_style = self.VERDICT_STYLE.get(text.split("·")[0])
            shown = fit(printable(text), width)  # never a terminal control from a record
            segments.append(Segment(set_cell_size(shown, width) + " ", cell_style))
        return Strip(segments)

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines in ``crop``, straight from the rows' cache.

        Textual renders every widget of the screen whose area overlaps the update, all of its
        lines, through a per-screen-line cache: a scroll (the highlighted characteristic moves
        to another gauge's rows on nearly every reading) redrew each visible line through it,
        ~0.1 ms a line. The table has no border, padding or tint (its CSS), so its lines are
        its rows' cached strips as they are, with the app's line filters (each strip keeps its
        filtered copy).
        """
        _, background = self.background_colors
        filters = self.get_line_filters()
        width, top = self.size.width, int(self.scroll_offset.y)
        strips = []
        for y in crop.line_range:
            strip = self._render_line(y, width, top)
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
            strips.append(strip)
        x1, x2 = crop.column_span
        if (x1, x2) != (0, width):
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def _header(self, width: int) -> Strip:
        hidden = self.hidden_rows()
        key = (hidden, width)
        if self._header_cache is not None and self._header_cache[0] == key:
            return self._header_cache[1]
        titles = [title for title, _ in self.columns]
        if hidden != (0, 0):
            # No scroll bar (it repainted on every reading): the header says what is out
            # of view, in the column that takes the width the others leave.
            flex = next((i for i, (_, w) in enumerate(self.columns) if not w), 0)
            above, below = hidden
            marks = " ".join(f"{arrow}{n}" for arrow, n in (("↑", above), ("↓", below)) if n)
            titles[flex] = f"{titles[flex]} {marks} more"
        strip = (
            self._line(titles, self.HEADER_STYLE, None, width)
            .extend_cell_length(width, self.HEADER_STYLE)
            .crop(0, width)
        )
        self._header_cache = (key, strip)
        return strip

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the widget: the header, then the rows from the scroll offset."""
        return self._render_line(y, self.size.width, int(self.scroll_offset.y))

    def _render_line(self, y: int, width: int, top: int) -> Strip:
        if y == 0:
            return self._header(width)
        index = y - 1 + top
        if index >= len(self.rows):
            if self._blank.cell_length != width:
                self._blank = Strip.blank(width)  # one strip: its filtered copy is kept
            return self._blank
        active = index == self.cursor
        lines = self._cache.setdefault(index, {})
        strip = lines.get((active, width))
        if strip is None:
            style = self.CURSOR_STYLE if active else None
            strip = self._line(self.rows[index], style, len(self.columns) - 1, width)
            strip = strip.extend_cell_length(width, style).crop(0, width)
            lines[(active, width)] = strip
        return strip
