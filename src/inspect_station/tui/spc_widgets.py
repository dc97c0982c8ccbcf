"""A live control chart in the terminal (textual-plotext): the newest points of a characteristic
with its tolerance limits and, once locked, its control limits; the newest point and every
point that alarmed have markers of their own (never colour alone)."""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from inspect_station.measuring import ChartData
from inspect_station.tui.quiet import QuietLines

NEWEST = "◆"
"""Marker of the newest point."""
ALARMED = "✖"
"""Marker of a point at which a rule fired."""


def _f(value: Decimal) -> float:
    """A value for plotting (display only: no verdict is ever taken from it)."""
    return float(value)


class ControlChart(PlotextPlot, QuietLines):
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
        self.redraws = 0
        """How often the plot was rebuilt (a redraw happens only when the data changed)."""

    def show(self, data: ChartData | None) -> bool:
        """Draw ``data`` unless it is what is drawn already; whether it redrew."""
        key = None if data is None else (data.characteristic.id, data.stamp)
        if key == self._key and key is not None:
            return False
        self._key = key
        self.data = data
        self._draw()
        self.refresh()
        self.redraws += 1
        return True

    def render(self) -> RenderResult:
        """The plot, or the sentence saying why there is none."""
        if self.message is not None:
            return Text(self.message, justify="center")
        return super().render()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_figure()
        self.message = None
        data = self.data
        if data is None:
            self.message = "No control chart: an attribute."
            return
        lim = data.shown_limits  # the locked limits, else those proposed (not locked)
        if self.spread:
            points = [(i + 1, p.spread, p.alarmed) for i, p in enumerate(data.points)]
            series = [(x, _f(y), a) for x, y, a in points if y is not None]
            n = lim.subgroup_size if lim is not None else data.subgroup_size
            name = "moving range" if n == 1 else "range"
            plt.title(f"{name}" + ("" if data.locked else ": limits not locked"))
            lines = [] if lim is None else [(lim.range_ucl, "UCL"), (lim.range_centre, "R̄")]
            if lim is not None and lim.range_lcl > 0:
                lines.append((lim.range_lcl, "LCL"))
        else:
            series = [(i + 1, _f(p.value), p.alarmed) for i, p in enumerate(data.points)]
            plt.title(data.title)
            lsl, usl = data.characteristic.limits
            lines = [(v, name) for v, name in ((lsl, "LSL"), (usl, "USL")) if v is not None]
            if lim is not None:
                lines += [(lim.ucl, "UCL"), (lim.centre, "CL"), (lim.lcl, "LCL")]
        if not series:
            what = data.title if not self.spread else "ranges"
            self.message = f"{what}\nno points yet"
            return
        xs = [x for x, _, _ in series]
        ys = [y for _, y, _ in series]
        shown = _window(ys, [_f(v) for v, _ in lines], control=lim is not None and not self.spread)
        lines = [(v, name) for v, name in lines if shown[0] <= _f(v) <= shown[1]]
        plt.ylim(*shown)
        for value, _ in lines:
            plt.hline(_f(value))
        plt.plot(xs, ys, marker="braille")
        alarmed = [(x, y) for x, y, a in series if a]
        if alarmed:
            plt.scatter([x for x, _ in alarmed], [y for _, y in alarmed], marker=ALARMED)
        plt.scatter([xs[-1]], [ys[-1]], marker=NEWEST)
        ticks = sorted({_f(v): name for v, name in lines}.items())
        if ticks:
            plt.yticks([t for t, _ in ticks], [name for _, name in ticks])
        plt.xticks([xs[0], xs[-1]])


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
