"""The station app: owns the gauge hub, the writer thread, the shipper and the signed-in user.

Screens know the app (``StationScreen.app`` is a :class:`StationApp`); the app knows no screen
but the one it is given to start at and to return to (``home``, the sign-in screen), so the
screens choose where to go next. :func:`inspect_station.wiring.build_app` builds it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeVar

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from inspect_station.errors import InspectStationError
from inspect_station.gauges.events import GaugeEvent, ReadingEvent
from inspect_station.gauges.hub import AssetState, GaugeHub
from inspect_station.measuring.writer import GroupedWrite, StationWriter
from inspect_station.recording import MeasurementAck
from inspect_station.station import StationService
from inspect_station.text import printable
from inspect_station.tui.handover import GaugeInbox
from inspect_station.tui.widgets import GaugeStatusBar
from inspect_station.users import Role, User

if TYPE_CHECKING:
    # Built when first used (review) or imported by whoever passes them (demo), so that the
    # station's first screen does not wait for them.
    from inspect_station.review.service import Review
    from inspect_station.sync import Shipper, SyncStatus
    from inspect_station.tui.demo import DemoControls

T = TypeVar("T")


class GaugeMessage(Message):
    """A gauge event handed from a reader thread to the UI thread."""

    def __init__(self, event: GaugeEvent) -> None:
        super().__init__()
        self.event = event


class GaugesWaiting(Message):
    """Gauge events wait in the app's inbox (one such message is in the UI's queue at most)."""


class WorkDone(Message):
    """Work finished on the writer thread; its outcome is delivered on the UI thread."""

    def __init__(self, deliver: Callable[[], None]) -> None:
        super().__init__()
        self.deliver = deliver


def _import_quietly(names: tuple[str, ...]) -> None:
    """Import each module named; a failure is left for the import that needs the module to
    report (on the UI thread, as it would without the warm-up)."""
    for name in names:
        try:
            import_module(name)
        except Exception:  # reported where the module is imported for use
            return


class SyncMessage(Message):
    """The shipper's status, handed from its thread to the UI thread."""

    def __init__(self, status: SyncStatus) -> None:
        super().__init__()
        self.status = status


class StationApp(App[None]):
    """The inspection station."""

    CSS_PATH = "station.tcss"
    TITLE = "inspect-station"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(
        self,
        service: StationService,
        *,
        home: Callable[[str], Screen[Any]],
        demo: DemoControls | None = None,
        hub_factory: Callable[[Callable[[GaugeEvent], None]], GaugeHub | None] | None = None,
        shipper_factory: Callable[[], Shipper | None] | None = None,
        review: Review | None = None,
        office: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.service = service
        """The station service every screen calls (from the writer thread)."""
        self._home = home
        self.demo = demo
        """Demo controls (simulated DATA key), or None at a real bench."""
        self.user: User | None = None
        """The signed-in user."""
        self.hub: GaugeHub | None = None
        """The gauge hub (None when no gauges are configured)."""
        self._hub_factory = hub_factory or self._default_hub
        self._shipper_factory = shipper_factory or self._default_shipper
        self.shipper: Shipper | None = None
        """Ships the journal to the central store in the background (None: sync off)."""
        self._sync_stop = threading.Event()
        self._sync_thread: threading.Thread | None = None
        self._warming: threading.Thread | None = None
        self._writer = StationWriter(service.recorder)
        self.gauge_inbox = GaugeInbox(lambda: self.post_message(GaugesWaiting()))
        """Gauge events handed over from the reader threads (bounded, see ``tui.handover``)."""
        self._clock = clock
        self._last_input = clock()
        self.idle_limit = service.config.idle_timeout_minutes * 60.0
        """Seconds without input after which the user is signed out."""
        self.sync_note = ""
        """Sync status for the status bar (unsynced count, last error)."""
        self._review = review
        self.office = office
        """An office terminal: supervisors go straight to the rejects, there is no bench."""

    # -- life cycle ---------------------------------------------------------------------------

    def _default_hub(self, callback: Callable[[GaugeEvent], None]) -> GaugeHub | None:
        if not self.service.config.gauge:
            return None
        return GaugeHub(self.service.config, on_event=callback)

    def _default_shipper(self) -> Shipper | None:
        from inspect_station.sync import Shipper

        return Shipper(self.service.store, self.service.config.central_url)

    @property
    def review(self) -> Review:
        """Where supervisors review rejects (this station's record, or a central store)."""
        if self._review is None:
            from inspect_station.records import LocalSource
            from inspect_station.review.model import SignaturePolicy
            from inspect_station.review.service import Review

            service = self.service
            self._review = Review(
                LocalSource(service.store),
                service.store,
                service.users,
                SignaturePolicy.from_config(service.config),
                warn_days=service.config.calibration_warning_days,
            )
        return self._review

    def on_mount(self) -> None:
        """Start the gauges, show the sign-in screen, and start the shipper once it is shown."""
        self.hub = self._hub_factory(self._from_reader_thread)
        if self.hub is not None:
            self.hub.start()
        self.set_interval(1.0, self._tick)
        self.push_screen(self._home(""))
        # The shipper's first round (opening the central store, comparing heads) and the import
        # of the screens that follow sign-in would compete with the first screen for the
        # processor; they start once that screen is drawn.
        self.call_after_refresh(self._start_sync)
        self.call_after_refresh(self._warm_up)

    def on_unmount(self) -> None:
        """Stop the gauges, the writer (finishing what it has, and recording that a signed-in
        user's session ended with the station) and the shipper."""
        if self.hub is not None:
            self.hub.close()
        self.gauge_inbox.close()
        user, self.user = self.user, None
        if user is not None:
            self._writer.submit(lambda: self.service.sign_out(user, "station closed"))
        self._writer.shutdown(wait=True)
        self._sync_stop.set()
        if self._sync_thread is not None:
            self._sync_thread.join(timeout=10)

    # -- warm-up ------------------------------------------------------------------------------

    def _warm_up(self) -> None:
        """Import the modules of the screens after the first one (the home screen's
        ``NEXT_MODULES``) on a thread of their own, while the user signs in."""
        names: tuple[str, ...] = getattr(self._home, "NEXT_MODULES", ())
        if names:
            self._warming = threading.Thread(
                target=_import_quietly, args=(names,), name="station-warm-up", daemon=True
            )
            self._warming.start()

    def warmed_up(self) -> None:
        """Wait until the warm-up imports are done, so that no module is imported by two
        threads at once (immediate unless the user signed in faster than they ran)."""
        if self._warming is not None:
            self._warming.join()
            self._warming = None

    # -- sync ---------------------------------------------------------------------------------

    def _start_sync(self) -> None:
        """Run the shipper on its own thread; a bad central URL is shown, never fatal."""
        if self._sync_stop.is_set():
            return  # the station closed before its first screen was drawn
        try:
            self.shipper = self._shipper_factory()
        except InspectStationError as exc:
            self.sync_note = f"sync off: {exc.message}"
            self.refresh_status()
            return
        if self.shipper is None:
            return
        shipper = self.shipper
        self._sync_thread = threading.Thread(
            target=shipper.run,
            args=(self._sync_stop, lambda status: self.post_message(SyncMessage(status))),
            name="station-shipper",
            daemon=True,
        )
        self._sync_thread.start()

    def on_sync_message(self, message: SyncMessage) -> None:
        """Show unsynced count, last success and last error in the status bar."""
        self.sync_note = f"sync: {message.status.summary()}"
        self.refresh_status()

    def _from_reader_thread(self, event: GaugeEvent) -> None:
        """Called on a reader thread: hand the event over (bounded), never block."""
        self.gauge_inbox.put(event)

    # -- gauges -------------------------------------------------------------------------------

    def gauge_states(self) -> list[AssetState]:
        """Snapshots of every gauge for status bars."""
        return self.hub.states() if self.hub is not None else []

    def on_gauges_waiting(self, _message: GaugesWaiting) -> None:
        """Take every gauge event waiting, in order: the status bar is redrawn once for them
        all, each event goes to the screen, and readings that found the inbox full are told."""
        taken = self.gauge_inbox.take()
        if not self.screen_stack:
            return  # the station is closing: no screen is left to show it
        if taken.left_out or any(not isinstance(e, ReadingEvent) for e in taken.events):
            self.refresh_status()
        for event in taken.events:
            self._to_screen(event)
        if taken.not_taken:
            lost = ", ".join(f"{n} from {asset}" for asset, n in sorted(taken.not_taken.items()))
            self._tell(f"Readings not taken ({lost}): the station was busy; send them again.")

    def on_gauge_message(self, message: GaugeMessage) -> None:
        """Refresh the status bar on state changes and let the active screen use the event."""
        if not self.screen_stack:
            return  # the station is closing: no screen is left to show it
        if not isinstance(message.event, ReadingEvent):
            self.refresh_status()
        self._to_screen(message.event)

    def _to_screen(self, event: GaugeEvent) -> None:
        """Let the active screen use a gauge event."""
        handler = getattr(self.screen, "gauge_event", None)
        # A reading that arrives while the screen is being torn down (the station closing,
        # a sign-out) finds no widgets: it is dropped, as the reader would drop it a moment later.
        if handler is not None and getattr(self.screen, "alive", True):
            handler(event)

    def _tell(self, text: str) -> None:
        """An error for the inspector: on the screen's message line if it has one."""
        say = getattr(self.screen, "say", None)
        if say is not None and getattr(self.screen, "alive", False):
            say(text, error=True)
        else:
            self.bell()
            self.notify(printable(text), severity="error", markup=False)

    def refresh_status(self) -> None:
        """Redraw the status bar (gauges, sync) of the current screen, if it has one."""
        if not self.screen_stack:
            return
        for bar in self.screen.query(GaugeStatusBar):
            bar.show(self.gauge_states(), self.sync_note)

    # -- background work ----------------------------------------------------------------------

    def submit(
        self,
        work: Callable[[], T],
        done: Callable[[T], Any],
        failed: Callable[[InspectStationError], Any] | None = None,
    ) -> Future[T]:
        """Run blocking work (the SQLite file, scrypt) on the writer thread, in order.

        ``done`` or ``failed`` then runs on the UI thread; an unexpected exception is shown as
        an error notification and logged, never lost silently.
        """
        future = self._writer.submit(work)
        self._deliver(future, done, failed)
        return future

    def submit_measurement(
        self,
        write: GroupedWrite,
        done: Callable[[MeasurementAck], Any],
        failed: Callable[[InspectStationError], Any] | None = None,
    ) -> Future[MeasurementAck]:
        """Record a measurement on the writer thread, in one commit with the measurements
        waiting next to it (group commit); ``done`` (after the commit) or ``failed`` then runs
        on the UI thread, in the order submitted."""
        future = self._writer.submit_measurement(write)
        self._deliver(future, done, failed)
        return future

    def _deliver(
        self,
        future: Future[T],
        done: Callable[[T], Any],
        failed: Callable[[InspectStationError], Any] | None,
    ) -> None:
        """Once ``future`` is done, hand its outcome to ``done`` or ``failed`` on the UI thread;
        an unexpected exception is shown as an error notification and logged."""

        def deliver() -> None:
            """On the UI thread: hand the outcome to ``done`` or ``failed``."""
            error = future.exception()
            if error is None:
                done(future.result())
            elif isinstance(error, InspectStationError):
                (failed or self._report)(error)
            else:  # a defect: show it, keep the station running
                self.log.error(repr(error))
                self.notify(printable(f"Unexpected error: {error}"), severity="error", markup=False)

        def finished(_: Future[T]) -> None:
            # Never block the writer on the UI: post the outcome and go on to the next job.
            self.post_message(WorkDone(deliver))
            if self.shipper is not None:
                self.shipper.wake()  # something may have been recorded: ship it soon

        future.add_done_callback(finished)

    def on_work_done(self, message: WorkDone) -> None:
        """Hand a finished job's outcome to whoever asked for it."""
        message.deliver()

    def _report(self, error: InspectStationError) -> None:
        self.notify(printable(error.message), severity="error", markup=False)

    # -- sessions -----------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Note the time of every key press or click (for the idle time-out)."""
        if isinstance(event, events.InputEvent) and not event.is_forwarded:
            self._last_input = self._clock()
        await super().on_event(event)

    def _tick(self) -> None:
        if self.user is not None and self._clock() - self._last_input > self.idle_limit:
            self.sign_out("idle time-out")
        self.refresh_status()

    @property
    def may_review(self) -> bool:
        """Whether the signed-in user may review rejects and sign dispositions."""
        return self.user is not None and self.user.role is Role.SUPERVISOR

    def begin_session(self, user: User) -> bool:
        """Start a signed-in user's session; an office terminal takes supervisors only (False,
        and the user is told, for anyone else)."""
        if self.office and user.role is not Role.SUPERVISOR:
            self.notify("Only supervisors review rejects.", severity="error")
            return False
        self.user = user
        self._last_input = self._clock()
        return True

    def sign_out(self, reason: str = "signed out") -> None:
        """End the session and return to the sign-in screen."""
        user, self.user = self.user, None
        if user is not None:
            self.submit(lambda: self.service.sign_out(user, reason), lambda _: None)
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(self._home(f"{user.name if user else ''} {reason}.".strip()))
