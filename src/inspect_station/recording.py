# Over 500 lines: the one durable write path (lots, measurements, group commit, results).
"""Recording inspections: the one path from a reading to a durable, chained record.

Evaluation happens before the write transaction, so a bad reading (not a number, implausible,
from an overdue gauge) is refused with nothing written. Each call commits one transaction and
returns only after the commit, so an acknowledgement always means the record is on disk.
``measure_many`` is the group commit: several waiting measurements in one transaction (one
fsync), each acknowledged only after it, a refused one rolled back alone to its savepoint.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from inspect_station.config import GaugeAsset
from inspect_station.errors import InspectStationError, ReadingError, UnknownCharacteristic
from inspect_station.evaluate import Evaluation, evaluate
from inspect_station.sampling import SamplingPlan, check_lot_size, sampling_plan
from inspect_station.spec.model import Characteristic, Kind, PartSpec
from inspect_station.store import calibrations, inspections
from inspect_station.store import spc as spc_store
from inspect_station.store.db import LocalStore, Transaction
from inspect_station.text import check_id, check_line
from inspect_station.vocabulary import PartResult, Verdict


class RecordingError(InspectStationError):
    """A recording request conflicts with what is already recorded."""


@dataclass(frozen=True)
class GaugeSource:
    """A reading that came from a gauge asset, with the frame exactly as received."""

    asset: GaugeAsset
    """The instrument that produced the reading."""
    raw: bytes | None = None
    """The frame bytes as received from the port."""


@dataclass(frozen=True)
class ManualSource:
    """A reading typed in by a person, with the reason no gauge fed it."""

    reason: str
    """Why the value was entered by hand (gauge unplugged, keyboard-wedge gauge, ...)."""


Source = GaugeSource | ManualSource


def raw_text(raw: bytes | None) -> str | None:
    """Frame bytes as text, one character per byte (ISO-8859-1), so nothing is lost."""
    return None if raw is None else raw.decode("latin-1")


@dataclass(frozen=True)
class MeasurementAck:
    """What the caller learns once a measurement is committed."""

    uuid: str
    """Record UUID of the measurement."""
    seq: int
    """Journal sequence number."""
    inspection: str
    """UUID of the part inspection it belongs to."""
    lot: str
    """Lot id."""
    serial: str
    """Part serial."""
    characteristic: str
    """Characteristic id (balloon number)."""
    evaluation: Evaluation
    """The verdict and its explanation."""
    result: str | None = None
    """The part's result if this measurement completed it (accept / reject)."""
    supersedes: str | None = None
    """The measurement record this one corrects, if it is a correction."""

    def json(self) -> dict[str, Any]:
        """The acknowledgement line printed by ``record``."""
        e = self.evaluation
        out: dict[str, Any] = {
            "id": self.uuid,
            "seq": self.seq,
            "lot": self.lot,
            "serial": self.serial,
            "characteristic": self.characteristic,
            "value": e.value,
            "unit": e.unit,
            "verdict": e.verdict.value,
            "zone": e.zone.value,
            "deviation": e.deviation,
        }
        if e.limit:
            out["limit"] = e.limit
            out["exceeds_by"] = e.exceeds_by
        if self.result:
            out["part_result"] = self.result
        return out


@dataclass(frozen=True)
class LotInfo:
    """A lot as recorded: its spec identity, size and sampling plan."""

    lot: str
    """Lot id."""
    part_number: str
    """Part number."""
    revision: str
    """Spec revision."""
    spec_hash: str
    """Content hash of the spec revision."""
    lot_size: int | None
    """Number of parts in the lot, if known."""
    work_order: str | None
    """Work order, if given."""
    plan: dict[str, Any] | None
    """The ISO 2859-1 plan (sample size, Ac, Re ...) if the lot size is known."""


def plan_record(plan: SamplingPlan) -> dict[str, Any]:
    """A sampling plan as written into the lot record."""
    out = dataclasses.asdict(plan)
    out["level"] = plan.level.value
    return out


@dataclass(frozen=True)
class Measurement:
    """One measurement to record: what ``Recorder.measure`` takes, as one value."""

    spec: PartSpec
    """The spec revision measured against."""
    lot: str
    """Lot id."""
    serial: str
    """Part serial."""
    inspector: str
    """User id of who (or which cell) measured."""
    characteristic: str
    """Characteristic id (balloon number)."""
    value: str
    """The reading as text (the station's number grammar), or pass/fail for an attribute."""
    source: Source
    """The gauge that sent it, or why it was typed."""
    unit: str | None = None
    """Unit of the value, if not the gauge's or the spec's."""
    reason: str | None = None
    """Reason of a correction (needed when the characteristic is already measured)."""
    auto_close: bool = False
    """Write the part's result as soon as every characteristic has a current measurement."""
    lot_size: int | None = None
    """Lot size, when the lot is opened by this measurement."""
    work_order: str | None = None
    """Work order, when the lot is opened by this measurement."""
    before: Callable[[Transaction], None] | None = None
    """Runs in the transaction before anything is appended; raising refuses this measurement
    alone (SPC refuses a new part while an alarm of its part number is open)."""
    after: Callable[[Transaction, dict[str, Any]], None] | None = None
    """Runs in the transaction once the measurement is appended (SPC writes its violations
    there, so a reading and its alarm commit together)."""
    rolled_back: Callable[[], None] | None = None
    """Runs as soon as this measurement is refused and rolled back to its savepoint, before
    the next one of the group is written: what ``after`` changed in memory (a chart fed, an
    alarm raised) must not judge the readings that follow."""


class _Prepared(NamedTuple):
    """A measurement checked and evaluated, ready to be appended."""

    request: Measurement
    lot: str
    serial: str
    inspector: str
    reason: str | None
    ch: Characteristic
    evaluation: Evaluation


class Recorder:
    """Records lots, part inspections, measurements and results into the local store."""

    def __init__(self, store: LocalStore, today: dt.date | None = None) -> None:
        self.store = store
        self._today = today

    # -- lots -------------------------------------------------------------------------------

    def open_lot(
        self,
        lot: str,
        spec: PartSpec,
        inspector: str,
        *,
        lot_size: int | None = None,
        work_order: str | None = None,
    ) -> LotInfo:
        """Open a lot of a spec revision (or return it if it is already open for that spec)."""
        with self.store.transaction() as tx:
            return self._ensure_lot(tx, lot, spec, inspector, lot_size, work_order)

    def lot(self, lot: str) -> LotInfo | None:
        """The recorded lot ``lot``, if any."""
        row = inspections.lot_row(self.store, lot)
        return _lot_info(row) if row else None

    def _ensure_lot(
        self,
        tx: Transaction,
        lot: str,
        spec: PartSpec,
        inspector: str,
        lot_size: int | None,
        work_order: str | None,
    ) -> LotInfo:
        lot = _clean_id(lot, "lot")
        inspector = _clean_id(inspector, "inspector")
        if work_order is not None:
            work_order = check_id(work_order, "work order") if work_order.strip(" ") else None
        if lot_size is not None:
            check_lot_size(lot_size)
        row = inspections.lot_row(tx, lot)
        if row:
            info = _lot_info(row)
            if (info.part_number, info.revision) != (spec.part_number, spec.revision):
                raise RecordingError(
                    f"Lot {lot} is a lot of {info.part_number} revision {info.revision}, "
                    f"not {spec.part_number} revision {spec.revision}."
                )
            if info.spec_hash != spec.content_hash:
                raise RecordingError(
                    f"The spec file of {spec.part_number} revision {spec.revision} has changed "
                    f"since lot {lot} was opened; a changed spec needs a new revision."
                )
            if lot_size is not None and info.lot_size is not None and lot_size != info.lot_size:
                raise RecordingError(
                    f"Lot {lot} was opened with lot size {info.lot_size}, not {lot_size}."
                )
            return info
        self._ensure_spec(tx, spec)
        plan = None
        if lot_size is not None:
            if lot_size < 1:
                raise RecordingError(f"Lot size must be at least 1, not {lot_size}.")
            plan = plan_record(sampling_plan(lot_size, spec.sampling.level, spec.sampling.aql))
        body = {
            **spec.identity(),
            "lot": lot,
            "work_order": work_order,
            "lot_size": lot_size,
            "sampling": plan,
            "inspector": inspector,
        }
        tx.append("lot_opened", body)
        return LotInfo(
            lot, spec.part_number, spec.revision, spec.content_hash, lot_size, work_order, plan
        )

    def _ensure_spec(self, tx: Transaction, spec: PartSpec) -> None:
        """Record the spec's full content the first time its hash is used."""
        if inspections.spec_recorded(tx, spec.content_hash):
            return
        other = inspections.spec_hash_of(tx, spec.part_number, spec.revision)
        if other:
            raise RecordingError(
                f"{spec.part_number} revision {spec.revision} was recorded with different "
                f"content before (hash {other[:12]}…); a changed spec needs a new revision."
            )
        tx.append(
            "spec",
            {
                **spec.identity(),
                "description": spec.description,
                "status": spec.status.value,
                "content": json.loads(spec.canonical()),
            },
        )

    # -- measurements -----------------------------------------------------------------------

    def evaluate(
        self, spec: PartSpec, characteristic: str, value: str, unit: str | None, source: Source
    ) -> tuple[Characteristic, Evaluation]:
        """Check and evaluate a reading without recording it (raises on bad input)."""
        ch = spec.get(characteristic)
        if ch is None:
            ids = ", ".join(c.id for c in spec.characteristic)
            raise UnknownCharacteristic(
                f"{spec.part_number} revision {spec.revision} has no characteristic "
                f"{characteristic!r} (characteristics: {ids})."
            )
        if isinstance(source, GaugeSource):
            # The gauge's calibration is judged when the measurement is written, against the
            # calibration in force in the record then (see _write), not here.
            if unit is None and ch.kind is Kind.VARIABLE:
                unit = source.asset.unit
                if unit is None:
                    raise ReadingError(
                        f"Gauge {source.asset.asset} sends no unit and none is configured for "
                        "it: set unit in its [[gauge]] entry of station.toml."
                    )
        elif not isinstance(source.reason, str) or not source.reason.strip(" "):
            raise ReadingError("A manual entry needs a reason (why no gauge fed it).")
        elif type(source.reason) is str:
            _check_manual_reason(source.reason)  # a cell sends the same reason every line
        else:
            check_line(source.reason, "manual entry reason")
        if unit is not None and not isinstance(unit, str):
            raise ReadingError(f"A unit must be text, not {type(unit).__name__}.")
        return ch, evaluate(value, unit, ch, spec)

    def measure(
        self,
        *,
        spec: PartSpec,
        lot: str,
        serial: str,
        inspector: str,
        characteristic: str,
        value: str,
        unit: str | None = None,
        source: Source,
        reason: str | None = None,
        auto_close: bool = False,
        lot_size: int | None = None,
        work_order: str | None = None,
        after: Callable[[Transaction, dict[str, Any]], None] | None = None,
    ) -> MeasurementAck:
        """Evaluate and durably record one measurement; re-measuring needs a ``reason``.

        A characteristic that already has a current measurement for this part is corrected:
        the new record supersedes the old one and carries the reason. With ``auto_close``, the
        part's result is written as soon as every characteristic has a current measurement.
        ``after(tx, record)`` runs in the same transaction once the measurement is appended
        (SPC writes its violations there, so a reading and its alarm commit together).
        """
        request = Measurement(
            spec=spec,
            lot=lot,
            serial=serial,
            inspector=inspector,
            characteristic=characteristic,
            value=value,
            unit=unit,
            source=source,
            reason=reason,
            auto_close=auto_close,
            lot_size=lot_size,
            work_order=work_order,
            after=after,
        )
        prepared = self._prepare(request)
        with self.store.transaction() as tx:
            return self._write(tx, prepared)

    def measure_many(
        self, requests: Sequence[Measurement]
    ) -> list[MeasurementAck | InspectStationError]:
        """Record several measurements in one durable commit (group commit), in order.

        Each outcome is the acknowledgement of a measurement or the error that refused it: a
        refused measurement is rolled back alone (to its savepoint) and the others are still
        recorded, in order, each seeing the ones before it (a correction of a value earlier
        in the group needs its reason, as it would one by one). Returns only after the one
        commit, so every acknowledgement means on disk. An unexpected error (the disk, a
        defect) rolls back the whole group and is raised: nothing of it is acknowledged.
        """
        outcomes: list[MeasurementAck | InspectStationError | None] = []
        prepared: list[_Prepared | None] = []
        # Lots already checked (and opened if need be) by a measurement of this transaction
        # whose savepoint was kept: the next ones of the same lot need not read it again.
        lots: set[tuple[Any, ...]] = set()
        for request in requests:
            try:
                prepared.append(self._prepare(request))
                outcomes.append(None)
            except InspectStationError as exc:
                prepared.append(None)
                outcomes.append(exc)
        if any(p is not None for p in prepared):
            with self.store.transaction() as tx:
                for index, item in enumerate(prepared):
                    if item is None:
                        continue
                    try:
                        with tx.savepoint():
                            outcomes[index] = self._write(tx, item, lots)
                        lots.add(_lot_key(item))
                    except InspectStationError as exc:
                        outcomes[index] = exc
                        if item.request.rolled_back is not None:
                            item.request.rolled_back()
        return [outcome for outcome in outcomes if outcome is not None]

    def _prepare(self, request: Measurement) -> _Prepared:
        """Check a measurement's text and evaluate it, before any transaction is opened."""
        lot = _clean_id(request.lot, "lot")
        serial = _clean_id(request.serial, "serial")
        inspector = _clean_id(request.inspector, "inspector")
        reason = request.reason
        if reason is not None:
            reason = check_line(reason, "reason of the correction", required=False) or None
        ch, evaluation = self.evaluate(
            request.spec, request.characteristic, request.value, request.unit, request.source
        )
        return _Prepared(request, lot, serial, inspector, reason, ch, evaluation)

    def _write(
        self, tx: Transaction, item: _Prepared, lots: set[tuple[Any, ...]] | None = None
    ) -> MeasurementAck:
        """Append a prepared measurement (and the part's result with ``auto_close``); its lot
        is checked unless it is in ``lots``: checked by a measurement kept earlier in this
        transaction."""
        request, lot, serial, inspector = item.request, item.lot, item.serial, item.inspector
        spec, source, ch, evaluation = request.spec, request.source, item.ch, item.evaluation
        reason = item.reason
        if request.before is not None:
            request.before(tx)
        if isinstance(source, GaugeSource):
            # The calibration in force is read in the write transaction: one recorded by
            # `gauges calibrate` while the station runs counts from the next reading on.
            asset = source.asset.in_force(calibrations.latest_of_asset(tx, source.asset.asset))
            asset.require_calibrated(self._today)
            source = GaugeSource(asset, source.raw)
        if lots is None or _lot_key(item) not in lots:
            self._ensure_lot(tx, lot, spec, inspector, request.lot_size, request.work_order)
        inspection = inspections.latest_inspection(tx, lot, serial) or self._open_inspection(
            tx, lot, serial, spec, inspector
        )
        previous = inspections.current_measurement(tx, lot, serial, ch.id, inspection)
        supersedes = None
        if previous:
            if not reason:
                raise RecordingError(
                    f"Characteristic {ch.id} of part {serial} was already measured "
                    f"(seq {previous.seq}); give a reason to record a correction."
                )
            supersedes = previous.uuid
        body: dict[str, Any] = {
            **spec.identity(),
            "inspection": inspection,
            "lot": lot,
            "serial": serial,
            "characteristic": ch.id,
            "characteristic_name": ch.name,
            "kind": ch.kind.value,
            "class": ch.class_.value,
            **evaluation.record(),
            "inspector": inspector,
            "source": "gauge" if isinstance(source, GaugeSource) else "manual",
            "manual_reason": (
                source.reason.strip(" ") if isinstance(source, ManualSource) else None
            ),
            "gauge": source.asset.trace() if isinstance(source, GaugeSource) else None,
            "raw": raw_text(source.raw) if isinstance(source, GaugeSource) else None,
            "supersedes": supersedes,
            "reason": reason if supersedes else None,
        }
        record = tx.append("measurement", body)
        if request.after is not None:
            request.after(tx, record)
        result = None
        if request.auto_close:
            result = self._close_if_complete(tx, spec, inspection, lot, serial, inspector)
        return MeasurementAck(
            record["uuid"],
            record["seq"],
            inspection,
            lot,
            serial,
            ch.id,
            evaluation,
            result,
            supersedes,
        )

    # -- part inspections -------------------------------------------------------------------

    def _open_inspection(
        self, tx: Transaction, lot: str, serial: str, spec: PartSpec, inspector: str
    ) -> str:
        record = tx.append(
            "inspection_opened",
            {**spec.identity(), "lot": lot, "serial": serial, "inspector": inspector},
        )
        return record["uuid"]

    def open_reinspection(
        self,
        *,
        spec: PartSpec,
        lot: str,
        serial: str,
        inspector: str,
        reinspection_of: str,
        disposition: str | None = None,
    ) -> str:
        """Open a new inspection of a reworked part, linked to its original reject.

        ``reinspection_of`` is the UUID of the reject's result record, ``disposition`` the UUID
        of the disposition that sent the part back. Later ``measure`` calls for this lot and
        serial record into the new inspection; the original one and its result stay as they
        are. Returns the new inspection's UUID.
        """
        lot = _clean_id(lot, "lot")
        serial = _clean_id(serial, "serial")
        inspector = _clean_id(inspector, "inspector")
        with self.store.transaction() as tx:
            self._ensure_lot(tx, lot, spec, inspector, None, None)
            record = self._append_reinspection(
                tx, spec, lot, serial, inspector, reinspection_of, disposition, {}
            )
        return str(record["uuid"])

    def _append_reinspection(
        self,
        tx: Transaction,
        spec: PartSpec,
        lot: str,
        serial: str,
        inspector: str,
        reinspection_of: str,
        disposition: str | None,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        return tx.append(
            "reinspection_opened",
            {
                **spec.identity(),
                "lot": lot,
                "serial": serial,
                "inspector": inspector,
                "reinspection_of": reinspection_of,
                "disposition": disposition,
                **extra,
            },
        )

    # -- SPC containment: what an alarm's answer decides for a held part -----------------------

    def contain_reject(
        self,
        tx: Transaction,
        *,
        spec: PartSpec,
        inspection: str,
        lot: str,
        serial: str,
        inspector: str,
        defect_code: str,
        note: str,
        containment: dict[str, Any],
    ) -> dict[str, Any]:
        """Inside ``tx``: close a held part inspection as a reject an SPC alarm's answer
        decided (``containment`` names the alarm), superseding its result if it had one; the
        reject goes to review like any other. Returns the inspection_closed record."""
        previous = inspections.current_result(tx, inspection)
        suspect = {containment["characteristic"], *(previous.failed if previous else [])}
        failed = [ch.id for ch in spec.characteristic if ch.id in suspect]
        return self._append_result(
            tx,
            spec,
            inspection,
            lot,
            serial,
            inspector,
            PartResult.REJECT,
            failed,
            defect_code,
            note,
            previous.uuid if previous else None,
            {"containment": containment},
        )

    def contain_reinspect(
        self,
        tx: Transaction,
        *,
        spec: PartSpec,
        lot: str,
        serial: str,
        inspector: str,
        reinspection_of: str,
        containment: dict[str, Any],
    ) -> dict[str, Any]:
        """Inside ``tx``: open the re-inspection of a held part an SPC alarm's answer sent
        back (``reinspection_of``: its result, or its inspection if it was not closed yet);
        later readings of the part go to it. Returns the reinspection_opened record."""
        return self._append_reinspection(
            tx, spec, lot, serial, inspector, reinspection_of, None, {"containment": containment}
        )

    def _close_if_complete(
        self,
        tx: Transaction,
        spec: PartSpec,
        inspection: str,
        lot: str,
        serial: str,
        inspector: str,
    ) -> str | None:
        """Write the part's result when every characteristic is measured and it changed."""
        current = inspections.current_verdicts(tx, lot, serial, inspection)
        if any(ch.id not in current for ch in spec.characteristic):
            return None
        failed = [ch.id for ch in spec.characteristic if current[ch.id] != Verdict.PASS]
        result = PartResult.REJECT if failed else PartResult.ACCEPT
        previous = inspections.current_result(tx, inspection)
        if previous and previous.result == result and previous.failed == failed:
            return result
        if previous and _containment_reject(tx, previous) is not None:
            return PartResult.REJECT  # an SPC containment reject stands; review disposes of it
        self._append_result(
            tx,
            spec,
            inspection,
            lot,
            serial,
            inspector,
            result,
            failed,
            None,
            None,
            previous.uuid if previous else None,
        )
        return result

    def _append_result(
        self,
        tx: Transaction,
        spec: PartSpec,
        inspection: str,
        lot: str,
        serial: str,
        inspector: str,
        result: PartResult,
        failed: list[str],
        defect_code: str | None,
        note: str | None,
        supersedes: str | None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return tx.append(
            "inspection_closed",
            {
                **spec.identity(),
                "inspection": inspection,
                "lot": lot,
                "serial": serial,
                "result": result.value,
                "failed": failed,
                "defect_code": defect_code,
                "note": note,
                "inspector": inspector,
                "supersedes": supersedes,
                **(extra or {}),
            },
        )

    def close_inspection(
        self,
        *,
        spec: PartSpec,
        lot: str,
        serial: str,
        inspector: str,
        defect_code: str | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Close a part with its result; a reject needs a defect code. Returns the record."""
        lot = _clean_id(lot, "lot")
        serial = _clean_id(serial, "serial")
        inspector = _clean_id(inspector, "inspector")
        if defect_code is not None:
            defect_code = check_id(defect_code, "defect code", max_length=20)
        if note is not None:
            note = check_line(note, "defect note", required=False) or None
        with self.store.transaction() as tx:
            inspection = inspections.latest_inspection(tx, lot, serial)
            if inspection is None:
                raise RecordingError(f"Part {serial} of lot {lot} has no measurements yet.")
            held = _containment_reject(tx, inspections.current_result(tx, inspection))
            if held is not None:
                return held  # rejected by an SPC alarm's answer: it stays that reject
            current = inspections.current_verdicts(tx, lot, serial, inspection)
            missing = [ch.id for ch in spec.characteristic if ch.id not in current]
            if missing:
                raise RecordingError(
                    f"Part {serial} cannot be closed: characteristic(s) {', '.join(missing)} "
                    "not measured yet."
                )
            failed = [ch.id for ch in spec.characteristic if current[ch.id] != Verdict.PASS]
            result = PartResult.REJECT if failed else PartResult.ACCEPT
            if failed and not defect_code:
                raise RecordingError(f"Part {serial} is rejected: give a defect code.")
            previous = inspections.current_result(tx, inspection)
            return self._append_result(
                tx,
                spec,
                inspection,
                lot,
                serial,
                inspector,
                result,
                failed,
                defect_code,
                note,
                previous.uuid if previous else None,
            )


def _containment_reject(
    tx: Transaction, result: inspections.ResultRef | None
) -> dict[str, Any] | None:
    """The result record if ``result`` is a reject an SPC alarm's answer decided (it stands:
    later readings of the part do not turn it into an accept); None otherwise."""
    if result is None or result.result != PartResult.REJECT.value:
        return None
    row = spc_store.result_record(tx, result.uuid)
    if row is None or not row.get("containment"):
        return None
    return spc_store.journal_record(tx, row["seq"])


def _lot_info(row: dict[str, Any]) -> LotInfo:
    return LotInfo(
        row["lot"],
        row["part_number"],
        row["revision"],
        row["spec_hash"],
        row["lot_size"],
        row["work_order"],
        json.loads(row["sampling"]) if row["sampling"] else None,
    )


def _lot_key(item: _Prepared) -> tuple[Any, ...]:
    """What ``_ensure_lot`` checks a measurement's lot against."""
    request = item.request
    return (item.lot, request.spec.content_hash, request.lot_size, request.work_order)


def _clean_id(value: str, what: str) -> str:
    """An identifier (lot, serial, user) trimmed and checked by the one text validator."""
    if type(value) is str:
        return _checked_id(value, what)  # a group repeats the same lot and inspector
    return check_id(value, what, max_length=64)


@functools.lru_cache(maxsize=512)
def _checked_id(value: str, what: str) -> str:
    """``check_id`` of a text, remembered (a refused one raises each time, never cached)."""
    return check_id(value, what, max_length=64)


@functools.lru_cache(maxsize=128)
def _check_manual_reason(reason: str) -> None:
    """``check_line`` of a manual entry's reason, remembered once passed (a cell sends the same
    reason with every line; a refused one raises each time, never cached)."""
    check_line(reason, "manual entry reason")
