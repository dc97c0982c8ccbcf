"""The keys of the screen, all of them, on as many lines as they need (never cut off)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.screen import Screen

from inspect_station.tui.quiet import QuietLines

KEY_STYLE = Style(bold=True, reverse=True)


class KeyBar(QuietLines):
    """Every key the screen answers to, with what it does, wrapped between whole keys.

    Textual's Footer shows one line that runs off an 80-column terminal; a station screen has
    up to a dozen keys and the inspector must see all of them. Keys that share a group
    (``Binding.Group``) are shown together under the group's words: ``↑/↓ Characteristic``.
    """

    DEFAULT_CSS = """
    KeyBar {
        height: auto;
        max-height: 3;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._items: list[tuple[str, str]] = []

    def on_mount(self) -> None:
        """Follow the screen's bindings as they change (focus, check_action)."""
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._collect()

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if self.is_attached and screen is self.screen:
            self._collect()

    def _collect(self) -> None:
        items = list(self._keys())
        if items != self._items:
            self._items = items
            self.refresh(layout=True)

    def _keys(self) -> Iterator[tuple[str, str]]:
        """(keys, what they do) for every binding shown, one entry per action or group."""
        items: list[tuple[list[str], str, Binding.Group | None]] = []
        seen: set[str] = set()
        for _node, binding, enabled, _tip in self.screen.active_bindings.values():
            if not binding.show or not enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            key, group = self.app.get_key_display(binding), binding.group
            if group is not None and items and items[-1][2] == group:
                items[-1][0].append(key)  # one more key of the group before it
            else:
                items.append(([key], group.description if group else binding.description, group))
        for keys, what, group in items:
            yield ("" if group is not None and group.compact else "/").join(keys), what

    def _lines(self, width: int) -> list[Text]:
        """The keys packed into lines of at most ``width`` cells, breaking only between keys."""
        lines: list[Text] = []
        line = Text()
        for key, what in self._items:
            item = Text.assemble((f" {key} ", KEY_STYLE), f" {what}")
            if line.cell_len and line.cell_len + 2 + item.cell_len > width:
                lines.append(line)
                line = Text()
            if line.cell_len:
                line.append("  ")
            line.append_text(item)
        if line.cell_len or not lines:
            lines.append(line)
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """As many lines as the keys need at this width."""
        return len(self._lines(max(width, 1)))

    def render(self) -> Text:
        """The keys, wrapped to the widget's width."""
        return Text("\n").join(self._lines(max(self.size.width, 1)))
