"""Panels drawn line by line: the big verdict and the active characteristic's panel.

On every reading both change; a Static would lay out and draw all of its lines again each time.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import VisualType

from inspect_station.text import printable
from inspect_station.tui.widgets import Plain, plain

CACHED = 4096
"""Most lines a panel keeps drawn (a part of a hundred characteristics has ~700 panel lines)."""


class LinePanel(Plain):
    """A Plain whose string is drawn line by line, each line redrawn only when it changes.

    A Static renders all of its text again on every update (Textual's Content layout: wrap,
    align, style), and the screen then re-styles every line of it: ~2 ms for the verdict panel
    on each reading. Here a string is split into lines, each wrapped to the width (the
    wrapping kept per line), aligned as the CSS says (``text-align``, vertical
    ``content-align``) and kept as a strip; an update marks dirty only the lines whose text
    changed. Anything but a string is shown as Plain shows it.
    """

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._shown_lines: list[str] | None = None
        """The lines as drawn (wrapped, aligned, padded) at ``_shown_width``; None: not yet."""
        self._shown_width = -1
        self._wrapped: dict[tuple[str, int], list[str]] = {}
        """(text line, width) -> its wrapped lines."""
        self._strips: dict[tuple[str, Style], Strip] = {}
        """(drawn line, style) -> its strip."""

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        """Show ``content``; of a string only the lines that changed are redrawn."""
        if not isinstance(content, str) or layout or not self.is_mounted:
            super().update(content, layout=layout)
            self._shown_lines = None
            return
        if content == self._text:
            return
        self._text = content
        old = self._shown_lines
        width, height = self.content_size
        if old is None or width != self._shown_width or width <= 0:
            self._shown_lines = None
            self.refresh()
            return
        new = self._layout(width, height)
        self._shown_lines = new
        changed = [y for y, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        if changed:  # one refresh for the span of changed lines (each call has its cost)
            self.refresh(Region(0, changed[0], width, changed[-1] - changed[0] + 1))

    def render(self) -> Any:
        """The text as one renderable (what a reader of the widget sees)."""
        if self._text is not None:
            return plain(self._text)
        return super().render()

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the text, from the strips kept per line."""
        if self._text is None:
            return super().render_line(y)
        width, height = self.content_size
        if self._shown_lines is None or self._shown_width != width:
            self._shown_lines = self._layout(width, height)
        lines = self._shown_lines
        style = self.visual_style.rich_style
        text = lines[y] if 0 <= y < len(lines) else " " * width
        strip = self._strips.get((text, style))
        if strip is None:
            if len(self._strips) > CACHED:
                self._strips.clear()
            strip = Strip([Segment(text, style)], cell_len(text))
            self._strips[(text, style)] = strip
        return strip

    def _layout(self, width: int, height: int) -> list[str]:
        """The text's lines wrapped to ``width``, aligned and padded into ``height`` lines."""
        self._shown_width = width
        if width <= 0:
            return []
        text = self._text or ""
        rows: list[str] = []
        for line in text.split("\n") if text else []:
            wrapped = self._wrapped.get((line, width))
            if wrapped is None:
                if len(self._wrapped) > CACHED:
                    self._wrapped.clear()
                safe = printable(line)
                if cell_len(safe) <= width:
                    wrapped = [safe]  # as it is, trailing spaces too (the banner's letters)
                else:
                    parts = Text(safe).wrap(self.app.console, width)
                    wrapped = [str(part).rstrip() for part in parts] or [""]
                self._wrapped[(line, width)] = wrapped
            rows.extend(wrapped)
        rows = rows[:height] if height > 0 else rows
        align = self.styles.text_align
        shown = []
        for row in rows:
            excess = max(0, width - cell_len(row))
            if align == "center":
                left = excess // 2
            elif align in ("right", "end"):
                left = excess
            else:
                left = 0
            shown.append(" " * left + row + " " * (excess - left))
        top = 0
        vertical = self.styles.content_align_vertical
        if vertical == "middle":
            top = max(0, height - len(shown)) // 2
        elif vertical == "bottom":
            top = max(0, height - len(shown))
        blank = " " * width
        return [blank] * top + shown + [blank] * max(0, height - top - len(shown))


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


class BigVerdict(LinePanel):
    """PASS or FAIL in block letters with the reason in words (never colour alone)."""

    DEFAULT_CSS = """
    BigVerdict {
        width: 1fr;
        height: 9;
        content-align: center middle;
        text-align: center;
        border: round $panel;
    }
    BigVerdict.pass { background: $success; color: $text; text-style: bold; }
    BigVerdict.fail { background: $error; color: $text; text-style: bold; }
    """

    def show(self, passed: bool | None, detail: str = "") -> None:
        """Show PASS (passed True), FAIL (False) or nothing (None), with a line of detail."""
        # Only a change of verdict restyles the widget: toggling the classes off and on again
        # re-ran the stylesheet for every reading (the costliest step of showing one).
        before = set(self.classes)
        self.set_class(passed is True, "pass", update=False)
        self.set_class(passed is False, "fail", update=False)
        if self.classes != before:
            self.update_node_styles()
        if passed is None:
            self.update(detail or "", layout=False)
            return
        word = "PASS" if passed else "FAIL"
        self.update(f"{banner(word)}\n{word} {detail}".rstrip(), layout=False)
