"""Modal dialogs that return a typed answer: manual entry, reason, serial, reject, revision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from inspect_station.spec.diff import Change
from inspect_station.tui.app import StationApp
from inspect_station.tui.widgets import Plain, plain

T = TypeVar("T")


@dataclass(frozen=True)
class ManualEntry:
    """A value typed by the inspector and why no gauge fed it."""

    value: str
    reason: str


class Dialog(ModalScreen[T | None]):
    """Base of the station's dialogs, answering a ``T``: Escape cancels (the answer is None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    app = getters.app(StationApp)
    """The station app the dialog is shown in."""

    def action_cancel(self) -> None:
        """Close without an answer."""
        self.dismiss(None)

    def _error(self, text: str) -> None:
        self.query_one("#dialog-message", Static).update(text)
        self.app.bell()


MANUAL_REASONS = [
    "gauge unplugged or not answering",
    "no serial gauge for this characteristic",
    "gauge locked: calibration overdue",
    "keyboard-wedge gauge",
]


class ManualEntryDialog(Dialog[ManualEntry]):
    """Type a value when no gauge can feed it, with a reason."""

    DEFAULT_CLASSES = "dialog"

    def __init__(self, title: str, default_reason: str = "") -> None:
        super().__init__()
        self._title = title
        self._reason = default_reason

    def compose(self) -> ComposeResult:
        """Value, reason (pick or type) and a message line."""
        with Vertical():
            yield Label(plain(self._title))
            yield Input(id="value", placeholder="value, e.g. 120.03 or 4.7283in")
            yield Label("Reason (pick one or type your own)")
            yield OptionList(*MANUAL_REASONS, id="reasons")
            yield Input(id="reason", value=self._reason, placeholder="reason")
            yield Plain("Enter to record · Esc to cancel", id="dialog-message")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Copy a picked reason into the reason field."""
        self.query_one("#reason", Input).value = str(event.option.prompt)
        self.set_focus(self.query_one("#reason", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: value then reason; both needed."""
        value = self.query_one("#value", Input).value.strip()
        reason = self.query_one("#reason", Input).value.strip()
        if not value:
            self.set_focus(self.query_one("#value", Input))
            return self._error("Type the value.")
        if event.input.id == "value" and not reason:
            self.set_focus(self.query_one("#reasons", OptionList))
            return None
        if not reason:
            return self._error("Give a reason: why did no gauge feed this value?")
        self.dismiss(ManualEntry(value, reason))
        return None


class TextDialog(Dialog[str]):
    """Ask one line of text (a correction reason, a serial number)."""

    DEFAULT_CLASSES = "dialog"

    def __init__(self, title: str, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self._title, self._placeholder, self._value = title, placeholder, value

    def compose(self) -> ComposeResult:
        """A label, a field and a message line."""
        with Vertical():
            yield Label(plain(self._title))
            yield Input(id="text", value=self._value, placeholder=self._placeholder)
            yield Plain("Enter to confirm · Esc to cancel", id="dialog-message")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Confirm a non-empty answer."""
        text = event.value.strip()
        if not text:
            return self._error("This cannot be empty.")
        self.dismiss(text)
        return None


@dataclass(frozen=True)
class RejectAnswer:
    """Why a part is rejected."""

    defect_code: str
    note: str


class RejectDialog(Dialog[RejectAnswer]):
    """A failing part: pick a defect code, add a note; it goes to the rejects awaiting review."""

    DEFAULT_CLASSES = "dialog"

    def __init__(self, serial: str, failed: list[str], codes: dict[str, str]) -> None:
        super().__init__()
        self._serial, self._failed, self._codes = serial, failed, codes

    def compose(self) -> ComposeResult:
        """Failed characteristics, the defect codes, a note."""
        with Vertical():
            yield Label(plain(f"REJECT part {self._serial}: failed {', '.join(self._failed)}"))
            yield Label("Defect code")
            yield OptionList(
                *(Option(plain(f"{code}  {text}"), id=code) for code, text in self._codes.items()),
                id="codes",
            )
            yield Input(id="note", placeholder="note (what you saw)")
            yield Plain("Pick a code, type a note, Enter · Esc to go back", id="dialog-message")

    def on_mount(self) -> None:
        """Start in the code list."""
        self.set_focus(self.query_one("#codes", OptionList))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A code was picked: go to the note."""
        self.set_focus(self.query_one("#note", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Confirm with the highlighted code and the note."""
        codes = self.query_one("#codes", OptionList)
        if codes.highlighted is None:
            self.set_focus(codes)
            return self._error("Pick a defect code.")
        option = codes.get_option_at_index(codes.highlighted)
        self.dismiss(RejectAnswer(str(option.id), event.value.strip()))
        return None


class RevisionDialog(Dialog[bool]):
    """What changed in a new revision; the inspector acknowledges before measuring."""

    DEFAULT_CLASSES = "dialog"
    BINDINGS = [Binding("a", "acknowledge", "Acknowledge"), Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, changes: list[Change]) -> None:
        super().__init__()
        self._title, self._changes = title, changes

    def compose(self) -> ComposeResult:
        """The list of changes and the keys."""
        lines = []
        for c in self._changes:
            where = f"#{c.characteristic}" if c.characteristic else "part"
            lines.append(f"{c.kind.upper():<8} {where:<5} {c.text}")
        with Vertical():
            yield Plain(self._title)
            yield Plain("\n".join(lines), id="changes")
            yield Plain("A: I have read the changes · Esc: back", id="dialog-message")

    def action_acknowledge(self) -> None:
        """Acknowledge (recorded in the journal by the caller)."""
        self.dismiss(True)
