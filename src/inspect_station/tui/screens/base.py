"""What every station screen shares: a message line, background work that outlives nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual import getters
from textual.screen import Screen
from textual.widgets import Static

from inspect_station.errors import InspectStationError
from inspect_station.measuring.writer import GroupedWrite
from inspect_station.recording import MeasurementAck
from inspect_station.tui.app import StationApp

T = TypeVar("T")


class StationScreen(Screen[None]):
    """A screen with a ``#message`` line and writer-thread work bound to its lifetime."""

    app = getters.app(StationApp)
    """The station app this screen belongs to (typed: its service, user, hub, writer)."""

    @property
    def alive(self) -> bool:
        """Whether the screen still has its widgets (not closed, not being torn down): an
        answer that arrives while the app is exiting finds its widgets half removed."""
        return (
            self.app.is_running  # False from the start of the app's shutdown
            and self.is_attached
            and bool(self.children)
            and not (self._pruning or self._closing or self._closed)  # being removed
        )

    def say(self, text: str, error: bool = False, bell: bool = True) -> None:
        """Show one line to the inspector; an error is marked (and rings, unless told not to)."""
        message = self.query_one("#message", Static)
        message.set_class(error, "error")
        message.update(text, layout=False)
        if error and bell:
            self.app.bell()

    def submit(
        self,
        work: Callable[[], T],
        done: Callable[[T], Any],
        failed: Callable[[InspectStationError], Any] | None = None,
    ) -> None:
        """Run ``work`` on the writer thread; the answer is dropped if this screen has closed.

        Errors are shown on the message line unless ``failed`` handles them.
        """

        self.app.submit(work, *self._bound(done, failed))

    def submit_measurement(
        self,
        write: GroupedWrite,
        done: Callable[[MeasurementAck], Any],
        failed: Callable[[InspectStationError], Any] | None = None,
    ) -> None:
        """Record a measurement on the writer thread (group commit with those waiting next to
        it); the answer is dropped if this screen has closed, as for :meth:`submit`."""
        self.app.submit_measurement(write, *self._bound(done, failed))

    def _bound(
        self, done: Callable[[T], Any], failed: Callable[[InspectStationError], Any] | None
    ) -> tuple[Callable[[T], None], Callable[[InspectStationError], None]]:
        """``done`` and ``failed`` bound to this screen's lifetime (the message line shows an
        error nobody handles)."""

        def on_done(result: T) -> None:
            if self.alive:
                done(result)

        def on_failed(error: InspectStationError) -> None:
            if not self.alive:
                return
            if failed is not None:
                failed(error)
            else:
                self.say(error.message, error=True)

        return on_done, on_failed
