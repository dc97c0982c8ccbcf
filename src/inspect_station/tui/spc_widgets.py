"""A live control chart in the terminal: the newest points of a characteristic with its
tolerance limits and, once locked, its control limits; the newest point and every point that
alarmed have markers of their own (never colour alone).

Drawn by :mod:`inspect_station.tui.braille_chart` straight into the widget's lines, once per
(data, size, theme): a verdict arriving while the chart is drawn waits a fraction of a
millisecond, not the ~9 ms a plotting library's ANSI round trip took (see the README)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from rich.style import Style
from textual.color import Color
from textual.geometry import Region, Size
from textual.strip import Strip

from inspect_station.measuring import ChartData
from inspect_station.tui.braille_chart import Level, Line, Mark, Picture, draw, message
from inspect_station.tui.quiet import QuietLines

NEWEST = "◆"
"""Marker of the newest point."""
ALARMED = "✖"
"""Marker of a point at which a rule fired."""

TOLERANCE, CONTROL, CENTRE = ("LSL", "USL"), ("UCL", "LCL"), ("CL", "R̄")
"""Names of the lines: the tolerance limits, the control limits, the centre lines."""


def _f(value: Decimal) -> float:
    """A value for plotting (display only: no verdict is ever taken from it)."""
    return float(value)


class ControlChart(QuietLines):
    """One chart of a characteristic: values (individuals or subgroup means) or their ranges."""

    DEFAULT_CSS = """
    ControlChart {
        width: 1fr;
        height: 1fr;
        min-height: 5;
    }
    """

    def __init__(self, *, spread: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spread = spread
        """Plot the moving ranges / ranges instead of the values."""
        self.data: ChartData | None = None
        """What is drawn now."""
        self._key: tuple[str, int] | None = None
        self.message: str | None = None
        """What is shown instead of a plot when there is nothing to plot."""
        self.picture: Picture | None = None
        """What the chart draws (None: the message instead)."""
        self.redraws = 0
        """How often new data was taken (only when the data changed)."""
        self.builds = 0
        """How often the lines were laid out (new data, a new size or a new theme only)."""
        self._lines: list[Line] = []
        self._strips: list[Strip] = []
        self._built_for: tuple[object, ...] | None = None
        self._pass: tuple[object, ...] | None = None
        self._size = Size(0, 0)
        self._base = Style()

    def show(self, data: ChartData | None) -> bool:
        """Draw ``data`` unless it is what is drawn already; whether it redrew."""
        key = None if data is None else (data.characteristic.id, data.stamp)
        if key == self._key and key is not None:
            return False
        self._key = key
        self.data = data
        self._compose_picture()
        self._built_for = None
        self.refresh()
        self.redraws += 1
        return True

    def _styles(self) -> dict[str, Style]:
        """The chart's styles from the app's theme (the lines' colours follow their meaning)."""
        theme = self.app.theme_variables

        def colour(name: str, default: str) -> Style:
            return Style(color=Color.parse(theme.get(name, default)).rich_color)

        error = colour("error", "red")
        return {
            "series": colour("primary", "blue") + Style(bold=True),
            "tolerance": error,
            "control": colour("warning", "yellow"),
            "centre": colour("success", "green"),
            "newest": Style(bold=True),
            "alarmed": error + Style(bold=True),
        }

    def _compose_picture(self) -> None:
        """What ``self.data`` draws, in data units (the styles are taken when laid out)."""
        self.message, self.picture = None, None
        data = self.data
        if data is None:
            self.message = "No control chart: an attribute."
            return
        lim = data.shown_limits  # the locked limits, else those proposed (not locked)
        lines: list[tuple[Decimal, str]]
        if self.spread:
            points = [(i + 1, p.spread, p.alarmed) for i, p in enumerate(data.points)]
            series = [(x, _f(y), a) for x, y, a in points if y is not None]
            n = lim.subgroup_size if lim is not None else data.subgroup_size
            title = ("moving range" if n == 1 else "range") + (
                "" if data.locked else ": limits not locked"
            )
            lines = [] if lim is None else [(lim.range_ucl, "UCL"), (lim.range_centre, "R̄")]
            if lim is not None and lim.range_lcl > 0:
                lines.append((lim.range_lcl, "LCL"))
        else:
            series = [(i + 1, _f(p.value), p.alarmed) for i, p in enumerate(data.points)]
            title = data.title
            lsl, usl = data.characteristic.limits
            lines = [(v, name) for v, name in ((lsl, "LSL"), (usl, "USL")) if v is not None]
            if lim is not None:
                lines += [(lim.ucl, "UCL"), (lim.centre, "CL"), (lim.lcl, "LCL")]
        if not series:
            what = data.title if not self.spread else "ranges"
            self.message = f"{what}\nno points yet"
            return
        ys = [y for _, y, _ in series]
        shown = _window(ys, [_f(v) for v, _ in lines], control=lim is not None and not self.spread)
        self.picture = Picture(
            title=title,
            xs=[x for x, _, _ in series],
            ys=ys,
            window=shown,
            levels=[Level(_f(v), name, Style()) for v, name in lines],
            marks=[Mark(i, ALARMED, Style()) for i, (_, _, a) in enumerate(series) if a]
            + [Mark(len(series) - 1, NEWEST, Style())],
        )

    def _styled(self, picture: Picture) -> Picture:
        """``picture`` with the theme's styles."""
        s = self._styles()

        def kind(name: str) -> Style:
            return (
                s["tolerance"]
                if name in TOLERANCE
                else s["centre"]
                if name in CENTRE
                else s["control"]
            )

        return replace(
            picture,
            levels=[Level(lv.value, lv.label, kind(lv.label)) for lv in picture.levels],
            marks=[
                Mark(m.index, m.glyph, s["newest"] if m.glyph == NEWEST else s["alarmed"])
                for m in picture.marks
            ],
            series=s["series"],
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        """The chart's lines in ``crop`` (the widget's style is looked up once per pass)."""
        self._pass = None
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the chart, laid out once per data, size and theme."""
        if self._pass is None:
            self._size, self._base = self.size, self.rich_style
            self._pass = (self._key, self.message, self._size, self.app.theme, self._base)
        if self._pass != self._built_for:
            (width, height), base = self._size, self._base
            if self.picture is not None:
                lines = draw(self._styled(self.picture), width, height, base)
            else:
                lines = message(self.message or "", width, height, base)
            self._lines = lines
            self._strips = [Strip(line, width) for line in lines]
            self._built_for = self._pass
            self.builds += 1
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def text(self) -> str:
        """What the chart shows, as plain text (one line per terminal line)."""
        return "\n".join("".join(s.text for s in line) for line in self._lines)


def _window(values: list[float], lines: list[float], *, control: bool) -> tuple[float, float]:
    """The y range drawn: the points and the limit lines, but tolerance lines far outside the
    control limits are left out (they would squeeze the chart flat)."""
    low, high = min(values), max(values)
    span = max(high - low, 1e-12)
    candidates = sorted(lines)
    if candidates:
        near = [v for v in candidates if low - 3 * span <= v <= high + 3 * span]
        if control and near:
            low, high = min(low, *near), max(high, *near)
        elif not control:
            low, high = min(low, *candidates), max(high, *candidates)
    margin = (high - low) * 0.08 or abs(high) * 0.01 or 1.0
    return low - margin, high + margin
