"""SPC screens: the alarm dialog that blocks the next part, the full chart, the limits screen.

They map keys to :class:`~inspect_station.measuring.spc_service.SpcService` calls (on the
writer thread) and show what comes back; every decision is the service's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from inspect_station.errors import InspectStationError
from inspect_station.measuring import Alarm, PartSession
from inspect_station.measuring.spc_service import (
    DECISIONS,
    Locked,
    Proposal,
    SpcService,
    part_effect,
)
from inspect_station.spec.model import CharClass, Kind
from inspect_station.tui.keybar import KeyBar
from inspect_station.tui.screens.base import StationScreen
from inspect_station.tui.screens.dialogs import Dialog
from inspect_station.tui.spc_widgets import ControlChart
from inspect_station.tui.widgets import Plain, plain

CHART_INTERVAL = 0.5
"""Shortest time between two redraws of the measure screen's live chart, in seconds."""

DECISION_TEXT = {
    "release": "release every held part (no effect on them found)",
    "reinspect": "reinspect every held part (each is held until it is measured again)",
    "reject": "reject every held part (each goes to review's reject queue, defect SPC)",
}
"""What an alarm answer may decide for the held parts, in words."""


@dataclass(frozen=True)
class AlarmAnswer:
    """What the inspector answers to an SPC alarm."""

    cause: str
    """Assignable-cause code."""
    action: str
    """Corrective-action code."""
    note: str
    """What was found and done."""
    decision: str
    """release / reinspect / reject, for every held part."""
    countersign: tuple[str, str] | None
    """A supervisor's user id and PIN (a critical characteristic)."""


class AlarmDialog(Dialog[AlarmAnswer]):
    """An SPC alarm: what fired, the parts held; cause, action, note, and what happens to them."""

    DEFAULT_CLASSES = "dialog"

    def __init__(
        self,
        alarm: Alarm,
        causes: dict[str, str],
        actions: dict[str, str],
        *,
        critical: bool,
    ) -> None:
        super().__init__()
        self.alarm = alarm
        """The alarm being answered."""
        self._causes, self._actions, self._critical = causes, actions, critical

    def compose(self) -> ComposeResult:
        """The alarm, then the answer's fields."""
        a = self.alarm
        held = ", ".join(f"{p['serial']}" for p in a.parts)
        with Vertical():
            yield Label(plain(f"SPC ALARM {a.short_id} · {a.part_number} #{a.characteristic}"))
            yield Plain("\n".join(a.sentences) or f"rule {', '.join(a.rules)}", id="alarm-what")
            yield Plain(plain(f"Held ({len(a.parts)}): {held}"), id="alarm-held")
            yield Label("Assignable cause")
            yield OptionList(
                *(Option(plain(f"{c}  {t}"), id=c) for c, t in self._causes.items()), id="causes"
            )
            yield Label("Corrective action")
            yield OptionList(
                *(Option(plain(f"{c}  {t}"), id=c) for c, t in self._actions.items()),
                id="actions",
            )
            yield OptionList(*(Option(DECISION_TEXT[d], id=d) for d in DECISIONS), id="decision")
            yield Input(id="note", placeholder="note: what was found and done (required)")
            if self._critical:
                yield Label("Critical characteristic: a supervisor counter-signs")
                yield Input(id="sup-user", placeholder="supervisor user id")
                yield Input(id="sup-pin", password=True, placeholder="supervisor PIN")
            yield Plain(
                "Pick cause, action, what happens to the held parts; note; Enter · Esc: later "
                "(the next part waits)",
                id="dialog-message",
            )

    def on_mount(self) -> None:
        """Start in the cause list, the parts released unless said otherwise."""
        self.query_one("#decision", OptionList).highlighted = 0
        self.set_focus(self.query_one("#causes", OptionList))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A pick moves on to the next field."""
        order = {"causes": "#actions", "actions": "#decision", "decision": "#note"}
        following = order.get(event.option_list.id or "")
        if following:
            self.set_focus(self.query_one(following))

    def _picked(self, list_id: str) -> str | None:
        options = self.query_one(f"#{list_id}", OptionList)
        if options.highlighted is None:
            return None
        return str(options.get_option_at_index(options.highlighted).id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: check every field is there, then answer."""
        cause, action, decision = self._picked("causes"), self._picked("actions"), None
        decision = self._picked("decision")
        note = self.query_one("#note", Input).value.strip()
        if cause is None:
            self.set_focus(self.query_one("#causes", OptionList))
            return self._error("Pick an assignable cause.")
        if action is None:
            self.set_focus(self.query_one("#actions", OptionList))
            return self._error("Pick a corrective action.")
        if not note:
            self.set_focus(self.query_one("#note", Input))
            return self._error("Write a note: what was found and done.")
        countersign = None
        if self._critical:
            user = self.query_one("#sup-user", Input).value.strip()
            pin = self.query_one("#sup-pin", Input).value
            if event.input.id == "note" or not user:
                self.set_focus(self.query_one("#sup-user", Input))
                return None
            if not pin:
                self.set_focus(self.query_one("#sup-pin", Input))
                return None
            countersign = (user, pin)
        self.dismiss(AlarmAnswer(cause, action, note, decision or "release", countersign))
        return None


class ChartScreen(StationScreen):
    """A characteristic's control chart full size: values above, ranges below; K the limits."""

    BINDINGS = [Binding("k", "limits", "Limits"), Binding("escape", "back", "Back")]

    def __init__(self, session: PartSession, char_id: str) -> None:
        super().__init__()
        self.session = session
        """The part session whose charts are shown."""
        self.char_id = char_id
        """The characteristic charted."""

    def compose(self) -> ComposeResult:
        """Two charts and the keys."""
        yield ControlChart(id="chart-values")
        yield ControlChart(spread=True, id="chart-ranges")
        yield Plain("", id="message", classes="message")
        yield KeyBar()

    def on_mount(self) -> None:
        """Draw both charts."""
        data = self.session.spc.chart(self.char_id)
        self.query_one("#chart-values", ControlChart).show(data)
        self.query_one("#chart-ranges", ControlChart).show(data)
        if data is not None and data.limits is not None:
            lim = data.limits
            self.say(
                f"v{lim.version}: CL {lim.centre} UCL {lim.ucl} LCL {lim.lcl} {lim.unit} · "
                f"locked {lim.effective_from} · {lim.reason}",
                bell=False,
            )
        elif data is not None:
            self.say("Limits not locked: K proposes them from a baseline.", bell=False)

    def action_back(self) -> None:
        """Back to measuring."""
        self.app.pop_screen()

    def action_limits(self) -> None:
        """Control limits: propose from a baseline and lock them (a supervisor signs)."""
        self.app.push_screen(LimitsScreen(self.session))


class LimitsScreen(StationScreen):
    """Control limits for supervisors: propose from a baseline, see what would have alarmed
    and the false-alarm rate, lock with a signature (user id and PIN)."""

    BINDINGS = [
        Binding("f4", "propose", "Propose"),
        Binding("f8", "lock", "Lock (sign)"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, session: PartSession) -> None:
        super().__init__()
        self.session = session
        """The part session (its spec) whose characteristics are charted."""
        self.spc = SpcService(session.service)
        """The SPC service of the station."""
        self.proposal: Proposal | None = None
        """The proposal shown (None before F4)."""

    def compose(self) -> ComposeResult:
        """Characteristics, baseline, the proposal, the signer, the keys."""
        spec = self.session.spec
        yield Plain(f"Control limits · {spec.part_number} rev {spec.revision}", classes="title")
        with Horizontal(id="limits-top"):
            yield OptionList(
                *(
                    Option(plain(f"#{ch.id} {ch.name}"), id=ch.id)
                    for ch in spec.characteristic
                    if ch.kind is Kind.VARIABLE
                ),
                id="limit-chars",
            )
            with Vertical(id="limits-form"):
                yield Input(id="baseline", placeholder="baseline: first N readings (default)")
                yield Input(id="reason", placeholder="reason (required to re-lock)")
                yield Input(id="sup-user", placeholder="supervisor user id")
                yield Input(id="sup-pin", password=True, placeholder="supervisor PIN")
        yield Plain("", id="proposal")
        yield Plain("", id="message", classes="message")
        yield KeyBar()

    def on_mount(self) -> None:
        """Start on the highlighted characteristic of the measure screen."""
        chars = self.query_one("#limit-chars", OptionList)
        active = self.session.active_char.id
        for index in range(chars.option_count):
            if chars.get_option_at_index(index).id == active:
                chars.highlighted = index
        self.set_focus(chars)
        self.say("F4 proposes limits from the baseline; F8 locks them with a signature.")

    def _char(self) -> str | None:
        chars = self.query_one("#limit-chars", OptionList)
        if chars.highlighted is None:
            return None
        return str(chars.get_option_at_index(chars.highlighted).id)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Another characteristic: the proposal shown is no longer its."""
        self.proposal = None
        self.query_one("#proposal", Plain).update("")

    def action_propose(self) -> None:
        """Compute limits from the baseline and show them (nothing is recorded)."""
        char = self._char()
        if char is None:
            return self.say("Pick a characteristic.", error=True)
        text = self.query_one("#baseline", Input).value.strip()
        if (text and not text.isascii()) or (text and not text.isdigit()):
            return self.say("The baseline is a number of readings, e.g. 25.", error=True)
        first = int(text) if text else None
        reason = self.query_one("#reason", Input).value.strip() or None
        part = self.session.spec.part_number
        self.say("Computing the limits and the false-alarm rate…", bell=False)
        self.submit(
            lambda: self.spc.propose(part, char, first=first, reason=reason), self._proposed
        )
        return None

    def _proposed(self, proposal: Proposal) -> None:
        self.proposal = proposal
        self.query_one("#proposal", Plain).update("\n".join(proposal.lines()))
        self.say("Check the limits and what would have alarmed; F8 locks them.", bell=False)

    def action_lock(self) -> None:
        """Lock the proposal shown, signed by the supervisor whose PIN is typed."""
        proposal = self.proposal
        if proposal is None:
            return self.say("F4 first: limits are locked as they were shown.", error=True)
        user = self.query_one("#sup-user", Input).value.strip()
        pin_field = self.query_one("#sup-pin", Input)
        pin = pin_field.value
        pin_field.value = ""
        if not user or not pin:
            self.set_focus(self.query_one("#sup-user" if not user else "#sup-pin", Input))
            return self.say("A supervisor signs the lock: user id and PIN.", error=True)

        def refused(error: InspectStationError) -> None:
            self.say(error.message, error=True)

        self.submit(lambda: self.spc.lock(proposal, user_id=user, pin=pin), self._locked, refused)
        return None

    def _locked(self, done: Locked) -> None:
        lim = done.limits
        self.submit(lambda: self.session.spc.restart(lim.characteristic), lambda _: None)
        sig = done.record["body"]["signature"]
        self.proposal = None
        self.say(
            f"Locked {lim.part_number} #{lim.characteristic} v{lim.version} (CL {lim.centre}, "
            f"UCL {lim.ucl}, LCL {lim.lcl}) signed by {sig['name']}.",
            bell=False,
        )

    def action_back(self) -> None:
        """Back to measuring."""
        self.app.pop_screen()


class SpcKeys(StationScreen):
    """The measure screen's SPC keys: A answers an open alarm, G the full chart (K there: limits).

    The base of the measure screen, whose part session and part loading it uses.
    """

    session: PartSession
    """The part session (the measure screen's)."""

    if TYPE_CHECKING:

        def _load_part(self, serial: str | None) -> None: ...

    _alarm_key: bool = False
    """Whether the key bar shows A (an SPC alarm is open)."""

    def spc_action(self, action: str) -> bool:
        """Whether an SPC key is offered now: A only while an alarm of the part is open."""
        if action == "alarm":
            return self.session.spc.blocking() is not None
        return True

    def _alarm_key_changed(self) -> None:
        """Show or hide A as alarms open and close."""
        open_now = self.session.spc.blocking() is not None
        if open_now != self._alarm_key:
            self._alarm_key = open_now
            self.refresh_bindings()

    _chart_due: bool = False
    """A chart redraw is scheduled (readings in a burst redraw it once)."""
    _chart_drawn_at: float = -1.0
    """When the chart was last redrawn (monotonic seconds)."""

    def _show_chart(self) -> None:
        """The highlighted characteristic's live chart, redrawn only when its data changed, and
        at most every CHART_INTERVAL seconds: a verdict never waits for a chart."""
        self._alarm_key_changed()
        if self._chart_due:
            return
        wait = self._chart_drawn_at + CHART_INTERVAL - time.monotonic()
        if wait <= 0:
            self._draw_chart()
        else:
            self._chart_due = True
            self.set_timer(wait, self._draw_chart)

    _chart_stale: bool = False
    """The chart's data changed while it was hidden (a narrow terminal): draw it when shown."""

    def _draw_chart(self) -> None:
        self._chart_due = False
        if not self.is_attached:
            return
        chart = self.query_one("#spc-chart", ControlChart)
        if not chart.display:
            # Hidden beside the verdict on a narrow terminal: no plot for nobody to see.
            self._chart_stale = True
            return
        self._chart_stale = False
        self._chart_drawn_at = time.monotonic()
        chart.show(self.session.spc.chart(self.session.active_char.id))

    def _chart_beside(self, shown: bool) -> None:
        """Show or hide the live chart beside the verdict, drawing it if it fell behind."""
        self.query_one("#spc-chart").display = shown
        if shown and self._chart_stale:
            self._draw_chart()

    def action_alarm(self) -> None:
        """Answer the oldest open SPC alarm of the part number (it blocks the next part)."""
        alarm = self.session.spc.blocking()
        if alarm is None:
            return self.say("No open SPC alarm.", bell=False)
        spc = SpcService(self.session.service)
        ch = self.session.spec.get(alarm.characteristic)
        critical = ch is None or ch.class_ is CharClass.CRITICAL
        codes = self.session.service.config.spc

        def answered(answer: AlarmAnswer | None) -> None:
            if answer is None:
                self.say(f"{alarm.sentence()} A answers it.", error=True, bell=False)
                return
            self.submit(
                lambda: spc.answer(
                    alarm.uuid,
                    cause=answer.cause,
                    action=answer.action,
                    note=answer.note,
                    by=self.session.user,
                    decision=answer.decision,
                    countersign=answer.countersign,
                ),
                lambda record: self._alarm_answered(alarm, record),
            )

        self.app.push_screen(
            AlarmDialog(alarm, codes.causes, codes.actions, critical=critical), answered
        )
        return None

    def _alarm_answered(self, alarm: Alarm, record: dict[str, Any]) -> None:
        self.session.spc.answered(alarm.uuid)
        self._alarm_key_changed()
        parts = record["body"]["parts"]
        self.say(f"SPC alarm {alarm.short_id} answered: " + "; ".join(map(part_effect, parts)))
        again = {p["serial"] for p in parts if p.get("reinspection")}
        if self.session.serial in again:
            self._load_part(self.session.serial)  # the part in hand starts its re-inspection
        elif not self.session.ready and not self.session.serial:
            self._load_part(None)  # the part the alarm kept from loading

    def action_chart(self) -> None:
        """The highlighted characteristic's control chart, full size with its ranges."""
        ch = self.session.active_char
        if ch.kind is Kind.ATTRIBUTE:
            return self.say("Attribute: no control chart.", bell=False)
        self.app.push_screen(ChartScreen(self.session, ch.id))
        return None
