"""Widgets readable at arm's length: the big verdict, the gauge status bar, the part header."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from inspect_station.config import CalibrationStatus
from inspect_station.gauges.hub import AssetState, GaugeState

# A 5-row block font for the verdict words, 5 columns a letter.
_FONT: dict[str, tuple[str, ...]] = {
    "P": ("████ ", "█   █", "████ ", "█    ", "█    "),
    "A": (" ███ ", "█   █", "█████", "█   █", "█   █"),
    "S": (" ████", "█    ", " ███ ", "    █", "████ "),
    "F": ("█████", "█    ", "████ ", "█    ", "█    "),
    "I": ("█████", "  █  ", "  █  ", "  █  ", "█████"),
    "L": ("█    ", "█    ", "█    ", "█    ", "█████"),
    "-": ("     ", "     ", "█████", "     ", "     "),
}


def banner(word: str) -> str:
    """``word`` in 5-row block letters."""
    rows = []
    for r in range(5):
        rows.append(" ".join(_FONT.get(c, _FONT["-"])[r] for c in word.upper()))
    return "\n".join(rows)


class BigVerdict(Static):
    """PASS or FAIL in block letters with the reason in words (never colour alone)."""

    DEFAULT_CSS = """
    BigVerdict {
        width: 1fr;
        height: 8;
        content-align: center middle;
        text-align: center;
        border: round $panel;
    }
    BigVerdict.pass { background: $success; color: $text; text-style: bold; }
    BigVerdict.fail { background: $error; color: $text; text-style: bold; }
    """

    def show(self, passed: bool | None, detail: str = "") -> None:
        """Show PASS (passed True), FAIL (False) or nothing (None), with a line of detail."""
        self.remove_class("pass", "fail")
        if passed is None:
            self.update(detail or "")
            return
        word = "PASS" if passed else "FAIL"
        self.add_class("pass" if passed else "fail")
        self.update(f"{banner(word)}\n{word}{' — ' + detail if detail else ''}")


_STATE_MARK = {
    GaugeState.CONNECTED: "●",
    GaugeState.CONNECTING: "…",
    GaugeState.DISCONNECTED: "✕",
    GaugeState.ERROR: "!",
}


def gauge_label(state: AssetState) -> Text:
    """One gauge in the status bar: a mark and the asset; words only for what needs attention.

    Overdue gauges show as LOCKED; the state is in words as well as colour.
    """
    if state.calibration is CalibrationStatus.OVERDUE:
        return Text(f"⊘ {state.asset} LOCKED cal. overdue", style="bold reverse red")
    style = {
        GaugeState.CONNECTED: "green",
        GaugeState.DISCONNECTED: "bold red",
        GaugeState.ERROR: "yellow",
    }.get(state.state, "")
    text = Text(f"{_STATE_MARK[state.state]} {state.asset}", style=style)
    if state.state is GaugeState.DISCONNECTED:
        text.append(" UNPLUGGED", style="bold red")
    elif state.state is not GaugeState.CONNECTED:
        text.append(f" {state.state.value}", style=style)
    if state.calibration is CalibrationStatus.DUE:
        text.append(f" (cal. due {state.calibration_due:%d %b})", style="yellow")
    return text


class GaugeStatusBar(Static):
    """Every gauge's connection and calibration status, plus sync status, on one line."""

    DEFAULT_CSS = """
    GaugeStatusBar {
        height: auto;
        max-height: 3;
        background: $boost;
        padding: 0 1;
    }
    """

    def show(self, states: list[AssetState], extra: str = "") -> None:
        """Render the gauges' states and an extra note (sync status)."""
        text = Text()
        for i, state in enumerate(states):
            if i:
                text.append("  ")
            text.append_text(gauge_label(state))
        if not states:
            text.append("no gauges configured: manual entry only", style="dim")
        if extra:
            text.append(f"   {extra}", style="dim")
        self.update(text)
