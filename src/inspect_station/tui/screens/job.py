"""Choose the part and the lot: find a released revision, enter lot, work order and lot size."""

from __future__ import annotations

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Static

from inspect_station.errors import InspectStationError
from inspect_station.measuring import PartSession
from inspect_station.numbers import NumberError, parse_count
from inspect_station.sampling import MAX_LOT_SIZE
from inspect_station.spec import PartSpec
from inspect_station.spec.diff import Change
from inspect_station.station import LotProgress
from inspect_station.tui.keybar import KeyBar
from inspect_station.tui.screens.base import StationScreen
from inspect_station.tui.screens.dialogs import RevisionDialog
from inspect_station.tui.screens.measure import MeasureScreen
from inspect_station.tui.screens.review import ReviewScreen
from inspect_station.tui.widgets import GaugeStatusBar, Plain, PlainTable, fit
from inspect_station.users import User

_FOLLOWING = {"search": "lot", "lot": "work-order", "work-order": "lot-size"}
"""The field Enter moves to from each field of the job (from the lot size it starts the lot)."""


class JobScreen(StationScreen):
    """Find a part, enter the lot, see the ISO 2859-1 plan; or resume an unfinished lot."""

    BINDINGS = [
        Binding("tab", "app.focus_next", "Next field"),
        # Enter in a field is taken as the key arrives (a priority binding), not when the field
        # gets round to it: keys typed ahead by a scanner or a quick typist then land in the
        # field the Enter moved to, not in the one it left.
        Binding("enter", "next_field", "Next field", show=False, priority=True),
        Binding("f5", "focus_resume", "Resume a lot"),
        Binding("f3", "first_article", "First article"),
        Binding("f9", "review", "Rejects"),
        Binding("f2", "sign_out", "Sign out"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[PartSpec] = []
        self._chosen: PartSpec | None = None
        self._lots: list[LotProgress] = []
        self._first_article = False
        """Whether the lot started next is declared a first article (F3 toggles it)."""

    @property
    def _user(self) -> User:
        """The signed-in user (the job screen exists only in a session)."""
        user = self.app.user
        assert user is not None
        return user

    def compose(self) -> ComposeResult:
        """Part search and list, lot fields and plan, unfinished lots."""
        user = self._user
        yield Plain(f"inspect-station · {user.name} ({user.role.value}) · job", classes="title")
        with Horizontal(id="job"):
            with Vertical(id="job-left"):
                with Grid(classes="fields"):
                    yield Label("Part")
                    yield Input(id="search", placeholder="number or words, e.g. BRK")
                yield PlainTable(id="parts", cursor_type="row")
                with Grid(classes="fields"):
                    yield Label("Lot")
                    yield Input(id="lot", placeholder="lot number")
                    yield Label("Work order")
                    yield Input(id="work-order", placeholder="optional")
                    yield Label("Lot size")
                    yield Input(id="lot-size", placeholder="parts in the lot", type="integer")
                yield Plain("", id="plan")
            with Vertical(id="job-right"):
                yield Label("Unfinished lots (F5)")
                yield PlainTable(id="lots", cursor_type="row")
        yield Plain("", id="message", classes="message")
        yield GaugeStatusBar(id="gauges")
        yield KeyBar()

    def on_mount(self) -> None:
        """Fill the lists and focus the search."""
        parts = self.query_one("#parts", DataTable)
        parts.add_columns("Part", "Rev", "Description")
        lots = self.query_one("#lots", DataTable)
        lots.add_columns("Lot", "Part", "Rev", "Done", "NC")
        self._search("")
        self.submit(self.app.service.unfinished_lots, self._show_lots)
        self.set_focus(self.query_one("#search", Input))
        self.app.refresh_status()

    def _search(self, query: str) -> None:
        self._parts = self.app.service.find_parts(query)
        table = self.query_one("#parts", DataTable)
        table.clear()
        for spec in self._parts:
            table.add_row(spec.part_number, spec.revision, fit(spec.description, 36))

    def _show_lots(self, lots: list[LotProgress]) -> None:
        self._lots = lots
        table = self.query_one("#lots", DataTable)
        table.clear()
        for p in lots:
            done = f"{p.inspected}/{p.plan.sample_size}" if p.plan else str(p.inspected)
            table.add_row(p.lot.lot, p.lot.part_number, p.lot.revision, done, str(p.nonconforming))

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter parts as the inspector types; preview the plan as the lot size changes."""
        if event.input.id == "search":
            self._search(event.value)
        elif event.input.id == "lot-size":
            self._preview_plan()

    def _preview_plan(self) -> None:
        plan_line = self.query_one("#plan", Static)
        size = _lot_size(self.query_one("#lot-size", Input).value)
        if self._chosen is None or isinstance(size, str):
            plan_line.update("")
            return
        plan = self.app.service.preview_plan(self._chosen, size)
        hundred = " — 100 % inspection" if plan.hundred_percent else ""
        plan_line.update(
            f"ISO 2859-1 level {plan.level.value}, AQL {plan.aql}: code {plan.code_letter}, "
            f"sample {plan.sample_size}, Ac {plan.accept} / Re {plan.reject}{hundred}"
        )

    def action_next_field(self) -> None:
        """Move on from the focused field at once; what the field's Enter decides comes after the
        keys already typed into it (a part chosen from what was typed, the lot started)."""
        field = self.focused
        following = _FOLLOWING.get(field.id or "") if isinstance(field, Input) else None
        if not isinstance(field, Input) or following is None:
            raise SkipAction  # the last field, or not a field: its own Enter handles it
        self.set_focus(self.query_one(f"#{following}", Input))
        if field.id == "search":
            field.post_message(Input.Submitted(field, field.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves through the fields; on the last one it starts the lot."""
        field = event.input.id
        if field == "search":
            if not self._choose_searched():
                self.set_focus(event.input)
                return self.say("No released part matches.", error=True)
        elif field == "lot":
            self.set_focus(self.query_one("#work-order", Input))
        elif field == "work-order":
            self.set_focus(self.query_one("#lot-size", Input))
        elif field == "lot-size":
            self._start()
        return None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a part chooses it; on an unfinished lot resumes it."""
        if event.data_table.id == "parts":
            self._choose(self._parts[event.cursor_row])
        elif event.data_table.id == "lots" and self._lots:
            progress = self._lots[event.cursor_row]
            try:
                spec = self.app.service.spec_of(progress.lot)
            except InspectStationError as exc:
                return self.say(exc.message, error=True)
            self._begin(spec, progress.lot.lot, None, progress.lot.work_order)
        return None

    def _choose_searched(self) -> bool:
        """Choose the highlighted part of the search's list (the first when none is); False when
        nothing matches."""
        if not self._parts:
            return False
        table = self.query_one("#parts", DataTable)
        self._choose(self._parts[table.cursor_row if table.row_count else 0])
        return True

    def _choose(self, spec: PartSpec) -> None:
        self._chosen = spec
        self.say(f"{spec.part_number} rev {spec.revision} — {spec.description}")
        if self.focused is None or self.focused.id in ("search", "parts"):
            # Not when keys typed ahead have already moved on to the lot's fields.
            self.set_focus(self.query_one("#lot", Input))
        self._preview_plan()

    def _start(self) -> None:
        if self._chosen is None and self.query_one("#search", Input).value.strip():
            self._choose_searched()  # the part's Enter was typed ahead of the list's answer
        if self._chosen is None:
            self.set_focus(self.query_one("#search", Input))
            return self.say("Choose a part first.", error=True)
        lot = self.query_one("#lot", Input).value.strip()
        if not lot:
            self.set_focus(self.query_one("#lot", Input))
            return self.say("Enter the lot number.", error=True)
        size = _lot_size(self.query_one("#lot-size", Input).value)
        if isinstance(size, str):
            self.set_focus(self.query_one("#lot-size", Input))
            return self.say(size, error=True)
        work_order = self.query_one("#work-order", Input).value.strip() or None
        self._begin(self._chosen, lot, size, work_order)
        return None

    def _begin(
        self, spec: PartSpec, lot: str, lot_size: int | None, work_order: str | None
    ) -> None:
        """Check qualification and revision changes, then open the lot and measure."""
        service, user = self.app.service, self._user

        def prepare() -> list[Change]:
            service.check_qualified(user, spec)
            return service.pending_changes(user, spec)

        def after_check(changes: list[Change]) -> None:
            if not changes:
                return self._open(spec, lot, lot_size, work_order, [])
            title = (
                f"{spec.part_number} revision {spec.revision} is new to you. What changed since "
                "the previous revision:"
            )

            def answered(ok: bool | None) -> None:
                if ok:
                    self._open(spec, lot, lot_size, work_order, changes)
                else:
                    self.say("Not started: the changes were not acknowledged.", error=True)

            self.app.push_screen(RevisionDialog(title, changes), answered)
            return None

        self.submit(prepare, after_check, None)

    def _open(
        self,
        spec: PartSpec,
        lot: str,
        lot_size: int | None,
        work_order: str | None,
        acknowledged: list[Change],
    ) -> None:
        service, user = self.app.service, self._user

        first_article = self._first_article

        def work() -> LotProgress:
            if acknowledged:
                service.acknowledge(user, spec, acknowledged)
            progress = service.start_lot(user, spec, lot, lot_size=lot_size, work_order=work_order)
            if first_article:
                service.declare_first_article(user, spec, lot)
            return progress

        def measure(progress: LotProgress) -> None:
            session = PartSession(service, user, spec, progress, gauges=self.app.hub)
            self.app.push_screen(MeasureScreen(session))

        self.submit(work, measure, None)

    def on_screen_resume(self) -> None:
        """Back from measuring: refresh the unfinished lots."""
        self.submit(self.app.service.unfinished_lots, self._show_lots)

    def action_first_article(self) -> None:
        """Declare (or not) the lot started next a first article (AS9102)."""
        self._first_article = not self._first_article
        if self._first_article:
            self.say(
                "First article: the lot started next is declared a first article (AS9102); "
                "F3 again to undo."
            )
        else:
            self.say("Not a first article.")

    def action_sign_out(self) -> None:
        """Sign out."""
        self.app.sign_out()

    def action_focus_resume(self) -> None:
        """Move to the unfinished lots."""
        self.set_focus(self.query_one("#lots", DataTable))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The rejects queue is offered to supervisors only."""
        if action == "review":
            return self.app.may_review
        return True

    def action_review(self) -> None:
        """Supervisors: open the rejects awaiting disposition."""
        if not self.app.may_review:
            self.app.notify(
                "Only supervisors review rejects and sign dispositions.", severity="error"
            )
            return
        self.app.push_screen(ReviewScreen(self.app.review))


def _lot_size(text: str) -> int | str:
    """The lot size typed, read by the station's number grammar, or what to tell the inspector."""
    if not text.strip():
        return "Enter the lot size (number of parts in the lot)."
    try:
        return parse_count(text, minimum=1, maximum=MAX_LOT_SIZE)
    except NumberError as exc:
        return f"Lot size: {exc.message}"
