# Over 500 lines: the measure screen maps every key and gauge message of a part to the session.
"""Measure a part: characteristics, live gauge value, capture, PASS/FAIL, auto-advance.

The screen maps keys and gauge messages to calls of its :class:`PartSession` and renders what
each returns; every decision (which characteristic a reading is for, the calibration lock,
corrections, closing) is the session's.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

from inspect_station.errors import InspectStationError
from inspect_station.evaluate import Zone
from inspect_station.gauges.events import GaugeEvent, ReadingEvent
from inspect_station.measuring import (
    Capture,
    CloseRequest,
    LoadedPart,
    ManualPrompt,
    NeedsDefect,
    NeedsReason,
    Notice,
    NotRecorded,
    PartClosed,
    PartSession,
    PartValue,
    Poll,
    PressData,
    Recorded,
    Stale,
)
from inspect_station.recording import MeasurementAck
from inspect_station.sampling import LotDecision
from inspect_station.spec import Kind, PartSpec
from inspect_station.station import LotProgress
from inspect_station.tui.keybar import KeyBar
from inspect_station.tui.panels import BigVerdict, LinePanel
from inspect_station.tui.quiet import QuietLines
from inspect_station.tui.screens.dialogs import (
    ManualEntry,
    ManualEntryDialog,
    RejectAnswer,
    RejectDialog,
    TextDialog,
)
from inspect_station.tui.screens.lot import LotSummaryScreen
from inspect_station.tui.screens.spc import SpcKeys
from inspect_station.tui.spc_widgets import ControlChart
from inspect_station.tui.widgets import CharacteristicTable, GaugeStatusBar, Plain
from inspect_station.vocabulary import Verdict

COLUMNS = [
    ("#", 3),
    ("Characteristic", 0),  # takes the width the others leave
    ("Lower", 9),
    ("Upper", 9),
    ("Unit", 4),
    ("Value", 18),
    ("M/C", 3),
    ("Result", 7),
]
VALUE, MARKS, RESULT = 5, 6, 7


def value_text(value: PartValue) -> str:
    """A recorded value for the table: in the spec's unit, and as read when it was converted."""
    if value.kind is Kind.ATTRIBUTE:
        return value.value.upper()
    if value.unit in (None, value.spec_unit) or not value.value_in_spec_unit:
        return value.value
    return f"{value.value_in_spec_unit} ←{value.value}{value.unit}"


def marks_text(value: PartValue) -> str:
    """M: a variable value entered by hand; C: a correction of an earlier value."""
    return ("M" if value.manual else "") + ("C" if value.supersedes else "")


def result_text(value: PartValue) -> str:
    """PASS, FAIL, or FAIL·GB for a reading inside a guard band."""
    if value.zone is Zone.GUARD_BAND:
        return "FAIL·GB"
    return "PASS" if value.verdict is Verdict.PASS else "FAIL"


def verdict_detail(recorded: Recorded) -> str:
    """What the big verdict says under PASS / FAIL: the value, converted, and why."""
    e = recorded.evaluation
    unit = f" {e.spec_unit}" if e.spec_unit else ""
    detail = f"#{recorded.ack.characteristic} {e.value}{' ' + e.unit if e.unit else ''}"
    if e.unit is not None and e.unit != e.spec_unit:
        detail += f" = {e.value_in_spec_unit}{unit}"
    if e.limit:
        where = "in the guard band of the" if e.zone is Zone.GUARD_BAND else "beyond the"
        detail += f"\n{where} {e.limit} limit by {e.exceeds_by}{unit}"
    elif e.deviation:
        detail += f"\ndeviation {e.deviation}{unit}"
    return detail


PENDING_AFTER = 0.05
"""Seconds a reading is being recorded before the table marks it "…" (a commit is quicker)."""

_CHOOSE = Binding.Group("Characteristic")
_JUDGE = Binding.Group("Pass/Fail")


CHART_BESIDE_FROM = 120
"""Terminal width (columns) from which the live chart is drawn beside the verdict: narrower,
the verdict and the reading's details (deviation, corrections) keep the whole width."""


class PanelRow(Horizontal, QuietLines):
    """The row of the verdict, the active characteristic and the chart (see ``QuietLines``)."""


class MeasureScreen(SpcKeys, QuietLines):
    """One part after another of a lot."""

    BINDINGS = [
        Binding("up", "move(-1)", "Previous", group=_CHOOSE),
        Binding("down", "move(1)", "Next", group=_CHOOSE),
        Binding("space,enter", "capture", "Read"),
        Binding("m", "manual", "Manual"),
        Binding("p", "attribute('pass')", "Pass", group=_JUDGE),
        Binding("f", "attribute('fail')", "Fail", group=_JUDGE),
        Binding("n", "finish", "Close part"),
        Binding("s", "serial", "Serial"),
        Binding("l", "summary", "Lot"),
        Binding("a", "alarm", "SPC alarm"),
        Binding("g", "chart", "Chart"),
        Binding("d", "demo_press", "DATA"),
        Binding("escape", "leave", "Job"),
        Binding("f2", "sign_out", "Sign out"),
    ]

    class VerdictShown(Message):
        """A committed value's verdict is on the screen (for whoever listens: a stack light,
        a latency probe)."""

        def __init__(self, recorded: Recorded) -> None:
            super().__init__()
            self.recorded = recorded
            """The value recorded and its verdict."""

    def __init__(self, session: PartSession) -> None:
        super().__init__()
        self.session = session
        """The part session this screen shows and drives."""
        self._reading: str | None = None
        """The asset a "Reading …" message on the message line is about."""
        self._shown_due: list[Recorded] = []
        """Verdicts recorded whose panels are not drawn yet (see ``_recorded``)."""

    # -- what the session holds, for readers of the screen ------------------------------------

    @property
    def spec(self) -> PartSpec:
        """The spec revision being measured."""
        return self.session.spec

    @property
    def progress(self) -> LotProgress:
        """Where the lot stands."""
        return self.session.progress

    @property
    def lot(self) -> str:
        """The lot id."""
        return self.session.lot

    @property
    def serial(self) -> str:
        """The part in hand."""
        return self.session.serial

    @property
    def values(self) -> dict[str, PartValue]:
        """Characteristic id -> the current value of the part in hand."""
        return self.session.values

    @property
    def active(self) -> int:
        """Index of the highlighted characteristic."""
        return self.session.active

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Header, characteristics, verdict and active panel, message, gauges, keys."""
        yield Plain("", id="header", classes="title")
        yield CharacteristicTable(COLUMNS, id="characteristics")
        with PanelRow(id="measure-bottom"):
            yield BigVerdict("", id="verdict")
            yield LinePanel("", id="active")
            yield ControlChart(id="spc-chart")
        yield Plain("", id="message", classes="message")
        yield GaugeStatusBar(id="gauges")
        yield KeyBar()

    def on_resize(self, event: events.Resize) -> None:
        """Show the live chart beside the verdict only where it leaves the verdict and the
        reading's details whole (G shows the chart full size on any terminal)."""
        self._chart_beside(event.size.width >= CHART_BESIDE_FROM)

    def on_mount(self) -> None:
        """Build the table and load the part to measure."""
        self.query_one("#spc-chart").display = self.app.size.width >= CHART_BESIDE_FROM
        table = self.query_one(CharacteristicTable)
        for ch in self.spec.characteristic:
            lsl, usl = ch.limits
            if ch.kind is Kind.ATTRIBUTE:
                lower, upper, unit = "attribute", "", ""
            else:
                lower = "—" if lsl is None else str(lsl)
                upper = "—" if usl is None else str(usl)
                unit = self.spec.unit_of(ch)
            table.add_row(ch.id, [ch.id, ch.name, lower, upper, unit, "", "", ""])
        self._load_part(None)
        self.app.refresh_status()

    def _load_part(self, serial: str | None) -> None:
        """Load part ``serial`` (None: the lot's open part or its next serial)."""
        session = self.session
        request = session.load(serial)
        if isinstance(request, Notice):
            self.say(request.message, error=True)
            return

        def refused(error: InspectStationError) -> None:
            self.say(session.load_failed(error).message, error=True)

        self.submit(lambda: session.read(request), self._show_part, refused)

    def _show_part(self, part: LoadedPart) -> None:
        self.session.show(part)
        self._render_part()

    def _render_part(self) -> None:
        """Show the part in hand with whatever it already has (resuming an interrupted part)."""
        self._show_recorded()  # the last part's verdicts delivered before it come first
        for ch in self.spec.characteristic:
            self._show_value(ch.id)
        self._cursor()
        self._header()
        self.query_one(BigVerdict).show(None, f"Part {self.serial}: ready")

    def _header(self) -> None:
        p = self.progress
        count = p.inspected + 1
        of = f" of {p.plan.sample_size}" if p.plan else ""
        user = self.app.user.name if self.app.user else ""
        self.query_one("#header", Static).update(
            f"{self.spec.part_number} rev {self.spec.revision} · lot {self.lot} · "
            f"part {count}{of} · S/N {self.serial} · {user}",
            layout=False,
        )

    def _show_value(self, char_id: str) -> None:
        value = self.values.get(char_id)
        table = self.query_one(CharacteristicTable)
        if value is None:
            pending = char_id in self.session.pending
            table.set_cells(char_id, {VALUE: "…" if pending else "", MARKS: "", RESULT: ""})
            return
        table.set_cells(
            char_id,
            {VALUE: value_text(value), MARKS: marks_text(value), RESULT: result_text(value)},
        )

    def _cursor(self) -> None:
        """Highlight the session's active characteristic and describe it."""
        table = self.query_one(CharacteristicTable)
        if table.cursor != self.session.active:
            table.move_cursor(self.session.active)
        self._show_active()

    def _show_active(self) -> None:
        session = self.session
        ch = session.active_char
        unit = self.spec.unit_of(ch)
        lines = [f"#{ch.id} {ch.name}"]
        if ch.kind is Kind.ATTRIBUTE:
            lines.append(f"attribute: {ch.method or 'pass/fail'} — P pass · F fail")
        else:
            lsl, usl = ch.limits
            low = "—" if lsl is None else lsl
            high = "—" if usl is None else usl
            nominal = "" if ch.nominal is None else f"nominal {ch.nominal} · "
            lines.append(f"{nominal}limits {low} … {high} {unit} · {ch.decision.describe()}")
            assets = session.assets(ch)
            if not assets:
                lines.append(f"no {ch.gauge or 'serial'} gauge here: M for manual entry")
            for asset in assets:
                state = session.gauge_state(asset.asset)
                if session.locked(asset):
                    how = "LOCKED: calibration overdue"
                elif state and state.can_request:
                    how = "Space to read"
                else:
                    how = "press DATA on the gauge"
                live = session.live.get(asset.asset, "—")
                lines.append(f"{asset.asset} {asset.gauge_type}: live {live} · {how}")
        value = self.values.get(ch.id)
        if value is not None:
            read = f"{value.value} {value.unit or ''}".strip()
            if value.kind is not Kind.ATTRIBUTE and value.unit not in (None, unit):
                read += f" = {value.value_in_spec_unit} {unit}"
            how = ""
            if value.manual:
                how += f" · M manual: {value.manual_reason or ''}".rstrip(": ")
            if value.supersedes:
                how += f" · C corrected: {value.reason or ''}".rstrip(": ")
            lines.append(f"recorded {read} → {value.verdict.upper()}{how}")
        self.query_one("#active", Static).update("\n".join(lines), layout=False)
        self._show_chart()

    def say(self, text: str, error: bool = False, bell: bool = True) -> None:
        """Show one line to the inspector (it replaces a "Reading …" message)."""
        self._reading = None
        super().say(text, error, bell)

    # -- what the session answers ---------------------------------------------------------------

    def _take(self, step: Capture | NeedsReason | Notice | None) -> None:
        """Render a reading's first step: record a capture, ask for a reason, or tell."""
        if isinstance(step, Capture):
            self._write(step)
            # Drawn only if the commit is slow: a "…" redraw just before the verdict's pushed
            # the verdict to the next frame (the screen redraws at most MAX_FPS times a second).
            self.set_timer(PENDING_AFTER, lambda: self._still_pending(step.characteristic))
        elif isinstance(step, NeedsReason):

            def answered(reason: str | None) -> None:
                self._take(self.session.correct(step, reason))

            self.app.push_screen(TextDialog(step.message), answered)
        elif isinstance(step, Notice):
            self.say(step.message, error=step.error)

    def _still_pending(self, char_id: str) -> None:
        """Mark a reading still being recorded ("…") and move on to the next characteristic."""
        if self.alive and char_id in self.session.pending:
            self._show_value(char_id)
            self._cursor()

    def _write(self, capture: Capture) -> None:
        """Record a capture on the writer thread; its verdict is shown after the commit."""
        session = self.session

        def written(ack: MeasurementAck) -> None:
            self._recorded(session.recorded(capture, ack))

        def refused(error: InspectStationError) -> None:
            self._refused(session.not_recorded(capture, error))

        self.submit_measurement(session.grouped(capture), written, refused)

    def _recorded(self, outcome: Recorded | Stale) -> None:
        """A value committed: its row now, its verdict and the panels once for all the
        verdicts delivered together (see :meth:`_show_recorded`)."""
        if isinstance(outcome, Stale):
            return  # the part was changed meanwhile; the record is safe in the journal
        self._show_value(outcome.ack.characteristic)
        if not outcome.evaluation.passed:
            self.app.bell()
        self._shown_due.append(outcome)
        if len(self._shown_due) == 1:
            # Behind the answers of the same group commit already queued to the app, and in
            # the app's own queue, so no screen refresh comes between them and the panels:
            # a group's values, its last verdict and the highlight are drawn in one frame.
            self.app.call_later(self._show_recorded)

    def _show_recorded(self) -> None:
        """Draw the verdict panel (the last verdict), the highlighted characteristic and its
        panel once for the verdicts recorded together, then tell each one is shown, in order."""
        due, self._shown_due = self._shown_due, []
        if not due or not self.alive:
            return
        last = due[-1]
        self.query_one(BigVerdict).show(last.evaluation.passed, verdict_detail(last))
        if any(outcome.complete for outcome in due):
            self.say("All characteristics measured: N closes the part.")
        self._cursor()
        for outcome in due:
            self.post_message(self.VerdictShown(outcome))
        for outcome in due:
            if outcome.alarm is not None:
                self.say(outcome.alarm.sentence(), error=True)
                self.action_alarm()

    def _refused(self, outcome: NotRecorded) -> None:
        self._show_recorded()  # the verdicts delivered before it come first, as they came
        self._show_value(outcome.capture.characteristic)
        self._cursor()
        self.say(outcome.message, error=True)

    # -- gauges -------------------------------------------------------------------------------

    def gauge_event(self, event: GaugeEvent) -> None:
        """A reading is captured for its characteristic; errors and unplugging are shown."""
        if isinstance(event, ReadingEvent) and event.asset and self._reading == event.asset:
            self.say("")  # "Reading …" is over: the reading is here
        step = self.session.on_gauge(event)
        self._take(step)
        if not isinstance(step, Capture):
            self._cursor()

    # -- keys ---------------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        """Highlight the previous or next characteristic."""
        self.session.move(step)
        self._cursor()

    def action_capture(self) -> None:
        """Ask the active characteristic's gauge for a value (poll), or say how to send one."""
        step = self.session.poll()
        if isinstance(step, Notice):
            return self.say(step.message, error=step.error)
        if isinstance(step, PressData):
            demo = " (in the demo: D)" if self.app.demo is not None else " (or the foot switch)"
            return self.say(f"Press DATA on {step.asset.asset}{demo}.")
        self._poll(step)
        return None

    def _poll(self, poll: Poll) -> None:
        if self.app.demo is not None:  # the simulated gauge goes on this feature
            self.app.demo.aim(poll.asset.asset, self.spec, poll.characteristic)
        refused = self.session.request(poll)
        if refused is not None:
            return self.say(refused.message, error=refused.error)
        self.say(f"Reading {poll.asset.asset}…")
        self._reading = poll.asset.asset
        return None

    def action_manual(self) -> None:
        """Type a value (gauge unavailable), with a reason; recorded as manual."""
        prompt = self.session.manual_entry()
        if isinstance(prompt, Notice):
            return self.say(prompt.message, error=prompt.error)
        self._ask_manual(prompt)
        return None

    def _ask_manual(self, prompt: ManualPrompt) -> None:
        ch = prompt.characteristic

        def entered(answer: ManualEntry | None) -> None:
            if answer is not None:
                self._take(self.session.manual(ch.id, answer.value, answer.reason))

        title = f"#{ch.id} {ch.name}: manual entry"
        self.app.push_screen(ManualEntryDialog(title, prompt.default_reason), entered)

    def action_attribute(self, verdict: str) -> None:
        """Judge the active attribute characteristic pass or fail."""
        self._take(self.session.judge(verdict))

    def action_finish(self) -> None:
        """Close the part: accepted, or rejected with a defect code; then the next part."""
        self._finish(self.session.finish())

    def _finish(self, step: CloseRequest | NeedsDefect | Notice) -> None:
        if isinstance(step, Notice):
            return self.say(step.message, error=step.error)
        if isinstance(step, NeedsDefect):

            def answered(answer: RejectAnswer | None) -> None:
                if answer is None:
                    self.say("Reject not recorded: the part stays open.")
                else:
                    self._finish(self.session.finish(answer.defect_code, answer.note))

            self.app.push_screen(RejectDialog(step.serial, step.failed, step.codes), answered)
            return None
        session = self.session

        def refused(error: InspectStationError) -> None:
            notice = session.close_failed(step, error)
            self.say(notice.message, error=notice.error)

        self.submit(lambda: session.close(step), self._part_closed, refused)
        return None

    def _part_closed(self, outcome: PartClosed) -> None:
        self.session.closed(outcome)
        text = "ACCEPTED" if outcome.accepted else "REJECTED → awaiting disposition"
        self.say(f"Part {outcome.serial} {text}." + self._lot_note())
        self._render_part()

    def _lot_note(self) -> str:
        p = self.progress
        if p.plan is None or p.decision is None:
            return ""
        if p.decision is LotDecision.PENDING:
            return f" {p.to_go} to go, {p.nonconforming} nonconforming (Ac {p.plan.accept})."
        return f" Lot decision: {p.decision.value} — L for the summary."

    def action_serial(self) -> None:
        """Enter or scan the serial of the part in hand."""

        def entered(serial: str | None) -> None:
            if serial:
                self._load_part(serial)

        self.app.push_screen(TextDialog("Part serial", "scan or type", self.serial), entered)

    def action_summary(self) -> None:
        """The lot summary: sampled, to go, nonconforming, decision, rejects."""
        self.app.push_screen(LotSummaryScreen(self.lot))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The demo's DATA key only exists in the demo; A only while an SPC alarm is open."""
        if action == "demo_press":
            return self.app.demo is not None
        return self.spc_action(action)

    def action_demo_press(self) -> None:
        """Demo only: press DATA on the simulated gauge of the active characteristic."""
        demo = self.app.demo
        if demo is None:
            return self.say("D presses a simulated gauge; this is not the demo station.")
        ch = self.session.active_char
        if ch.kind is Kind.ATTRIBUTE:
            return self.say("Attribute: P for pass, F for fail.")
        assets = self.session.assets(ch)
        if not assets:
            return self.say(f"No simulated {ch.gauge} here: M for manual entry.")
        asset = assets[0]
        demo.press(asset.asset, self.spec, ch)  # an overdue gauge sends too: it is refused
        if not self.session.locked(asset) and demo.needs_request(asset.asset):
            self.action_capture()
        return None

    def action_leave(self) -> None:
        """Back to the job screen (everything recorded stays recorded)."""
        self.app.pop_screen()

    def action_sign_out(self) -> None:
        """Sign out."""
        self.app.sign_out()
