"""Widgets that hand back their last lines while nothing in them changed.

On every screen update Textual asks every widget whose parent's area overlaps the changed part
of the screen for all of its lines; a widget that did not change answers from its line cache,
but getting there (styles, background, borders, a filter per line) costs ~0.1 ms a widget. With
a reading every 25 ms (four gauges at 10 Hz) the measure screen's unchanged widgets -- the
screen, the header, the message line, the gauge bar, the key bar, the chart -- were a third of
each update. :class:`QuietLines` keeps a widget's last answer for the same area, background and
line filters until Textual marks the widget dirty (every refresh, resize or restyle does).
"""

from __future__ import annotations

from typing import Any

from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

HOOKED = callable(getattr(Widget, "_set_dirty", None))
"""Whether this Textual marks widgets dirty through ``Widget._set_dirty`` (every version this
station supports does); without it the widgets draw as Textual's own do, never stale."""


class QuietLines(Widget):
    """Mixin: ``render_lines`` answers from the last answer until the widget is marked dirty.

    List it after the widget's own base (``class Plain(Static, QuietLines)``): Textual takes a
    widget's default CSS along its first bases only.
    """

    _quiet_key: tuple[Any, ...] | None = None
    _quiet_lines: list[Strip] | None = None

    def _set_dirty(self, *regions: Region) -> None:
        """Forget the last answer, then let Textual mark the regions dirty."""
        self._quiet_key = None
        super()._set_dirty(*regions)

    def render_lines(self, crop: Region) -> list[Strip]:
        """The widget's lines in ``crop``: the last ones while nothing in the widget changed."""
        if not HOOKED:
            return super().render_lines(crop)
        _, background = self.background_colors
        key = (crop, background, tuple(self.get_line_filters()))
        if key == self._quiet_key and self._quiet_lines is not None:
            return self._quiet_lines
        lines = super().render_lines(crop)
        self._quiet_key, self._quiet_lines = key, lines
        return lines
