"""The inspector's terminal UI (Textual): thin screens over the station service."""

import os

SCREEN_UPDATES_PER_SECOND = 120
"""How often, at most, Textual redraws what changed (its default is 60).

A verdict set between two of Textual's screen updates waits for the next one: at 60 a second up
to 16.7 ms, the largest share of "verdict set -> screen refreshed" (measured with
`bench/bench_tui_latency.py`, p50 ~5 -> ~3.4 ms and p99 31-34 -> 18-24 ms at 120). Nothing is
redrawn while nothing changes, so an idle station costs the same. Textual reads it once, from
``TEXTUAL_FPS``, when it is first imported: set here, before this package imports it, unless the
user set ``TEXTUAL_FPS`` themselves.
"""

os.environ.setdefault("TEXTUAL_FPS", str(SCREEN_UPDATES_PER_SECOND))
