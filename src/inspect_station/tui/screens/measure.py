"""Measure a part: characteristics, live gauge value, capture, PASS/FAIL, auto-advance."""

from __future__ import annotations

import datetime as dt
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static

from inspect_station.config import CalibrationStatus, GaugeAsset
from inspect_station.errors import InspectStationError
from inspect_station.evaluate import split_value
from inspect_station.gauges.events import (
    DisconnectedEvent,
    ErrorEvent,
    GaugeEvent,
    ReadingEvent,
)
from inspect_station.recording import ManualSource, MeasurementAck, Source
from inspect_station.sampling import LotDecision
from inspect_station.spec import Kind, PartSpec
from inspect_station.spec.model import Characteristic
from inspect_station.station import LotProgress
from inspect_station.tui.keybar import KeyBar
from inspect_station.tui.screens.base import StationScreen
from inspect_station.tui.screens.dialogs import (
    ManualEntry,
    ManualEntryDialog,
    RejectAnswer,
    RejectDialog,
    TextDialog,
)
from inspect_station.tui.widgets import BigVerdict, CharacteristicTable, GaugeStatusBar, Plain

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


def value_text(row: dict[str, Any]) -> str:
    """A recorded value for the table: in the spec's unit, and as read when it was converted."""
    if row["kind"] == "attribute":
        return str(row["value"]).upper()
    if row["unit"] in (None, row.get("spec_unit")) or not row.get("value_in_spec_unit"):
        return str(row["value"])
    return f"{row['value_in_spec_unit']} ←{row['value']}{row['unit']}"


def marks_text(row: dict[str, Any]) -> str:
    """M: a variable value entered by hand; C: a correction of an earlier value."""
    manual = row["source"] == "manual" and row["kind"] != "attribute"
    return ("M" if manual else "") + ("C" if row.get("supersedes") else "")


_CHOOSE = Binding.Group("Characteristic")
_JUDGE = Binding.Group("Pass/Fail")


class MeasureScreen(StationScreen):
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
        Binding("d", "demo_press", "DATA"),
        Binding("escape", "leave", "Job"),
        Binding("f2", "sign_out", "Sign out"),
    ]

    def __init__(self, spec: PartSpec, progress: LotProgress) -> None:
        super().__init__()
        self.spec = spec
        self.progress = progress
        self.lot = progress.lot.lot
        self.serial = ""
        self.values: dict[str, dict[str, Any]] = {}
        """Characteristic id -> current measurement of this part (projection row)."""
        self.active = 0
        self._pending: set[str] = set()
        self._awaiting: dict[str, str] = {}
        """Asset -> characteristic a requested poll answer is for."""
        self._live: dict[str, str] = {}
        """Asset -> its last reading for this part, as shown in the active panel."""
        self._reading: str | None = None
        """The asset a "Reading …" message on the message line is about."""
        self.last_ack: MeasurementAck | None = None
        """The last measurement recorded (for tests and the latency probe)."""

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Header, characteristics, verdict and active panel, message, gauges, keys."""
        yield Plain("", id="header", classes="title")
        yield CharacteristicTable(COLUMNS, id="characteristics")
        with Horizontal(id="measure-bottom"):
            yield BigVerdict("", id="verdict")
            yield Plain("", id="active")
        yield Plain("", id="message", classes="message")
        yield GaugeStatusBar(id="gauges")
        yield KeyBar()

    def on_mount(self) -> None:
        """Build the table and load the part to measure."""
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
        serial = self.progress.open_serials[0] if self.progress.open_serials else None
        if serial:
            self._load_part(serial)
        else:
            self.submit(lambda: self.app.service.next_serial(self.lot), self._load_part)
        self.app.refresh_status()

    def _load_part(self, serial: str) -> None:
        """Show part ``serial`` with whatever it already has (resuming an interrupted part)."""
        self.serial = serial
        self._live.clear()  # the last part's readings are not this part's
        lot, service = self.lot, self.app.service
        self.submit(lambda: service.part_measurements(lot, serial), self._show_part)

    def _show_part(self, values: dict[str, dict[str, Any]]) -> None:
        self.values = values
        self._pending.clear()
        for ch in self.spec.characteristic:
            self._show_value(ch.id)
        self.active = self._next_open(0) if values else 0
        self.query_one(CharacteristicTable).move_cursor(self.active)
        self._header()
        self._show_active()
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
        row = self.values.get(char_id)
        table = self.query_one(CharacteristicTable)
        if row is None:
            value, marks, result = ("…", "", "") if char_id in self._pending else ("", "", "")
        else:
            value, marks = value_text(row), marks_text(row)
            result = "PASS" if row["verdict"] == "pass" else "FAIL"
            if row["zone"] == "guard-band":
                result = "FAIL·GB"
        table.set_cell(char_id, VALUE, value)
        table.set_cell(char_id, MARKS, marks)
        table.set_cell(char_id, RESULT, result)

    def _char(self, char_id: str) -> Characteristic:
        ch = self.spec.get(char_id)
        assert ch is not None
        return ch

    @property
    def active_char(self) -> Characteristic:
        """The highlighted characteristic."""
        return self.spec.characteristic[self.active]

    def _assets(self, ch: Characteristic) -> list[GaugeAsset]:
        return self.app.service.assets_for(ch)

    def _usable_asset(self, ch: Characteristic) -> GaugeAsset | None:
        """The first gauge for ``ch`` that is not locked by its calibration."""
        for asset in self._assets(ch):
            if self.app.service.calibration(asset) is not CalibrationStatus.OVERDUE:
                return asset
        return None

    def _show_active(self) -> None:
        ch = self.active_char
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
            assets = self._assets(ch)
            if not assets:
                lines.append(f"no {ch.gauge or 'serial'} gauge here: M for manual entry")
            for asset in assets:
                state = self.app.hub.state(asset.asset) if self.app.hub else None
                locked = self.app.service.calibration(asset) is CalibrationStatus.OVERDUE
                how = (
                    "LOCKED: calibration overdue"
                    if locked
                    else (
                        "Space to read"
                        if state and state.can_request
                        else "press DATA on the gauge"
                    )
                )
                live = self._live.get(asset.asset, "—")
                lines.append(f"{asset.asset} {asset.gauge_type}: live {live} · {how}")
        row = self.values.get(ch.id)
        if row is not None:
            read = f"{row['value']} {row['unit'] or ''}".strip()
            if row["kind"] != "attribute" and row["unit"] not in (None, unit):
                read += f" = {row['value_in_spec_unit']} {unit}"
            how = ""
            if row["source"] == "manual" and row["kind"] != "attribute":
                how += f" · M manual: {row.get('manual_reason') or ''}".rstrip(": ")
            if row.get("supersedes"):
                how += f" · C corrected: {row.get('reason') or ''}".rstrip(": ")
            lines.append(f"recorded {read} → {row['verdict'].upper()}{how}")
        self.query_one("#active", Static).update("\n".join(lines), layout=False)

    def _next_open(self, start: int) -> int:
        """Index of the next characteristic without a value (from ``start``, wrapping)."""
        count = len(self.spec.characteristic)
        for step in range(count):
            index = (start + step) % count
            char_id = self.spec.characteristic[index].id
            if char_id not in self.values and char_id not in self._pending:
                return index
        return start % count

    def say(self, text: str, error: bool = False, bell: bool = True) -> None:
        """Show one line to the inspector (it replaces a "Reading …" message)."""
        self._reading = None
        super().say(text, error, bell)

    # -- gauges -------------------------------------------------------------------------------

    def gauge_event(self, event: GaugeEvent) -> None:
        """A reading is captured for its characteristic; errors and unplugging are shown."""
        if isinstance(event, ReadingEvent) and event.asset:
            self._live[event.asset] = f"{event.value} {event.unit or ''}".strip()
            if self._reading == event.asset:
                self.say("")  # "Reading …" is over: the reading is here
            if not self.serial:
                self.say(f"{event.asset}: part not ready yet, press DATA again.", error=True)
                return
            target = self._target_for(event.asset)
            if target is None:
                self._show_active()
                return
            asset = self.app.service.config.asset(event.asset)
            self._record(
                target,
                event.value,
                event.unit,
                self.app.service.gauge_source(asset, event.raw),
                event,
            )
        elif isinstance(event, ErrorEvent):
            who = event.asset or event.port
            self._awaiting.pop(event.asset or "", None)
            self.say(f"{who}: {event.reason}", error=True)
        elif isinstance(event, DisconnectedEvent):
            assets = ", ".join(event.assets) or event.port
            self.say(f"{assets} disconnected: {event.reason} — M for manual entry.", error=True)
        self._show_active()

    def _target_for(self, asset_id: str) -> str | None:
        """Which characteristic a reading from ``asset_id`` is for, if any."""
        if asset_id in self._awaiting:
            return self._awaiting.pop(asset_id)
        ch = self.active_char
        if any(a.asset == asset_id for a in self._assets(ch)) and ch.id not in self._pending:
            return ch.id
        gauge_type = self.app.service.config.asset(asset_id).gauge_type
        for index, other in enumerate(self.spec.characteristic):
            if (
                other.gauge == gauge_type
                and other.id not in self.values
                and other.id not in self._pending
            ):
                self._activate(index)
                return other.id
        self.say(f"Reading from {asset_id} not used: no open characteristic needs a {gauge_type}.")
        return None

    # -- recording ----------------------------------------------------------------------------

    def _record(
        self,
        char_id: str,
        value: str,
        unit: str | None,
        source: Source,
        event: ReadingEvent | None = None,
        reason: str | None = None,
    ) -> None:
        """Record a value for a characteristic; re-measuring asks for a correction reason."""
        if char_id in self.values and reason is None:

            def with_reason(text: str | None) -> None:
                if text:
                    self._record(char_id, value, unit, source, event, text)
                else:
                    self.say(f"#{char_id}: re-measure cancelled; the recorded value stands.")

            self.app.push_screen(
                TextDialog(f"#{char_id} already has a value: reason for the correction?"),
                with_reason,
            )
            return
        service, user, spec, lot, serial = (
            self.app.service,
            self.app.user,
            self.spec,
            self.lot,
            self.serial,
        )
        self._pending.add(char_id)
        self._show_value(char_id)
        if self.spec.characteristic[self.active].id == char_id:
            self._activate(self._next_open(self.active))

        def work() -> MeasurementAck:
            return service.measure(
                user, spec, lot, serial, char_id, value, unit=unit, source=source, reason=reason
            )

        def failed(error: InspectStationError) -> None:
            self._pending.discard(char_id)
            self._show_value(char_id)
            self._activate(self.spec.characteristic.index(self._char(char_id)))
            self.say(f"#{char_id} not recorded: {error.message}", error=True)

        self.submit(work, lambda ack: self._recorded(ack, event, source, reason), failed)

    def _recorded(
        self,
        ack: MeasurementAck,
        event: ReadingEvent | None,
        source: Source,
        reason: str | None,
    ) -> None:
        if ack.serial != self.serial:
            return  # the part was changed meanwhile; the record is safe in the journal
        self._pending.discard(ack.characteristic)
        e = ack.evaluation
        manual = isinstance(source, ManualSource)
        row = {
            "value": e.value,
            "unit": e.unit,
            "value_in_spec_unit": e.value_in_spec_unit,
            "spec_unit": e.spec_unit,
            "verdict": e.verdict.value,
            "zone": e.zone.value,
            "kind": self._char(ack.characteristic).kind.value,
            "source": "manual" if manual else "gauge",
            "manual_reason": source.reason if manual else None,
            "supersedes": reason is not None,
            "reason": reason,
        }
        self.values[ack.characteristic] = row
        self._show_value(ack.characteristic)
        unit = f" {e.spec_unit}" if e.spec_unit else ""
        detail = f"#{ack.characteristic} {e.value}{' ' + e.unit if e.unit else ''}"
        if e.unit is not None and e.unit != e.spec_unit:
            detail += f" = {e.value_in_spec_unit}{unit}"
        if e.limit:
            where = "in the guard band of the" if e.zone.value == "guard-band" else "beyond the"
            detail += f"\n{where} {e.limit} limit by {e.exceeds_by}{unit}"
        elif e.deviation:
            detail += f"\ndeviation {e.deviation}{unit}"
        self.query_one(BigVerdict).show(e.passed, detail)
        self.last_ack = ack
        if not e.passed:
            self.app.bell()
        probe = getattr(self.app, "latency_probe", None)
        if probe is not None and event is not None:
            probe(event, dt.datetime.now(dt.UTC))
        if len(self.values) == len(self.spec.characteristic):
            self.say("All characteristics measured: N closes the part.")
        self._show_active()

    def _activate(self, index: int) -> None:
        self.active = index
        self.query_one(CharacteristicTable).move_cursor(index)
        self._show_active()

    # -- keys ---------------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        """Highlight the previous or next characteristic."""
        self._activate((self.active + step) % len(self.spec.characteristic))

    def action_capture(self) -> None:
        """Ask the active characteristic's gauge for a value (poll), or say how to send one."""
        ch = self.active_char
        if ch.kind is Kind.ATTRIBUTE:
            return self.say("Attribute: P for pass, F for fail.")
        asset = self._usable_asset(ch)
        if asset is None:
            reason = "locked (calibration overdue)" if self._assets(ch) else "not available"
            return self.say(
                f"No {ch.gauge or 'serial'} gauge {reason}: M for manual entry.", error=True
            )
        hub = self.app.hub
        state = hub.state(asset.asset) if hub else None
        if state is None or not state.can_request:
            demo = " (in the demo: D)" if self.app.demo is not None else " (or the foot switch)"
            return self.say(f"Press DATA on {asset.asset}{demo}.")
        if self.app.demo is not None:
            self.app.demo.aim(asset.asset, self.spec, ch)  # the gauge goes on this feature
        self._awaiting[asset.asset] = ch.id
        try:
            hub.request(asset.asset)
        except InspectStationError as exc:
            self._awaiting.pop(asset.asset, None)
            return self.say(exc.message, error=True)
        self.say(f"Reading {asset.asset}…")
        self._reading = asset.asset
        return None

    def action_manual(self) -> None:
        """Type a value (gauge unavailable), with a reason; recorded as manual."""
        ch = self.active_char
        if ch.kind is Kind.ATTRIBUTE:
            return self.say("Attribute: P for pass, F for fail.")
        default = (
            ""
            if self._usable_asset(ch)
            else (
                "gauge locked: calibration overdue"
                if self._assets(ch)
                else "no serial gauge for this characteristic"
            )
        )

        def entered(answer: ManualEntry | None) -> None:
            if answer is not None:
                value, unit = split_value(answer.value)
                self._record(ch.id, value, unit, self.app.service.manual_source(answer.reason))

        self.app.push_screen(
            ManualEntryDialog(f"#{ch.id} {ch.name}: manual entry", default), entered
        )
        return None

    def action_attribute(self, verdict: str) -> None:
        """Judge the active attribute characteristic pass or fail."""
        ch = self.active_char
        if ch.kind is not Kind.ATTRIBUTE:
            return self.say(f"#{ch.id} is measured: capture it from the gauge or M for manual.")
        source = self.app.service.manual_source(
            f"attribute judged by the inspector ({ch.method or 'visual'})"
        )
        self._record(ch.id, verdict, None, source)
        return None

    def action_finish(self) -> None:
        """Close the part: accepted, or rejected with a defect code; then the next part."""
        missing = [ch.id for ch in self.spec.characteristic if ch.id not in self.values]
        if missing or self._pending:
            return self.say(
                f"Not finished: #{', #'.join(missing) or 'pending'} still open.", error=True
            )
        failed = [c for c, row in self.values.items() if row["verdict"] != "pass"]
        if not failed:
            return self._close(None)

        def answered(answer: RejectAnswer | None) -> None:
            if answer is None:
                self.say("Reject not recorded: the part stays open.")
            else:
                self._close(answer)

        codes = self.app.service.config.defect_codes
        self.app.push_screen(RejectDialog(self.serial, failed, codes), answered)
        return None

    def _close(self, answer: RejectAnswer | None) -> None:
        service, user, spec, lot, serial = (
            self.app.service,
            self.app.user,
            self.spec,
            self.lot,
            self.serial,
        )

        def work() -> tuple[str, LotProgress, str]:
            result = service.close_part(
                user,
                spec,
                lot,
                serial,
                defect_code=answer.defect_code if answer else None,
                note=answer.note if answer else None,
            )
            return result, service.lot_progress(lot), service.next_serial(lot)

        def done(outcome: tuple[str, LotProgress, str]) -> None:
            result, self.progress, next_serial = outcome
            outcome_text = "ACCEPTED" if result == "accept" else "REJECTED → awaiting disposition"
            self.say(f"Part {serial} {outcome_text}." + self._lot_note())
            self._load_part(next_serial)

        self.submit(work, done, None)

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
        from inspect_station.tui.screens.lot import LotSummaryScreen

        self.app.push_screen(LotSummaryScreen(self.lot))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The demo's DATA key only exists in the demo."""
        if action == "demo_press":
            return self.app.demo is not None
        return True

    def action_demo_press(self) -> None:
        """Demo only: press DATA on the simulated gauge of the active characteristic."""
        demo = self.app.demo
        if demo is None:
            return self.say("D presses a simulated gauge; this is not the demo station.")
        ch = self.active_char
        if ch.kind is Kind.ATTRIBUTE:
            return self.say("Attribute: P for pass, F for fail.")
        assets = self._assets(ch)
        if not assets:
            return self.say(f"No simulated {ch.gauge} here: M for manual entry.")
        asset = assets[0]
        if self.app.service.calibration(asset) is CalibrationStatus.OVERDUE:
            # The simulated gauge sends anyway: the station must refuse it.
            demo.press(asset.asset, self.spec, ch)
            return None
        demo.press(asset.asset, self.spec, ch)
        if demo.needs_request(asset.asset):
            self.action_capture()
        return None

    def action_leave(self) -> None:
        """Back to the job screen (everything recorded stays recorded)."""
        self.app.pop_screen()

    def action_sign_out(self) -> None:
        """Sign out."""
        self.app.sign_out()
