"""The bounded hand-over of gauge events from the reader threads to the UI thread.

A reader thread never blocks and never posts more than one message into the UI's queue: it
puts its event in the :class:`GaugeInbox` and, if no hand-over is already on its way, asks the
UI once (``wake``). The UI thread then takes everything waiting in one go, in the order the
readers delivered it, and redraws the gauge status once for the lot: only the newest state of
a gauge matters for the status bar, so a burst of readings is one redraw, not one per reading.

Every reading in the inbox reaches the screen, in order: a reading is a DATA press meant to be
recorded. The inbox is bounded (``limit`` events): should the UI thread stall long enough to
fill it, a further reading is not taken but counted per asset, and the UI says so aloud (the
inspector sends it again), as the reader reports what its own bounded queue could not hold; a
further status event (connected, an error frame) is counted and left out, as the gauges' state
snapshots still say where each stands. Nothing is ever dropped without being told.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from inspect_station.gauges.events import GaugeEvent, ReadingEvent

INBOX_LIMIT = 256
"""Gauge events the UI may owe at most (six seconds of four gauges at 10 Hz)."""


@dataclass(frozen=True)
class Handover:
    """What the UI takes from the inbox at once."""

    events: list[GaugeEvent]
    """Every event kept, in the order the readers delivered them."""
    not_taken: dict[str, int] = field(default_factory=dict)
    """Asset (or port) -> readings that found the inbox full and were not taken."""
    left_out: int = 0
    """Status events that found the inbox full (the gauge states still hold the truth)."""


class GaugeInbox:
    """Gauge events waiting for the UI thread: bounded, one wake-up at a time."""

    def __init__(self, wake: Callable[[], object], limit: int = INBOX_LIMIT) -> None:
        if limit < 1:
            raise ValueError("the inbox holds at least one event")
        self._wake = wake
        self.limit = limit
        """Most events waiting; readings beyond it are counted and told, not kept."""
        self._lock = threading.Lock()
        self._events: list[GaugeEvent] = []
        self._not_taken: Counter[str] = Counter()
        self._left_out = 0
        self._woken = False
        self._closed = False

    def put(self, event: GaugeEvent) -> None:
        """On a reader thread: hand ``event`` over; never blocks on the UI."""
        with self._lock:
            if self._closed:
                return
            if len(self._events) < self.limit:
                self._events.append(event)
            elif isinstance(event, ReadingEvent):
                self._not_taken[event.asset or event.port] += 1
            else:
                self._left_out += 1
            if self._woken:
                return
            self._woken = True
        if self._wake() is False:  # the UI takes no message (not running): ask again next time
            with self._lock:
                self._woken = False

    def take(self) -> Handover:
        """On the UI thread: everything waiting, and what did not fit; the next event wakes the
        UI again."""
        with self._lock:
            out = Handover(self._events, dict(self._not_taken), self._left_out)
            self._events = []
            self._not_taken.clear()
            self._left_out = 0
            self._woken = False
        return out

    def waiting(self) -> int:
        """Events waiting for the UI thread."""
        with self._lock:
            return len(self._events)

    def close(self) -> None:
        """Take no more events (the station is closing)."""
        with self._lock:
            self._closed = True
            self._events = []
