"""The control chart's own renderer: dots, lines, labels and markers land where the data says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.style import Style

from inspect_station.tui.braille_chart import BRAILLE, Level, Mark, Picture, draw

ALARM = Style(color="red", bold=True)


def text(lines) -> list[str]:
    return ["".join(segment.text for segment in line) for line in lines]


def picture(ys, levels=(), alarmed=(), title="#1 Length") -> Picture:
    values = [*ys, *(value for value, _ in levels)]
    window = (min(values) - 1, max(values) + 1)
    return Picture(
        title=title,
        xs=[i + 1 for i in range(len(ys))],
        ys=ys,
        window=window,
        levels=[Level(v, name, Style()) for v, name in levels] if levels else (),
        marks=[Mark(i, "✖", ALARM) for i in alarmed] + [Mark(len(ys) - 1, "◆", Style())],
    )


def where(lines: list[str], char: str) -> tuple[int, int]:
    """(row, column) of the first ``char`` in the drawn lines."""
    for row, line in enumerate(lines):
        if char in line:
            return row, line.index(char)
    raise AssertionError(f"{char!r} not drawn:\n" + "\n".join(lines))


def is_dots(char: str) -> bool:
    """Whether ``char`` is a braille cell with at least one dot."""
    return BRAILLE < ord(char) <= BRAILLE + 0xFF


def label_row(lines: list[str], name: str) -> int:
    """The row whose left edge names ``name``."""
    return next(r for r, line in enumerate(lines) if line.split("├")[0].strip() == name)


def test_a_rising_series_puts_its_newest_marker_top_right_and_its_first_dots_bottom_left():
    lines = text(draw(picture([float(i) for i in range(20)]), 40, 12))
    assert lines[0].strip() == "#1 Length"
    assert where(lines, "◆") == (2, 40 - 2)  # the top plot row, the last plot column
    assert is_dots(lines[12 - 3][1])  # the oldest point: the bottom plot row, the first column
    assert not any(is_dots(c) for c in lines[2][1:20] + lines[12 - 3][20:])
    assert lines[-1].split() == ["1", "20"]  # the first and last point under the ticks
    assert lines[-2].count("┬") == 2


def test_a_point_beyond_the_ucl_is_drawn_above_its_line_with_the_alarm_marker():
    ys = [10.0, 10.1, 9.9, 10.0, 10.6, 10.0]
    levels = [(10.3, "UCL"), (10.0, "CL"), (9.7, "LCL"), (11.0, "USL"), (9.0, "LSL")]
    lines = text(draw(picture(ys, levels, alarmed=[4]), 50, 20))
    rows = {name: label_row(lines, name) for _, name in levels}
    alarm_row, alarm_col = where(lines, "✖")
    assert rows["USL"] < alarm_row < rows["UCL"] < rows["CL"] < rows["LCL"] < rows["LSL"]
    for name, row in rows.items():
        assert lines[row].rstrip().endswith("┤"), name
        assert "├" in lines[row]
    newest_row, newest_col = where(lines, "◆")
    assert newest_row == rows["CL"] and newest_col == 50 - 2 > alarm_col
    # the limit lines run across the chart where the series leaves the cells free
    assert lines[rows["USL"]].count("─") == 50 - 2 - len("USL")


def test_labels_are_right_aligned_whatever_their_cell_width_and_lines_sharing_a_row_share_it():
    lines = text(draw(picture([1.0, 2.0, 1.5], [(2.0, "R̄"), (2.01, "UCL")]), 30, 8))
    row = where(lines, "UCL")[0]
    assert "R̄" in lines[row]  # both lines fall in one row: both names are there
    assert all(cell_len(line) == 30 for line in lines)
    edge = {cell_len(line[: line.index("├" if "├" in line else "│")]) for line in lines[2:-2]}
    assert len(edge) == 1  # the left edge is one straight column (cell widths, not code points)


def test_a_title_holding_a_terminal_escape_is_shown_escaped_and_keeps_the_width():
    lines = text(draw(picture([1.0, 2.0], title="#1 \x1b[2J\u202eLänge 長さ"), 40, 8))
    assert lines[0].strip() == "#1 \\x1b[2J\\u202eLänge 長さ"
    assert all(cell_len(line) == 40 for line in lines)
    assert not any("\x1b" in line or "\u202e" in line for line in lines)


def test_a_chart_too_small_to_plot_shows_its_title():
    assert text(draw(picture([1.0, 2.0]), 30, 3))[1].strip() == "#1 Length"


@settings(max_examples=200, deadline=None)
@given(
    ys=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60),
    levels=st.lists(
        st.tuples(st.floats(-1e6, 1e6), st.sampled_from(["UCL", "CL", "R̄", "LSL"])), max_size=5
    ),
    width=st.integers(1, 140),
    height=st.integers(1, 40),
)
def test_any_chart_fills_exactly_its_cells_and_marks_its_newest_point(ys, levels, width, height):
    lines = draw(picture(ys, levels), width, height)
    assert len(lines) == height
    assert all(cell_len(line) == width for line in text(lines))
    if height >= 5 and width >= 4 + width // 3 and max(ys) - min(ys) < 1e12:
        assert any("◆" in line for line in text(lines))
