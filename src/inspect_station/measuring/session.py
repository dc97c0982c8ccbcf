"""The part session: the parts of one lot measured one after another (see the package doc)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from inspect_station.config import GaugeAsset
from inspect_station.errors import InspectStationError
from inspect_station.evaluate import split_value
from inspect_station.gauges.events import DisconnectedEvent, ErrorEvent, GaugeEvent, ReadingEvent
from inspect_station.gauges.hub import AssetState
from inspect_station.measuring.outcomes import (
    Capture,
    CloseRequest,
    LoadedPart,
    ManualPrompt,
    NeedsDefect,
    NeedsReason,
    Notice,
    NotRecorded,
    Outcome,
    PartClosed,
    PartRequest,
    PartValue,
    Poll,
    PressData,
    Recorded,
    Stale,
    Step,
)
from inspect_station.measuring.spc import SpcHold, SpcTracker
from inspect_station.measuring.writer import GroupedWrite
from inspect_station.recording import GaugeSource, ManualSource, Measurement, MeasurementAck, Source
from inspect_station.spec.model import Characteristic, Kind, PartSpec
from inspect_station.station import LotProgress, StationService
from inspect_station.store import inspections
from inspect_station.store.db import Transaction
from inspect_station.users import User
from inspect_station.vocabulary import Verdict


class Gauges(Protocol):
    """What a session needs of the gauge hub: an asset's state, and asking a polled gauge."""

    def state(self, asset_id: str) -> AssetState:
        """A snapshot of the asset's connection."""
        ...

    def request(self, asset_id: str) -> None:
        """Ask a polled gauge for a value now (the answer arrives as a gauge event)."""
        ...


# -- the session ---------------------------------------------------------------------------------


class PartSession:
    """The parts of one lot measured at a station by one inspector, one part after another."""

    def __init__(
        self,
        service: StationService,
        user: User,
        spec: PartSpec,
        progress: LotProgress,
        *,
        gauges: Gauges | None = None,
    ) -> None:
        self.service = service
        """The station: its record, configuration and gauges' calibration."""
        self.user = user
        """The inspector."""
        self.spec = spec
        """The spec revision the lot was opened with."""
        self.progress = progress
        """Where the lot stands (updated as parts are closed)."""
        self.gauges = gauges
        """The gauge hub (None: no gauges, or headless without polling)."""
        self.serial = ""
        """The part in hand ("" until one is loaded)."""
        self.ready = False
        """Whether the part in hand is loaded and open for readings."""
        self.values: dict[str, PartValue] = {}
        """Characteristic id -> its current value for the part in hand."""
        self.pending: set[str] = set()
        """Characteristics whose value is being recorded."""
        self.active = 0
        """Index of the highlighted characteristic."""
        self.live: dict[str, str] = {}
        """Asset -> its last reading for the part in hand ("120.01 mm")."""
        self._awaiting: dict[str, str] = {}
        """Asset -> the characteristic a requested poll answer is for."""
        self.spc = SpcTracker(service.store, spec, service.config.spc.defaults())
        """The part number's live control charts and open SPC alarms."""

    # -- what the session knows -----------------------------------------------------------------

    @property
    def lot(self) -> str:
        """The lot id."""
        return self.progress.lot.lot

    @property
    def characteristics(self) -> list[Characteristic]:
        """The spec's characteristics, in drawing order."""
        return self.spec.characteristic

    @property
    def active_char(self) -> Characteristic:
        """The highlighted characteristic."""
        return self.characteristics[self.active]

    @property
    def complete(self) -> bool:
        """Whether every characteristic of the part in hand has a value."""
        return len(self.values) == len(self.characteristics)

    def char(self, char_id: str) -> Characteristic:
        """The characteristic ``char_id`` of the spec."""
        ch = self.spec.get(char_id)
        if ch is None:
            raise KeyError(char_id)
        return ch

    def assets(self, ch: Characteristic) -> list[GaugeAsset]:
        """The station's gauges of the type the characteristic needs."""
        return self.service.assets_for(ch)

    def locked(self, asset: GaugeAsset) -> bool:
        """Whether the asset is past its calibration due date or failed it and may feed nothing."""
        return self.service.calibration(asset).locked

    def usable_asset(self, ch: Characteristic) -> GaugeAsset | None:
        """The first gauge for ``ch`` that its calibration does not lock."""
        return next((a for a in self.assets(ch) if not self.locked(a)), None)

    def gauge_state(self, asset_id: str) -> AssetState | None:
        """The connection of a gauge, if the session has the hub."""
        return self.gauges.state(asset_id) if self.gauges is not None else None

    # -- moving around ---------------------------------------------------------------------------

    def move(self, step: int) -> None:
        """Highlight the characteristic ``step`` places on (wrapping)."""
        self.active = (self.active + step) % len(self.characteristics)

    def next_open(self, start: int) -> int:
        """Index of the next characteristic without a value (from ``start``, wrapping)."""
        count = len(self.characteristics)
        for step in range(count):
            index = (start + step) % count
            char_id = self.characteristics[index].id
            if char_id not in self.values and char_id not in self.pending:
                return index
        return start % count

    # -- the part in hand ------------------------------------------------------------------------

    def load(self, serial: str | None = None) -> PartRequest | Notice:
        """Put the part in hand away to load ``serial`` (None: the lot's open part or the next
        serial); readings are refused until :meth:`show` has the part. While an SPC alarm is
        open, the part in hand stays (a Notice says why)."""
        alarm = self.spc.blocking()
        if alarm is not None and self.serial and serial != self.serial:
            return Notice(f"{alarm.sentence()} A answers it; then the next part.", True)
        self.ready = False
        return PartRequest(serial)

    def load_failed(self, error: InspectStationError) -> Notice:
        """Reading the part failed (an open SPC alarm, ...): the part in hand, if any, stays."""
        self.ready = bool(self.serial)
        return Notice(error.message, True)

    def read(self, request: PartRequest) -> LoadedPart:
        """I/O: the part as the record has it (a resumed part keeps what it has)."""
        serial = request.serial
        if serial is None:
            open_serials = self.progress.open_serials
            serial = open_serials[0] if open_serials else self.service.next_serial(self.lot)
        rows = self.service.part_measurements(self.lot, serial)
        self.spc.load()
        if not rows:
            self.spc.require_clear()  # a new part waits for the answer to an open alarm
        return LoadedPart(serial, {c: PartValue.of_row(row) for c, row in rows.items()})

    def show(self, part: LoadedPart) -> None:
        """Make ``part`` the part in hand, highlighting its first open characteristic."""
        self.serial = part.serial
        self.values = dict(part.values)
        self.pending.clear()
        self.live.clear()  # the last part's readings are not this part's
        self.active = self.next_open(0) if self.values else 0
        self.ready = True

    def open_part(self, serial: str | None = None) -> LoadedPart:
        """Load and show a part (headless); SpcHold while an SPC alarm blocks it."""
        request = self.load(serial)
        if isinstance(request, Notice):
            raise SpcHold(request.message)
        try:
            part = self.read(request)
        except InspectStationError as exc:
            self.load_failed(exc)
            raise
        self.show(part)
        return part

    # -- readings --------------------------------------------------------------------------------

    def on_gauge(self, event: GaugeEvent) -> Step | None:
        """A gauge event: a reading is bound for its characteristic; problems are told."""
        if isinstance(event, ReadingEvent) and event.asset:
            self.live[event.asset] = f"{event.value} {event.unit or ''}".strip()
            if not self.ready:
                return Notice(f"{event.asset}: part not ready yet, press DATA again.", True)
            target = self._target_for(event.asset)
            if isinstance(target, Notice):
                return target
            asset = self.service.config.asset(event.asset)
            return self.capture(
                target, event.value, event.unit, GaugeSource(asset, event.raw), event
            )
        if isinstance(event, ErrorEvent):
            self._awaiting.pop(event.asset or "", None)
            return Notice(f"{event.asset or event.port}: {event.reason}", True)
        if isinstance(event, DisconnectedEvent):
            assets = ", ".join(event.assets) or event.port
            return Notice(f"{assets} disconnected: {event.reason} — M for manual entry.", True)
        return None

    def _target_for(self, asset_id: str) -> str | Notice:
        """Which characteristic a reading from ``asset_id`` is for: the one it was asked for,
        the highlighted one, or the next open one of its gauge type (highlighted then)."""
        if asset_id in self._awaiting:
            return self._awaiting.pop(asset_id)
        ch = self.active_char
        if any(a.asset == asset_id for a in self.assets(ch)) and ch.id not in self.pending:
            return ch.id
        gauge_type = self.service.config.asset(asset_id).gauge_type
        for index, other in enumerate(self.characteristics):
            if (
                other.gauge == gauge_type
                and other.id not in self.values
                and other.id not in self.pending
            ):
                self.active = index
                return other.id
        return Notice(
            f"Reading from {asset_id} not used: no open characteristic needs a {gauge_type}."
        )

    def manual_entry(self) -> ManualPrompt | Notice:
        """Typing the highlighted characteristic's value: what to ask, with a likely reason."""
        ch = self.active_char
        if ch.kind is Kind.ATTRIBUTE:
            return Notice("Attribute: P for pass, F for fail.")
        if self.usable_asset(ch):
            reason = ""
        elif self.assets(ch):
            reason = "gauge locked: calibration overdue"
        else:
            reason = "no serial gauge for this characteristic"
        return ManualPrompt(ch, reason)

    def manual(self, char_id: str, text: str, reason: str) -> Step:
        """A value typed for a characteristic (``text`` may carry its unit), with the reason."""
        value, unit = split_value(text)
        return self.capture(char_id, value, unit, ManualSource(reason))

    def judge(self, verdict: str) -> Step:
        """The highlighted attribute judged ``pass`` or ``fail`` by the inspector."""
        ch = self.active_char
        if ch.kind is not Kind.ATTRIBUTE:
            return Notice(f"#{ch.id} is measured: capture it from the gauge or M for manual.")
        source = ManualSource(f"attribute judged by the inspector ({ch.method or 'visual'})")
        return self.capture(ch.id, verdict, None, source)

    def capture(
        self,
        char_id: str,
        value: str,
        unit: str | None,
        source: Source,
        event: ReadingEvent | None = None,
        reason: str | None = None,
    ) -> Capture | NeedsReason:
        """Bind a value for a characteristic of the part in hand; a characteristic that has a
        value needs the reason of the correction first. The highlighted characteristic moves
        on to the next open one once its value is on its way."""
        capture = Capture(self.serial, char_id, value, unit, source, reason, event)
        if char_id in self.values and reason is None:
            return NeedsReason(capture)
        self.pending.add(char_id)
        if self.active_char.id == char_id:
            self.active = self.next_open(self.active)
        return capture

    def correct(self, question: NeedsReason, reason: str | None) -> Capture | Notice:
        """The answer to :class:`NeedsReason`: the reason, or None to keep the recorded value."""
        c = question.capture
        if not reason:
            return Notice(f"#{c.characteristic}: re-measure cancelled; the recorded value stands.")
        result = self.capture(c.characteristic, c.value, c.unit, c.source, c.event, reason)
        assert isinstance(result, Capture)
        return result

    def write(self, capture: Capture) -> MeasurementAck:
        """I/O: evaluate and durably record a capture (its SPC verdict in the same
        transaction); returns after the commit."""
        write = self.grouped(capture)
        try:
            (outcome,) = self.service.recorder.measure_many([write.request])
        except BaseException:
            write.not_committed()
            raise
        if isinstance(outcome, InspectStationError):
            write.not_committed()
            raise outcome
        return outcome

    def grouped(self, capture: Capture) -> GroupedWrite:
        """A capture as a measurement for the station writer's group commit (the same checks
        and SPC hooks as :meth:`write`): a new part waits while an SPC alarm of the part number
        is open -- one raised earlier in the same group too -- and the reading feeds its chart
        in the transaction; its ``undo`` (run at once when the measurement is refused in the
        group, and again if the group is rolled back) forgets what it fed the chart."""
        after, undo = self.spc.undoable_hook()
        request = Measurement(
            spec=self.spec,
            lot=self.lot,
            serial=capture.serial,
            inspector=self.user.user_id,
            characteristic=capture.characteristic,
            value=capture.value,
            unit=capture.unit,
            source=capture.source,
            reason=capture.reason,
            before=self._new_part_clear(capture.serial),
            after=after,
            rolled_back=undo,
        )
        return GroupedWrite(request, undo)

    def _new_part_clear(self, serial: str) -> Callable[[Transaction], None]:
        """In the write's transaction: the first reading of a part waits while an SPC alarm of
        the part number is open (read in that transaction, so one raised earlier in the same
        group counts)."""
        lot, spc = self.lot, self.spc

        def before(tx: Transaction) -> None:
            if inspections.latest_inspection(tx, lot, serial) is None:
                spc.require_clear(tx)

        return before

    def recorded(self, capture: Capture, ack: MeasurementAck) -> Recorded | Stale:
        """A capture committed: the characteristic has its value."""
        if ack.serial != self.serial:
            return Stale(ack)  # the part was changed meanwhile; the record is safe
        alarm = self.spc.outcome(ack.uuid)
        self.pending.discard(ack.characteristic)
        value = PartValue.of_ack(capture, self.char(ack.characteristic).kind, ack)
        self.values[ack.characteristic] = value
        return Recorded(capture, ack, value, self.complete, alarm)

    def not_recorded(self, capture: Capture, error: InspectStationError) -> NotRecorded:
        """A capture refused by the record: its characteristic is highlighted again."""
        self.pending.discard(capture.characteristic)
        self.active = self.characteristics.index(self.char(capture.characteristic))
        return NotRecorded(capture, f"#{capture.characteristic} not recorded: {error.message}")

    def record(self, capture: Capture) -> Outcome:
        """Write a capture and take in the outcome (headless)."""
        try:
            ack = self.write(capture)
        except InspectStationError as exc:
            return self.not_recorded(capture, exc)
        return self.recorded(capture, ack)

    def take(self, event: GaugeEvent) -> Step | Outcome | None:
        """A gauge event, recorded at once when it is a reading for the part (headless)."""
        step = self.on_gauge(event)
        return self.record(step) if isinstance(step, Capture) else step

    # -- polling ---------------------------------------------------------------------------------

    def poll(self) -> Poll | PressData | Notice:
        """How to get the highlighted characteristic's value from its gauge."""
        ch = self.active_char
        if ch.kind is Kind.ATTRIBUTE:
            return Notice("Attribute: P for pass, F for fail.")
        asset = self.usable_asset(ch)
        if asset is None:
            reason = "locked (calibration overdue)" if self.assets(ch) else "not available"
            return Notice(f"No {ch.gauge or 'serial'} gauge {reason}: M for manual entry.", True)
        state = self.gauge_state(asset.asset)
        if state is None or not state.can_request:
            return PressData(asset)
        return Poll(asset, ch)

    def request(self, poll: Poll) -> Notice | None:
        """Ask the gauge; its answer is bound to the characteristic polled for."""
        if self.gauges is None:
            return Notice(f"Press DATA on {poll.asset.asset}.")
        self._awaiting[poll.asset.asset] = poll.characteristic.id
        try:
            self.gauges.request(poll.asset.asset)
        except InspectStationError as exc:
            self._awaiting.pop(poll.asset.asset, None)
            return Notice(exc.message, True)
        return None

    # -- closing the part ------------------------------------------------------------------------

    def failed(self) -> list[str]:
        """The characteristics of the part in hand whose value fails."""
        return [c for c, value in self.values.items() if value.verdict is not Verdict.PASS]

    def finish(
        self, defect_code: str | None = None, note: str | None = None
    ) -> CloseRequest | NeedsDefect | Notice:
        """Closing the part in hand: accepted, or rejected (which needs a defect code)."""
        missing = [ch.id for ch in self.characteristics if ch.id not in self.values]
        if missing or self.pending or not self.ready:
            return Notice(f"Not finished: #{', #'.join(missing) or 'pending'} still open.", True)
        alarm = self.spc.blocking()
        if alarm is not None:
            return Notice(f"{alarm.sentence()} A answers it; then N closes the part.", True)
        failed = self.failed()
        if failed and defect_code is None:
            return NeedsDefect(self.serial, failed, dict(self.service.config.defect_codes))
        self.ready = False  # closing: a reading now is not this part's
        return CloseRequest(self.serial, defect_code if failed else None, note if failed else None)

    def close(self, request: CloseRequest) -> PartClosed:
        """I/O: record the part's result, then read the lot and the next part."""
        self.spc.require_clear()
        result = self.service.close_part(
            self.user,
            self.spec,
            self.lot,
            request.serial,
            defect_code=request.defect_code,
            note=request.note,
        )
        progress = self.service.lot_progress(self.lot)
        next_part = self.read(PartRequest(self.service.next_serial(self.lot)))
        return PartClosed(request.serial, result, progress, next_part)

    def closed(self, outcome: PartClosed) -> None:
        """The part is closed: the lot's progress, and the next part in hand."""
        self.progress = outcome.progress
        self.show(outcome.next_part)

    def close_failed(self, request: CloseRequest, error: InspectStationError) -> Notice:
        """The record refused to close the part: it stays in hand, open."""
        if request.serial == self.serial:
            self.ready = True
        return Notice(error.message, True)

    def close_part(
        self, defect_code: str | None = None, note: str | None = None
    ) -> PartClosed | NeedsDefect | Notice:
        """Close the part in hand and load the next one (headless)."""
        step = self.finish(defect_code, note)
        if not isinstance(step, CloseRequest):
            return step
        try:
            outcome = self.close(step)
        except InspectStationError as exc:
            return self.close_failed(step, exc)
        self.closed(outcome)
        return outcome
