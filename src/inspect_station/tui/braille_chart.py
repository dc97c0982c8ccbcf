"""A line chart drawn straight into terminal cells: braille dots, labelled horizontal lines, marks.

The live control chart beside the verdict is redrawn while readings arrive four times every
100 ms; a plotting library that writes ANSI text which is parsed back into styled text costs
~9 ms a redraw on the UI thread, long enough to hold a verdict back. Here the picture is laid
out once per (data, size, palette) into one list of Rich segments per line, with no text
round trip: a 60 x 9 chart costs a fraction of a millisecond.

Layout (as the station's charts always looked): the title centred on the first line; a frame
whose left edge carries the labels of the horizontal lines (``LSL``, ``CL``, ...) at their
rows, with ``├``/``┤`` where a line meets the frame; inside, the series as braille dots (a
cell is 2 x 4 dots) joined point to point, the horizontal lines as ``─`` in the cells the
series leaves free; each point's own marker (``◆`` newest, ``✖`` alarmed) on top of its cell;
the bottom edge ticks (``┬``) the first and last point, whose x values are written under it.
Text from data (a title, a label) is shown as it is: a terminal control is written escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from inspect_station.text import printable

PLAIN = Style()
"""No style of its own (the widget's)."""
Line = list[Segment]
"""One terminal line of a chart."""
BRAILLE = 0x2800
"""The empty braille cell; the dots are bits on top of it."""
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
"""Bit of the dot at (row 0..3, column 0..1) of a braille cell."""


@dataclass(frozen=True)
class Level:
    """A horizontal line across the chart at ``value``, labelled on the left edge."""

    value: float
    """Where the line is (data units)."""
    label: str
    """Its name at the left edge (``USL``, ``UCL``, ``CL``, ...)."""
    style: Style
    """How the line and its label are drawn."""


@dataclass(frozen=True)
class Mark:
    """A glyph drawn over one point's cell (the newest point, an alarmed one)."""

    index: int
    """Which point (an index into the series)."""
    glyph: str
    """One cell wide glyph."""
    style: Style
    """How it is drawn."""


@dataclass(frozen=True)
class Picture:
    """Everything one chart draws, in data units."""

    title: str
    """The first line, centred."""
    xs: Sequence[float]
    """The points' x values (ascending), the first and last written under the frame."""
    ys: Sequence[float]
    """The points' y values."""
    window: tuple[float, float]
    """The y range drawn (low, high): a point or line outside it is not drawn."""
    levels: Sequence[Level] = ()
    """The horizontal lines."""
    marks: Sequence[Mark] = ()
    """Markers over points, later ones on top of earlier ones."""
    series: Style = PLAIN
    """How the series' dots are drawn."""
    frame: Style = PLAIN
    """How the frame, the title and the x labels are drawn."""


def _label(x: float) -> str:
    """An x value as written under the frame (the points are numbered 1, 2, ...)."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells."""
    while cell_len(text) > width:
        text = text[:-1]
    return text


def _centred(text: str, width: int) -> str:
    text = _fit(printable(text), width)
    left = (width - cell_len(text)) // 2
    return " " * left + text + " " * (width - left - cell_len(text))


def _runs(cells: list[tuple[str, Style | None]], base: Style) -> Line:
    """One line's cells as segments, one segment per run of the same style."""
    line: Line = []
    text: list[str] = []
    style: Style | None = None
    for char, cell_style in cells:
        if cell_style is not style and text:
            line.append(Segment("".join(text), base + style if style else base))
            text = []
        style = cell_style
        text.append(char)
    if text:
        line.append(Segment("".join(text), base + style if style else base))
    return line


def _text_line(text: str, width: int, style: Style) -> Line:
    return [Segment(_centred(text, width), style)]


def message(text: str, width: int, height: int, base: Style = PLAIN) -> list[Line]:
    """The lines of a sentence shown instead of a chart, centred on the middle lines."""
    said = text.splitlines()[:height]
    top = max(0, (height - len(said)) // 2)
    lines = [[Segment(" " * width, base)] for _ in range(height)]
    for i, sentence in enumerate(said):
        lines[top + i] = _text_line(sentence, width, base)
    return lines


def _dot_line(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    """The dots from (x0, y0) to (x1, y1), both ends included (Bresenham)."""
    dots = []
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err = dx + dy
    while True:
        dots.append((x0, y0))
        if x0 == x1 and y0 == y1:
            return dots
        twice = 2 * err
        if twice >= dy:
            err += dy
            x0 += sx
        if twice <= dx:
            err += dx
            y0 += sy


def draw(picture: Picture, width: int, height: int, base: Style = PLAIN) -> list[Line]:
    """The chart in ``width`` x ``height`` cells: ``height`` lines of ``width`` cells each."""
    if width <= 0 or height <= 0:
        return [[] for _ in range(max(height, 0))]
    rows = height - 4  # title, top edge, bottom edge, x labels
    low, high = picture.window
    if rows < 1 or not picture.ys or high <= low:
        return message(picture.title, width, height, base)

    def dot_row(value: float) -> int:
        return round((high - value) / (high - low) * (rows * 4 - 1))

    # Which labels go on which row (two lines in one row share it: "CL/USL").
    at_row: dict[int, list[Level]] = {}
    for level in sorted(picture.levels, key=lambda lv: -lv.value):
        if low <= level.value <= high:
            at_row.setdefault(dot_row(level.value) // 4, []).append(level)
    labels = {row: printable("/".join(lv.label for lv in levels)) for row, levels in at_row.items()}
    gutter = min(max((cell_len(t) for t in labels.values()), default=0), width // 3)
    cols = width - gutter - 2
    if cols < 2:
        return message(picture.title, width, height, base)

    # The series as dots, point to point.
    xs, ys = picture.xs, picture.ys
    first, last = xs[0], xs[-1]
    span = last - first

    def dot_col(x: float) -> int:
        if span <= 0:
            return cols * 2 - 1  # one point: at the newest end
        return round((x - first) / span * (cols * 2 - 1))

    points = [(dot_col(x), dot_row(y)) for x, y in zip(xs, ys, strict=True)]
    bits: dict[tuple[int, int], int] = {}
    limit = rows * 4

    def put(dx: int, dy: int) -> None:
        if 0 <= dy < limit:
            cell = (dy // 4, dx // 2)
            bits[cell] = bits.get(cell, 0) | _DOTS[dy % 4][dx % 2]

    if len(points) == 1:
        put(*points[0])
    for (ax, ay), (bx, by) in pairwise(points):
        for dx, dy in _dot_line(ax, ay, bx, by):
            put(dx, dy)

    grid: list[list[tuple[str, Style | None]]] = [[(" ", None)] * cols for _ in range(rows)]
    for row, levels in at_row.items():
        grid[row] = [("─", levels[0].style)] * cols
    for (row, col), value in bits.items():
        grid[row][col] = (chr(BRAILLE + value), picture.series)
    for mark in picture.marks:
        dx, dy = points[mark.index]
        if 0 <= dy < limit:
            grid[dy // 4][dx // 2] = (mark.glyph, mark.style)

    frame = picture.frame
    lines = [_text_line(picture.title, width, base + frame)]
    pad = " " * gutter
    lines.append([Segment(f"{pad}┌{'─' * cols}┐", base + frame)])
    for row in range(rows):
        named = at_row.get(row)
        if named:
            label = _fit(printable(labels[row]), gutter)
            left: list[tuple[str, Style | None]] = [
                (" " * (gutter - cell_len(label)) + label, named[0].style),
                ("├", frame),
            ]
            right: tuple[str, Style | None] = ("┤", frame)
        else:
            left, right = [(pad, None), ("│", frame)], ("│", frame)
        lines.append(_runs([*left, *grid[row], right], base))
    lines.append([Segment(f"{pad}└┬{'─' * (cols - 2)}┬┘", base + frame)])
    start, end = _label(first), _label(last)
    room = cols - cell_len(start)
    under = start + (end.rjust(room) if len(xs) > 1 and room > len(end) else " " * room)
    lines.append([Segment(f"{pad} {under} ".ljust(width), base + frame)])
    return lines
