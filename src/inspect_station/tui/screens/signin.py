"""Sign in with a user id or a badge scan and a PIN."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Input, Label

from inspect_station.errors import InspectStationError
from inspect_station.tui.keybar import KeyBar
from inspect_station.tui.screens.base import StationScreen
from inspect_station.tui.widgets import GaugeStatusBar, Plain
from inspect_station.users import FIRST_ADMIN_HINT, User


def banner_text(station: str, has_users: bool = True) -> str:
    """What the sign-in screen says above the fields (how to begin on a station with no users)."""
    if not has_users:
        return (
            f"Station {station} has no users yet. Add the first administrator in a terminal:\n"
            f"{FIRST_ADMIN_HINT}"
        )
    return f"Station {station}\nScan your badge or type your user id, then your PIN."


class SignInScreen(StationScreen):
    """User id (or badge) and PIN."""

    BINDINGS = [
        Binding("tab", "app.focus_next", "Next field"),
        Binding("escape", "clear", "Clear"),
    ]
    NEXT_MODULES: ClassVar[tuple[str, ...]] = (
        "inspect_station.tui.screens.job",
        "inspect_station.tui.screens.review",
    )
    """The screens a sign-in leads to: imported by the app while the user signs in."""

    def __init__(self, message: str = "") -> None:
        super().__init__()
        self._message = message

    def compose(self) -> ComposeResult:
        """User id, PIN, a message line and the gauges."""
        station = self.app.service.config.station
        yield Plain(f"inspect-station · {station} · sign in", classes="title")
        with Vertical(id="signin"):
            has_users = not self.app.service.users.is_empty()
            yield Plain(banner_text(station, has_users), id="station-banner")
            with Grid(classes="fields"):
                yield Label("User or badge")
                yield Input(id="user", placeholder="scan badge or type user id")
                yield Label("PIN")
                yield Input(id="pin", password=True, placeholder="PIN", restrict=r"[0-9]*")
            yield Plain(self._message, id="message", classes="message")
        yield GaugeStatusBar(id="gauges")
        yield KeyBar()

    def on_mount(self) -> None:
        """Start in the user field."""
        self.set_focus(self.query_one("#user", Input))
        self.app.refresh_status()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the user field moves to the PIN; Enter in the PIN signs in."""
        if event.input.id == "user":
            self.set_focus(self.query_one("#pin", Input))
            return
        user_id = self.query_one("#user", Input).value
        pin = self.query_one("#pin", Input).value
        if not user_id.strip():
            self.say("Enter your user id or scan your badge.", error=True)
            self.set_focus(self.query_one("#user", Input))
            return
        self.say("Checking…")
        self.submit(lambda: self.app.service.sign_in(user_id, pin), self._signed_in, self._refused)

    def _signed_in(self, user: User) -> None:
        """Start the session: the job screen at a bench, the rejects at an office terminal."""
        if not self.app.begin_session(user):
            return
        # Imported here, not at start: the first screen shows without the bench's screens (the
        # app has been importing them while the user signed in; NEXT_MODULES).
        self.app.warmed_up()
        from inspect_station.tui.screens.job import JobScreen
        from inspect_station.tui.screens.review import ReviewScreen

        if self.app.office:
            self.app.switch_screen(ReviewScreen(self.app.review, can_leave=False))
        else:
            self.app.switch_screen(JobScreen())

    def _refused(self, error: InspectStationError) -> None:
        pin = self.query_one("#pin", Input)
        pin.value = ""
        self.set_focus(pin)
        self.say(error.message, error=True)

    def action_clear(self) -> None:
        """Clear both fields."""
        for field in self.query(Input):
            field.value = ""
        self.set_focus(self.query_one("#user", Input))
        self.say("")
