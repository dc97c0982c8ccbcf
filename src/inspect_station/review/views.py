"""What the review shows: queue lines, a reject's detail, its dispositions and resolutions.

Plain frozen dataclasses built by ``queries`` from the record, each with ``json()`` for the
command line and the exports; ``Standing`` decides which disposition of a reject is in force.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from inspect_station.config import CalibrationStatus
from inspect_station.records import RecordRef
from inspect_station.review.model import Status
from inspect_station.review.signing import Signature
from inspect_station.vocabulary import Disposition, Verdict


@dataclass(frozen=True)
class DispositionInfo:
    """A signed disposition of one reject with all its signatures."""

    uuid: str
    """UUID of the disposition record."""
    station: str
    """Station whose journal holds it."""
    seq: int
    """Its seq in that journal."""
    reject: str
    """UUID of the reject's result record."""
    disposition: Disposition
    """What is done with the part."""
    reason: str
    """Why, in the supervisor's words."""
    regrade_to: str | None
    """For a regrade: the grade or part the item now conforms to."""
    signed_hash: str
    """SHA-256 of the reject content that was signed."""
    signers_required: int
    """How many signatures the disposition needs."""
    signatures: tuple[Signature, ...]
    """Signatures so far, first signer first."""

    @property
    def complete(self) -> bool:
        """Whether every required signature is there."""
        return len(self.signatures) >= self.signers_required

    @property
    def status(self) -> Status:
        """Disposed, or awaiting the second signature."""
        return Status.DISPOSED if self.complete else Status.AWAITING_SECOND

    def json(self) -> dict[str, Any]:
        """The disposition as a JSON object."""
        return {
            "uuid": self.uuid,
            "station": self.station,
            "seq": self.seq,
            "reject": self.reject,
            "disposition": self.disposition.value,
            "label": self.disposition.label,
            "reason": self.reason,
            "regrade_to": self.regrade_to,
            "signed_hash": self.signed_hash,
            "signers_required": self.signers_required,
            "complete": self.complete,
            "signatures": [s.json() for s in self.signatures],
        }


@dataclass(frozen=True)
class RejectSummary:
    """One line of the rejects queue."""

    reject: str
    """UUID of the reject's result record: the id a disposition refers to."""
    station: str
    """Station that recorded the reject."""
    seq: int
    """seq of the result record in that station's journal."""
    inspection: str
    """UUID of the part inspection."""
    lot: str
    """Lot id."""
    serial: str
    """Part serial."""
    part_number: str
    """Part number."""
    revision: str
    """Spec revision."""
    spec_hash: str
    """Content hash of the spec revision."""
    failed: tuple[str, ...]
    """Ids of the characteristics that failed."""
    defect_code: str | None
    """Defect code given by the inspector, if any."""
    note: str | None
    """The inspector's note, if any."""
    inspector: str
    """Who closed the part."""
    closed_at: str
    """When the reject was recorded (UTC)."""
    age: dt.timedelta
    """How long ago that was."""
    status: Status
    """Where it stands in review."""
    disposition: DispositionInfo | None
    """Its disposition, once signed."""
    reinspection_of: str | None
    """If the part was re-inspected after rework: the original reject's UUID."""

    @property
    def short_id(self) -> str:
        """The first 8 characters of the reject id (enough to type)."""
        return self.reject[:8]

    def json(self) -> dict[str, Any]:
        """The summary as a JSON object."""
        return {
            "reject": self.reject,
            "station": self.station,
            "seq": self.seq,
            "inspection": self.inspection,
            "lot": self.lot,
            "serial": self.serial,
            "part_number": self.part_number,
            "revision": self.revision,
            "spec_hash": self.spec_hash,
            "failed": list(self.failed),
            "defect_code": self.defect_code,
            "note": self.note,
            "inspector": self.inspector,
            "closed_at": self.closed_at,
            "age_seconds": int(self.age.total_seconds()),
            "status": self.status.value,
            "disposition": self.disposition.json() if self.disposition else None,
            "reinspection_of": self.reinspection_of,
        }


@dataclass(frozen=True)
class MeasurementLine:
    """One measurement record of a rejected part, as the detail view shows it."""

    record: RecordRef
    """Where the record is, with its hash."""
    characteristic: str
    """Characteristic id (balloon)."""
    name: str | None
    """Characteristic name."""
    kind: str | None
    """variable or attribute."""
    value: str
    """Value as measured."""
    unit: str | None
    """Unit as measured."""
    value_in_spec_unit: str | None
    """The value in the spec's unit."""
    spec_unit: str | None
    """Unit of the limits."""
    nominal: str | None
    """Nominal in force."""
    lower: str | None
    """Lower limit in force."""
    upper: str | None
    """Upper limit in force."""
    verdict: str
    """pass or fail."""
    zone: str | None
    """inside, guard-band or outside."""
    deviation: str | None
    """Value minus nominal."""
    limit_broken: str | None
    """lower or upper, for a fail."""
    exceeds_by: str | None
    """How far beyond (or into the guard band of) that limit."""
    decision_rule: dict[str, Any]
    """The ISO 14253-1 rule applied."""
    source: str
    """gauge or manual."""
    manual_reason: str | None
    """Why it was typed in, for a manual entry."""
    gauge_asset: str | None
    """Gauge asset id."""
    gauge_serial: str | None
    """Instrument serial number."""
    gauge_certificate: str | None
    """Calibration certificate in force."""
    gauge_calibration_due: str | None
    """Calibration due date in force when measured."""
    calibrated_when_measured: bool | None
    """Whether the gauge was within its calibration interval on the day it measured."""
    calibration_now: CalibrationStatus | None
    """The gauge's calibration status today, by the due date recorded."""
    raw: str | None
    """The frame as received (one character per byte)."""
    inspector: str
    """Who measured."""
    station: str
    """Where."""
    measured_at: str
    """When (UTC)."""
    current: bool
    """False if a later correction superseded it."""
    supersedes: str | None
    """UUID of the measurement it corrects."""
    reason: str | None
    """Reason for the correction."""

    def json(self) -> dict[str, Any]:
        """The line as a JSON object."""
        out = {k: v for k, v in self.__dict__.items() if k not in ("record", "calibration_now")}
        out["record"] = self.record.json()
        out["calibration_now"] = self.calibration_now.value if self.calibration_now else None
        return out


@dataclass(frozen=True)
class Reinspection:
    """A later inspection of a reworked part, linked to its original reject."""

    inspection: str
    """UUID of the new inspection."""
    station: str
    """Where it was opened."""
    inspector: str
    """Who opened it."""
    opened_at: str
    """When (UTC)."""
    disposition: str | None
    """UUID of the disposition that sent the part back."""
    result: str | None
    """accept / reject once closed, else None."""

    def json(self) -> dict[str, Any]:
        """The re-inspection as a JSON object."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class RejectDetail:
    """Everything a supervisor needs to dispose of one reject, and what a signature binds."""

    summary: RejectSummary
    """The queue line."""
    current: bool
    """Whether the result is still the part's current result."""
    superseded_by: str | None
    """The later result that replaced it, if any."""
    measurements: tuple[MeasurementLine, ...]
    """Every measurement record of the part inspection, in seq order."""
    signed_records: tuple[RecordRef, ...]
    """The records a signature binds: the measurements in seq order, then the result."""
    signed_hash: str
    """SHA-256 of the signed content (see the module documentation)."""
    dispositions: tuple[DispositionInfo, ...]
    """Dispositions of this reject (one, or none; more only after a conflict between stores)."""
    reinspections: tuple[Reinspection, ...]
    """Re-inspections linked to this reject."""
    resolutions: tuple[Resolution, ...] = ()
    """Signed resolutions between conflicting dispositions, oldest first."""

    @property
    def standing(self) -> Standing:
        """Which disposition is in force, or that they conflict."""
        return Standing(self.dispositions, self.resolutions)

    @property
    def failures(self) -> tuple[MeasurementLine, ...]:
        """The current measurements that failed."""
        return tuple(m for m in self.measurements if m.current and m.verdict != Verdict.PASS)

    @property
    def disposition(self) -> DispositionInfo | None:
        """The disposition in force (None if none was signed, or while they conflict)."""
        return self.standing.in_force

    def json(self) -> dict[str, Any]:
        """The detail as a JSON object."""
        return {
            **self.summary.json(),
            "current": self.current,
            "superseded_by": self.superseded_by,
            "measurements": [m.json() for m in self.measurements],
            "signed_records": [r.json() for r in self.signed_records],
            "signed_hash": self.signed_hash,
            "dispositions": [d.json() for d in self.dispositions],
            "resolutions": [r.json() for r in self.resolutions],
            "reinspections": [r.json() for r in self.reinspections],
        }


@dataclass(frozen=True)
class Resolution:
    """A signed decision between conflicting dispositions of one reject."""

    uuid: str
    """UUID of the resolution record."""
    station: str
    """Station whose journal holds it."""
    seq: int
    """Its seq there."""
    reject: str
    """UUID of the reject's result record."""
    kept: str
    """UUID of the disposition that stands."""
    considered: tuple[str, ...]
    """UUIDs of every disposition the supervisor decided between (``kept`` among them)."""
    reason: str
    """Why that one stands."""
    signature: Signature
    """Who resolved it, with what meaning, when."""

    def json(self) -> dict[str, Any]:
        """The resolution as a JSON object."""
        return {
            "uuid": self.uuid,
            "station": self.station,
            "seq": self.seq,
            "reject": self.reject,
            "kept": self.kept,
            "considered": list(self.considered),
            "reason": self.reason,
            "signature": self.signature.json(),
        }


@dataclass(frozen=True)
class Standing:
    """Where a reject's dispositions stand: the one in force, or a conflict."""

    dispositions: tuple[DispositionInfo, ...]
    """Every disposition signed for the reject, oldest first."""
    resolutions: tuple[Resolution, ...] = ()
    """Every resolution signed for it, oldest first."""

    def _deciding(self) -> list[Resolution]:
        """Resolutions that considered every disposition there is now."""
        present = {d.uuid for d in self.dispositions}
        return [r for r in self.resolutions if present <= set(r.considered)]

    @property
    def conflict(self) -> bool:
        """More than one disposition, and no resolution (or disagreeing ones) over all of them."""
        if len({d.uuid for d in self.dispositions}) < 2:
            return False
        return len({r.kept for r in self._deciding()}) != 1

    @property
    def in_force(self) -> DispositionInfo | None:
        """The disposition that stands (None if none was signed, or while they conflict)."""
        if not self.dispositions or self.conflict:
            return None
        if len(self.dispositions) == 1:
            return self.dispositions[0]
        kept = self._deciding()[0].kept
        return next(d for d in self.dispositions if d.uuid == kept)

    @property
    def status(self) -> Status:
        """Awaiting, conflicting, awaiting a second signature, or disposed."""
        if self.conflict:
            return Status.CONFLICT
        d = self.in_force
        return d.status if d else Status.AWAITING


__all__ = [
    "DispositionInfo",
    "MeasurementLine",
    "Reinspection",
    "RejectDetail",
    "RejectSummary",
    "Resolution",
    "Standing",
]
