"""Reject review: the queue of rejects awaiting disposition, their detail, signed dispositions.

A *reject* is the current result record (kind ``inspection_closed``, ``result = "reject"``) of
a part inspection. A supervisor disposes of it (ISO 9000 §3.12: use as is, rework, repair,
regrade, scrap, return to supplier) with a reason, and signs: the PIN is entered again, and the
``disposition`` record holds the printed name, user id, UTC time and meaning of the signature
(21 CFR Part 11 §11.50) and the SHA-256 of what was signed (§11.70):

    signed_hash = SHA-256(RFC 8785 JSON of {"format": 1,
                                            "measurements": [hash, ...],
                                            "result": hash})

where ``result`` is the hash of the reject's result record and ``measurements`` the hashes of
every measurement record of that part inspection (corrections and superseded values included),
in seq order. The record also lists those records by station, seq and UUID, so an auditor can
recompute the hash from the journal alone. Dispositions that need a second signer (by default
use-as-is and repair) are complete only when another supervisor adds a
``disposition_signature`` record bound to the first record's hash.

The review reads rejects from a ``RecordSource`` (the station's local store, or a central store
across all stations) and writes every signature into the signer's own local store, under that
store's station id, never into another station's chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from inspect_station.config import CalibrationStatus, StationConfig
from inspect_station.errors import DispositionError, ReviewError
from inspect_station.export.source import LocalSource, RecordRef, RecordSource
from inspect_station.recording import Recorder
from inspect_station.spec.model import PartSpec
from inspect_station.store import LocalStore, journal
from inspect_station.store import review as queries
from inspect_station.text import TextError, check_line
from inspect_station.users import (
    SIGNING,
    AuthError,
    LockedOut,
    Role,
    User,
    UserDirectory,
    WrongPinError,
    named_id,
)
from inspect_station.vocabulary import Disposition, parse_disposition

SIGNED_CONTENT_FORMAT = 1
"""Version of the signed-content definition written into every disposition."""
MEANING_APPROVAL = "approval of disposition"
"""Meaning of the first signature on a disposition."""
MEANING_SECOND_APPROVAL = "second approval of disposition"
"""Meaning of the second signer's signature."""
MEANING_RESOLUTION = "resolution of conflicting dispositions"
"""Meaning of the signature that decides which of conflicting dispositions stands."""
MAX_REASON = 500
"""Longest reason (characters) a disposition may carry."""

_UUID_PREFIX = re.compile(r"^[0-9a-f-]{6,36}$")


class Status(StrEnum):
    """Where a reject stands in review."""

    AWAITING = "awaiting disposition"
    """No disposition signed yet."""
    AWAITING_SECOND = "awaiting second signature"
    """Disposed and signed once; a second signer is still required."""
    DISPOSED = "disposed"
    """Disposed with every signature required."""
    CONFLICT = "conflicting dispositions"
    """Disposed more than once, signed apart (e.g. at a bench and an office terminal while one
    was offline): nothing is in force until a supervisor signs a resolution."""
    SUPERSEDED = "superseded"
    """A later result of the same part inspection replaced this one."""


class UnknownReject(ReviewError):
    """No reject matches the given id."""


class AlreadyDisposed(ReviewError):
    """The reject already has a disposition (or all the signatures it needs)."""


class NotPermitted(ReviewError):
    """The user may not sign this (not a supervisor, disabled, locked out, signed already)."""


class WrongPin(ReviewError):
    """The PIN re-entered for a signature is wrong; the attempt was recorded."""


class StaleReject(ReviewError):
    """The reject's records changed since they were shown or first signed."""


@dataclass(frozen=True)
class SignaturePolicy:
    """Which dispositions need a second signer (AS9100: concessions need an authorised approver).

    At a station it comes only from ``second_signer`` in station.toml (``from_config``), and is
    recorded in every disposition it governs, with where it came from.
    """

    second_signer: frozenset[Disposition] = frozenset({Disposition.USE_AS_IS, Disposition.REPAIR})
    """Dispositions that are complete only with two signatures by different supervisors."""
    source: str = "built-in default"
    """Where the policy came from (recorded with each disposition)."""

    def signers_required(self, disposition: Disposition) -> int:
        """How many signatures this disposition needs."""
        return 2 if disposition in self.second_signer else 1

    def record(self) -> dict[str, Any]:
        """The policy as a disposition record holds it."""
        return {
            "second_signer": sorted(d.value for d in self.second_signer),
            "source": self.source,
        }

    @classmethod
    def from_config(cls, config: StationConfig) -> SignaturePolicy:
        """The policy station.toml sets with ``second_signer``; the default where it does not."""
        where = str(config.source) if config.source else "no station.toml"
        if config.second_signer is None:
            return cls(source=f"built-in default (second_signer not set; {where})")
        return cls(
            frozenset(Disposition(kind) for kind in config.second_signer),
            source=f"second_signer in {where}",
        )


@dataclass(frozen=True)
class RejectFilter:
    """Which rejects the queue shows."""

    lot: str | None = None
    """Only this lot."""
    part_number: str | None = None
    """Only this part number."""
    station: str | None = None
    """Only rejects recorded at this station."""
    older_than: dt.timedelta | None = None
    """Only rejects closed at least this long ago."""
    newer_than: dt.timedelta | None = None
    """Only rejects closed at most this long ago."""
    include_disposed: bool = False
    """Also list rejects whose disposition is complete."""


@dataclass(frozen=True)
class Signature:
    """One electronic signature on a disposition (21 CFR Part 11 §11.50)."""

    user_id: str
    """Signer's user id."""
    name: str
    """Signer's printed name."""
    role: str | None
    """Signer's role when signing."""
    meaning: str
    """What the signature means, e.g. 'approval of disposition'."""
    signed_at: str
    """UTC time of signing (RFC 3339, Z)."""
    station: str
    """Station whose journal holds the signature record."""
    record: str
    """UUID of the record that holds the signature."""

    def json(self) -> dict[str, Any]:
        """The signature as a JSON object."""
        return {
            "user_id": self.user_id,
            "name": self.name,
            "role": self.role,
            "meaning": self.meaning,
            "signed_at": self.signed_at,
            "station": self.station,
            "record": self.record,
        }


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
        return tuple(m for m in self.measurements if m.current and m.verdict != "pass")

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


def signed_content(records: list[RecordRef] | tuple[RecordRef, ...]) -> dict[str, Any]:
    """The object whose canonical JSON a disposition signs: measurement hashes, then the result.

    ``records`` are the measurement records in seq order followed by the result record.
    """
    *measurements, result = records
    return {
        "format": SIGNED_CONTENT_FORMAT,
        "measurements": [r.hash for r in measurements],
        "result": result.hash,
    }


def signed_hash(records: list[RecordRef] | tuple[RecordRef, ...]) -> str:
    """SHA-256 (hex) of the RFC 8785 bytes of ``signed_content(records)``."""
    return hashlib.sha256(journal.canonical_json(signed_content(records))).hexdigest()


def signature_body(user: User, meaning: str | None, signed_at: str) -> dict[str, Any]:
    """What a signature records (Part 11 §11.50): who, printed name, role, meaning, when (UTC)."""
    return {
        "user_id": user.user_id,
        "name": user.name,
        "role": user.role.value,
        "meaning": meaning,
        "signed_at": signed_at,
    }


def _one_line(text: str | None, what: str, *, required: bool) -> str | None:
    """Trimmed single-line text checked by the one text validator; DispositionError if not."""
    if text is None or not str(text).strip(" "):
        if required:
            raise DispositionError(f"A disposition needs a {what}.")
        return None
    try:
        return check_line(text, what, max_length=MAX_REASON)
    except TextError as exc:
        raise DispositionError(exc.message) from None


def _parse_ts(ts: str) -> dt.datetime:
    return dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def _ts(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Review:
    """The reject-review core: queue, detail, signing, co-signing and re-inspection.

    ``source`` is where rejects are read (``LocalSource`` of the station, or a central source);
    ``writer`` is the signer's own local store that dispositions are written to, and ``users``
    the user directory of that store (whose PINs the signers re-enter). A review that only
    reads (``rejects list`` on a terminal with no record of its own) has no writer.
    """

    def __init__(
        self,
        source: RecordSource,
        writer: LocalStore | None,
        users: UserDirectory | None = None,
        policy: SignaturePolicy | None = None,
        *,
        warn_days: int = 14,
        clock: Any = None,
    ) -> None:
        self.source = source
        self.writer = writer
        self.users = users or (UserDirectory(writer) if writer is not None else None)
        self.policy = policy or SignaturePolicy()
        self.warn_days = warn_days
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def now(self) -> dt.datetime:
        """The current time (UTC), from the clock given at construction."""
        return self._clock()

    # -- reading ------------------------------------------------------------------------------

    def queue(self, flt: RejectFilter | None = None) -> list[RejectSummary]:
        """Rejects awaiting disposition (or a second signature), oldest first."""
        flt = flt or RejectFilter()
        self.source.refresh()
        now = self.now()
        rows = self.source.rows(
            queries.REJECT_QUEUE,
            [
                flt.lot or None,
                flt.part_number or None,
                flt.station or None,
                None if flt.older_than is None else _ts(now - flt.older_than),
                None if flt.newer_than is None else _ts(now - flt.newer_than),
                1 if flt.include_disposed else 0,
            ],
        )
        dispositions = self._dispositions([r["uuid"] for r in rows])
        resolutions = load_resolutions(self.source, [r["uuid"] for r in rows], self.writer)
        origins = self._origins([r["inspection"] for r in rows])
        out = []
        for row in rows:
            summary = self._summary(
                row,
                dispositions.get(row["uuid"], []),
                origins,
                now,
                resolutions.get(row["uuid"], []),
            )
            if flt.include_disposed or summary.status is not Status.DISPOSED:
                out.append(summary)
        return out

    def resolve(self, reject_id: str) -> dict[str, Any]:
        """The result row of a reject given by its UUID or a unique prefix (at least 6 chars)."""
        text = (reject_id or "").strip().lower()
        if not _UUID_PREFIX.match(text):
            raise UnknownReject(
                f"{reject_id!r} is not a reject id (a UUID or its first 8 characters)."
            )
        if len(text) == 36:
            rows = self.source.rows(queries.REJECT_BY_UUID, [text])
        else:
            rows = self.source.rows(queries.REJECTS_BY_PREFIX, [text + "%"])
        if not rows:
            raise UnknownReject(f"There is no reject {reject_id} in the {self.source.description}.")
        if len(rows) > 1:
            raise UnknownReject(
                f"Reject id {reject_id} is ambiguous ({len(rows)} rejects start with it); "
                "give more characters."
            )
        return rows[0]

    def detail(self, reject_id: str) -> RejectDetail:
        """All measurements of a rejected part, its dispositions, and what a signature binds."""
        self.source.refresh()
        return self._detail(self.resolve(reject_id))

    def _detail(self, row: dict[str, Any]) -> RejectDetail:
        now = self.now()
        later = self.source.rows(queries.LATER_RESULTS, [row["uuid"]])
        measurements = self.source.rows(
            queries.INSPECTION_MEASUREMENTS, [row["lot"], row["serial"], row["inspection"]]
        )
        superseded = {m["supersedes"] for m in measurements if m["supersedes"]}
        lines = tuple(self._line(m, superseded, now) for m in measurements)
        result_ref = self.source.record_refs([(row["station"], row["seq"])])[
            (row["station"], row["seq"])
        ]
        refs = (*[line.record for line in lines], result_ref)
        dispositions = self._dispositions([row["uuid"]]).get(row["uuid"], [])
        resolutions = load_resolutions(self.source, [row["uuid"]], self.writer).get(row["uuid"], [])
        origins = self._origins([row["inspection"]])
        reinspections = self._reinspections(row["uuid"])
        return RejectDetail(
            summary=self._summary(row, dispositions, origins, now, resolutions),
            resolutions=tuple(resolutions),
            current=not later,
            superseded_by=later[0]["uuid"] if later else None,
            measurements=lines,
            signed_records=refs,
            signed_hash=signed_hash(refs),
            dispositions=tuple(dispositions),
            reinspections=reinspections,
        )

    def _line(self, m: dict[str, Any], superseded: set[str], now: dt.datetime) -> MeasurementLine:
        due = m["gauge_calibration_due"]
        when_measured = None
        status_now = None
        if due:
            due_date = dt.date.fromisoformat(due)
            when_measured = _parse_ts(m["measured_at"]).date() <= due_date
            today = now.date()
            if today > due_date:
                status_now = CalibrationStatus.OVERDUE
            elif (due_date - today).days <= self.warn_days:
                status_now = CalibrationStatus.DUE
            else:
                status_now = CalibrationStatus.OK
        return MeasurementLine(
            record=RecordRef(m["station"], m["seq"], m["uuid"], m["record_hash"]),
            characteristic=m["characteristic"],
            name=m["characteristic_name"],
            kind=m["kind"],
            value=m["value"],
            unit=m["unit"],
            value_in_spec_unit=m["value_in_spec_unit"],
            spec_unit=m["spec_unit"],
            nominal=m["nominal"],
            lower=m["lower"],
            upper=m["upper"],
            verdict=m["verdict"],
            zone=m["zone"],
            deviation=m["deviation"],
            limit_broken=m["limit_broken"],
            exceeds_by=m["exceeds_by"],
            decision_rule=json.loads(m["decision_rule"]) if m["decision_rule"] else {},
            source=m["source"],
            manual_reason=m["manual_reason"],
            gauge_asset=m["gauge_asset"],
            gauge_serial=m["gauge_serial"],
            gauge_certificate=m["gauge_certificate"],
            gauge_calibration_due=due,
            calibrated_when_measured=when_measured,
            calibration_now=status_now,
            raw=m["raw"],
            inspector=m["inspector"],
            station=m["station"],
            measured_at=m["measured_at"],
            current=m["uuid"] not in superseded,
            supersedes=m["supersedes"],
            reason=m["reason"],
        )

    def _summary(
        self,
        row: dict[str, Any],
        dispositions: list[DispositionInfo],
        origins: dict[str, str],
        now: dt.datetime,
        resolutions: list[Resolution] | tuple[Resolution, ...] = (),
    ) -> RejectSummary:
        standing = Standing(tuple(dispositions), tuple(resolutions))
        disposition = standing.in_force
        status = standing.status
        return RejectSummary(
            reject=row["uuid"],
            station=row["station"],
            seq=row["seq"],
            inspection=row["inspection"],
            lot=row["lot"],
            serial=row["serial"],
            part_number=row["part_number"],
            revision=row["revision"],
            spec_hash=row["spec_hash"],
            failed=tuple(json.loads(row["failed"] or "[]")),
            defect_code=row["defect_code"],
            note=row["note"],
            inspector=row["inspector"],
            closed_at=row["closed_at"],
            age=now - _parse_ts(row["closed_at"]),
            status=status,
            disposition=disposition,
            reinspection_of=origins.get(row["inspection"]),
        )

    def _origins(self, inspections: list[str]) -> dict[str, str]:
        """Inspection UUID -> the reject it re-inspects, for inspections that are re-inspections."""
        rows = self.source.rows(queries.REINSPECTION_ORIGINS, values=inspections)
        return {r["uuid"]: r["reinspection_of"] for r in rows}

    def _reinspections(self, reject: str) -> tuple[Reinspection, ...]:
        rows = self.source.rows(queries.REINSPECTIONS_OF, [reject])
        results = {
            r["inspection"]: r["result"]
            for r in self.source.rows(queries.CURRENT_RESULTS, values=[r["uuid"] for r in rows])
        }
        return tuple(
            Reinspection(
                r["uuid"],
                r["station"],
                r["inspector"],
                r["opened_at"],
                r["disposition"],
                results.get(r["uuid"]),
            )
            for r in rows
        )

    def _dispositions(self, rejects: list[str]) -> dict[str, list[DispositionInfo]]:
        """Reject UUID -> its dispositions, from the source and from the writer's own journal."""
        return load_dispositions(self.source, rejects, self.writer)

    # -- signing ------------------------------------------------------------------------------

    def _authorise(self, user_id: str, pin: str, what: str) -> User:
        """The supervisor whose PIN this is; a wrong PIN counts toward the lock-out."""
        users = self._users()
        user = users.get((user_id or "").strip())
        if user is None:
            raise NotPermitted(
                f"There is no user {named_id(user_id or '')} at station {users.store.station}."
            )
        if not user.active:
            raise NotPermitted(f"User {user.user_id} is disabled and cannot {what}.")
        if user.role is not Role.SUPERVISOR:
            raise NotPermitted(
                f"Only a supervisor can {what}; {user.name} ({user.user_id}) is "
                f"{'an' if user.role.value[0] in 'aeiou' else 'a'} {user.role.value}."
            )
        try:
            return users.confirm(user.user_id, pin, SIGNING)
        except LockedOut as exc:
            raise NotPermitted(
                f"User {user.user_id} is locked after repeated wrong PINs until "
                f"{exc.until.astimezone().strftime('%H:%M')}; nothing was signed."
            ) from None
        except WrongPinError as exc:
            raise WrongPin(
                "Wrong PIN; nothing was signed"
                + (
                    f", and user {user.user_id} is now locked for a while."
                    if exc.left == 0
                    else f" ({exc.left} {'try' if exc.left == 1 else 'tries'} left before "
                    f"user {user.user_id} is locked)."
                )
            ) from None
        except AuthError as exc:
            raise NotPermitted(f"{exc.message.rstrip('.')}; nothing was signed.") from None

    def _writing(self) -> LocalStore:
        """The signer's own store; refused when this review only reads."""
        self._users()
        assert self.writer is not None
        return self.writer

    def _users(self) -> UserDirectory:
        """The signers' user directory; refused when this review only reads."""
        if self.users is None or self.writer is None:
            raise ReviewError(
                "This review only reads records; sign at a station with its own record."
            )
        return self.users

    def _check_records(self, detail: RejectDetail) -> None:
        """Every record a signature binds must still match its hash."""
        keys = [(r.station, r.seq) for r in detail.signed_records]
        records = self.source.journal_records(keys)
        if len(records) != len(keys):
            raise StaleReject("Some records of this reject are missing from the source; reload it.")
        for record in records:
            if journal.record_hash(record) != record["hash"]:
                raise StaleReject(
                    f"Record seq {record['seq']} of station {record['station']} does not match "
                    "its hash; run inspect-station verify before signing."
                )

    def _require_signable(self, detail: RejectDetail, expected_hash: str | None) -> None:
        s = detail.summary
        if not detail.current:
            raise StaleReject(
                f"Reject {s.short_id} of part {s.serial} was replaced by a later result "
                f"({(detail.superseded_by or '')[:8]}); review that one."
            )
        if expected_hash is not None and expected_hash != detail.signed_hash:
            raise StaleReject(
                f"The records of part {s.serial} changed since they were shown; review them again "
                "before signing."
            )

    def sign(
        self,
        reject_id: str,
        disposition: Disposition | str,
        reason: str,
        *,
        user_id: str,
        pin: str,
        expected_hash: str | None = None,
        regrade_to: str | None = None,
        meaning: str = MEANING_APPROVAL,
    ) -> DispositionInfo:
        """Dispose of a reject and sign it; the disposition record is durable on return.

        ``expected_hash`` is the ``signed_hash`` of the detail the supervisor was shown: if the
        records changed since, nothing is signed (StaleReject).
        """
        kind = parse_disposition(disposition)
        reason_text = _one_line(reason, "reason", required=True)
        regrade = _one_line(regrade_to, "grade to regrade to", required=kind is Disposition.REGRADE)
        if regrade and kind is not Disposition.REGRADE:
            raise DispositionError("Only a regrade names a grade to regrade to.")
        meaning_text = _one_line(meaning, "meaning of the signature", required=True)
        self.source.refresh()
        detail = self._detail(self.resolve(reject_id))
        self._require_signable(detail, expected_hash)
        self._refuse_if_disposed(detail)
        self._check_records(detail)
        user = self._authorise(user_id, pin, "sign a disposition")
        s = detail.summary
        required = self.policy.signers_required(kind)
        writer = self._writing()
        with writer.transaction() as tx:
            if queries.has_disposition(tx, s.reject):
                raise AlreadyDisposed(f"Reject {s.short_id} of part {s.serial} was just disposed.")
            if isinstance(self.source, LocalSource) and self.source.store is writer:
                # Same file: the check and the write are one transaction.
                self.source.refresh()
                if self._detail(self.resolve(s.reject)).signed_hash != detail.signed_hash:
                    raise StaleReject(
                        f"The records of part {s.serial} changed while signing; nothing was signed."
                    )
            signed_at = _ts(self.now())
            record = tx.append(
                "disposition",
                {
                    "reject": s.reject,
                    "reject_station": s.station,
                    "reject_seq": s.seq,
                    "inspection": s.inspection,
                    "lot": s.lot,
                    "serial": s.serial,
                    "part_number": s.part_number,
                    "revision": s.revision,
                    "spec_hash": s.spec_hash,
                    "disposition": kind.value,
                    "reason": reason_text,
                    "regrade_to": regrade,
                    "signers_required": required,
                    "signature_policy": self.policy.record(),
                    "signed_hash": detail.signed_hash,
                    "signed_content_format": SIGNED_CONTENT_FORMAT,
                    "signed_records": [r.json() for r in detail.signed_records],
                    "signature": signature_body(user, meaning_text, signed_at),
                },
            )
        signature = Signature(
            **record["body"]["signature"], station=record["station"], record=record["uuid"]
        )
        return DispositionInfo(
            record["uuid"],
            record["station"],
            record["seq"],
            s.reject,
            kind,
            reason_text or "",
            regrade,
            detail.signed_hash,
            required,
            (signature,),
        )

    def _refuse_if_disposed(self, detail: RejectDetail) -> None:
        refuse_while_conflicting(detail, "disposed again")
        d = detail.disposition
        if d is None:
            return
        s = detail.summary
        first = d.signatures[0] if d.signatures else None
        by = f" by {first.name} on {first.signed_at[:16].replace('T', ' ')} UTC" if first else ""
        raise AlreadyDisposed(
            f"Reject {s.short_id} of part {s.serial} (lot {s.lot}) was already disposed as "
            f"{d.disposition.label.lower()}{by}."
            + ("" if d.complete else " It awaits a second signature.")
        )

    def cosign(
        self,
        reject_id: str,
        *,
        user_id: str,
        pin: str,
        expected_hash: str | None = None,
        meaning: str = MEANING_SECOND_APPROVAL,
    ) -> DispositionInfo:
        """Add the second signer's signature to a disposition that requires one."""
        meaning_text = _one_line(meaning, "meaning of the signature", required=True)
        self.source.refresh()
        detail = self._detail(self.resolve(reject_id))
        s = detail.summary
        refuse_while_conflicting(detail, "co-signed")
        d = detail.disposition
        if d is None:
            raise NotPermitted(
                f"Reject {s.short_id} of part {s.serial} has no disposition to co-sign yet."
            )
        if d.complete:
            raise AlreadyDisposed(
                f"The {d.disposition.label.lower()} disposition of part {s.serial} already has "
                f"the {d.signers_required} signature(s) it needs."
            )
        if (user_id or "").strip() in {sig.user_id for sig in d.signatures}:
            raise NotPermitted(
                f"{user_id} signed this disposition already; the second signature must come "
                "from another supervisor."
            )
        self._require_signable(detail, expected_hash)
        if detail.signed_hash != d.signed_hash:
            raise StaleReject(
                f"The records of part {s.serial} changed after the first signature; the "
                "disposition cannot be co-signed as it stands."
            )
        self._check_records(detail)
        ref = self._disposition_ref(d)
        user = self._authorise(user_id, pin, "co-sign a disposition")
        with self._writing().transaction() as tx:
            signers = {sig.user_id for sig in d.signatures} | queries.signers(tx, d.uuid)
            if user.user_id in signers:
                raise NotPermitted(f"{user.user_id} signed this disposition already.")
            if len(signers) >= d.signers_required:
                raise AlreadyDisposed(f"The disposition of part {s.serial} was just completed.")
            signed_at = _ts(self.now())
            record = tx.append(
                "disposition_signature",
                {
                    "disposition": d.uuid,
                    "disposition_station": d.station,
                    "disposition_hash": ref.hash,
                    "reject": s.reject,
                    "lot": s.lot,
                    "serial": s.serial,
                    "part_number": s.part_number,
                    "signed_hash": d.signed_hash,
                    "signature": signature_body(user, meaning_text, signed_at),
                },
            )
        signature = Signature(
            **record["body"]["signature"], station=record["station"], record=record["uuid"]
        )
        return DispositionInfo(
            d.uuid,
            d.station,
            d.seq,
            d.reject,
            d.disposition,
            d.reason,
            d.regrade_to,
            d.signed_hash,
            d.signers_required,
            (*d.signatures, signature),
        )

    def _disposition_ref(self, d: DispositionInfo) -> RecordRef:
        """The disposition record's reference with its hash, from the source or the writer."""
        refs = self.source.record_refs([(d.station, d.seq)])
        if (d.station, d.seq) in refs:
            return refs[(d.station, d.seq)]
        if self.writer is not None and d.station == self.writer.station:
            own = LocalSource(self.writer).record_refs([(d.station, d.seq)])
            if (d.station, d.seq) in own:
                return own[(d.station, d.seq)]
        raise StaleReject(
            f"The disposition record {d.uuid[:8]} cannot be found; reload the reject."
        )

    # -- conflicting dispositions -------------------------------------------------------------

    def resolve_conflict(
        self,
        reject_id: str,
        keep: str,
        reason: str,
        *,
        user_id: str,
        pin: str,
        meaning: str = MEANING_RESOLUTION,
    ) -> Resolution:
        """Sign which of a reject's conflicting dispositions stands (``keep``: its record UUID
        or a prefix); the others stay in the record, set aside. Durable on return."""
        reason_text = _one_line(reason, "reason", required=True) or ""
        meaning_text = _one_line(meaning, "meaning of the signature", required=True)
        self.source.refresh()
        detail = self._detail(self.resolve(reject_id))
        s = detail.summary
        if not detail.standing.conflict:
            raise NotPermitted(
                f"Reject {s.short_id} of part {s.serial} has no conflicting dispositions to "
                "resolve."
            )
        kept = choose_disposition(detail.dispositions, keep)
        self._check_records(detail)
        refs = self.source.record_refs([(d.station, d.seq) for d in detail.dispositions])
        user = self._authorise(user_id, pin, "resolve conflicting dispositions")
        with self.writer.transaction() as tx:
            record = tx.append(
                "disposition_resolution",
                resolution_body(detail, kept, reason_text, refs, user, meaning_text, self.now()),
            )
        return resolution_from_record(record)

    # -- re-inspection ------------------------------------------------------------------------

    def start_reinspection(
        self, reject_id: str, recorder: Recorder, spec: PartSpec, inspector: str
    ) -> str:
        """Open the re-inspection of a reworked or repaired part; returns its inspection UUID."""
        self.source.refresh()
        detail = self._detail(self.resolve(reject_id))
        s = detail.summary
        refuse_while_conflicting(detail, "re-inspected")
        d = detail.disposition
        if d is None or d.disposition not in (Disposition.REWORK, Disposition.REPAIR):
            raise ReviewError(
                f"Part {s.serial} can be re-inspected only after a signed rework or repair "
                "disposition."
            )
        if not d.complete:
            raise ReviewError(
                f"The {d.disposition.label.lower()} disposition of part {s.serial} still awaits "
                "its second signature."
            )
        if spec.content_hash != s.spec_hash:
            raise ReviewError(
                f"Part {s.serial} was rejected against {s.part_number} revision {s.revision} "
                f"({s.spec_hash[:12]}…); re-inspect it against the same spec revision."
            )
        return recorder.open_reinspection(
            spec=spec,
            lot=s.lot,
            serial=s.serial,
            inspector=inspector,
            reinspection_of=s.reject,
            disposition=d.uuid,
        )


# -- conflicting dispositions and their resolution ---------------------------------------------
#
# Each journal holds at most one disposition of a reject, but two terminals (a bench and an office
# terminal, one of them offline) can each sign one into their own journals; the central store
# keeps both. Until a supervisor signs a ``disposition_resolution`` record naming the one that
# stands, the reject shows "conflicting dispositions" and nothing of it is in force. A
# resolution covers the dispositions it names: one signed later conflicts again.


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


def refuse_while_conflicting(detail: RejectDetail, what: str) -> None:
    """NotPermitted if the reject's dispositions conflict (it cannot be ``what`` until resolved)."""
    if detail.standing.conflict:
        s = detail.summary
        signed = ", ".join(
            f"{d.disposition.label.lower()} ({d.uuid[:8]}, {d.station})"
            for d in detail.dispositions
        )
        raise NotPermitted(
            f"Reject {s.short_id} of part {s.serial} has conflicting dispositions ({signed}); it "
            f"cannot be {what} until a supervisor signs which one stands "
            "(inspect-station disposition resolve)."
        )


def choose_disposition(dispositions: tuple[DispositionInfo, ...], keep: str) -> DispositionInfo:
    """The disposition whose record UUID is (or starts with) ``keep``; an error otherwise."""
    text = (keep or "").strip().lower()
    found = [d for d in dispositions if text and d.uuid.startswith(text)]
    if len(text) < 6 or len(found) != 1:
        choices = ", ".join(d.uuid[:8] for d in dispositions)
        raise DispositionError(
            f"{keep!r} does not name one of the conflicting dispositions; give the first 8 "
            f"characters of one of {choices}."
        )
    return found[0]


def resolution_body(
    detail: RejectDetail,
    kept: DispositionInfo,
    reason: str,
    refs: dict[tuple[str, int], RecordRef],
    user: User,
    meaning: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The body of a ``disposition_resolution`` record: the reject, the disposition that stands,
    every disposition considered (by station, seq, UUID and hash), the reason, the signature."""
    s = detail.summary
    considered = []
    for d in detail.dispositions:
        ref = refs.get((d.station, d.seq))
        if ref is None:
            raise StaleReject(f"The disposition record {d.uuid[:8]} cannot be found; reload.")
        considered.append(ref.json())
    return {
        "reject": s.reject,
        "reject_station": s.station,
        "reject_seq": s.seq,
        "lot": s.lot,
        "serial": s.serial,
        "part_number": s.part_number,
        "kept": kept.uuid,
        "kept_station": kept.station,
        "considered": considered,
        "reason": reason,
        "signed_hash": detail.signed_hash,
        "signature": signature_body(user, meaning, _ts(now)),
    }


def resolution_from_record(record: dict[str, Any]) -> Resolution:
    """A Resolution from its journal record."""
    body = record["body"]
    return Resolution(
        uuid=record["uuid"],
        station=record["station"],
        seq=record["seq"],
        reject=body["reject"],
        kept=body["kept"],
        considered=tuple(c["uuid"] for c in body["considered"]),
        reason=body["reason"],
        signature=Signature(**body["signature"], station=record["station"], record=record["uuid"]),
    )


def load_resolutions(
    source: RecordSource, rejects: list[str], writer: LocalStore | None = None
) -> dict[str, list[Resolution]]:
    """Reject UUID -> its signed resolutions, oldest first, from ``source`` and ``writer``."""
    if not rejects:
        return {}
    rows = source.rows(queries.RESOLUTIONS_OF, values=rejects)
    if writer:
        rows += LocalSource(writer).rows(queries.RESOLUTIONS_OF, values=rejects)
    out: dict[str, list[Resolution]] = {}
    unique = {r["uuid"]: r for r in rows}
    for r in sorted(unique.values(), key=lambda r: (r["signed_at"], r["uuid"])):
        considered = tuple(c["uuid"] for c in json.loads(r["considered"] or "[]"))
        out.setdefault(r["reject"], []).append(
            Resolution(
                uuid=r["uuid"],
                station=r["station"],
                seq=r["seq"],
                reject=r["reject"],
                kept=r["kept"],
                considered=considered,
                reason=r["reason"],
                signature=Signature(
                    r["user_id"],
                    r["name"],
                    None,
                    r["meaning"],
                    r["signed_at"],
                    r["station"],
                    r["uuid"],
                ),
            )
        )
    return out


def load_dispositions(
    source: RecordSource, rejects: list[str], writer: LocalStore | None = None
) -> dict[str, list[DispositionInfo]]:
    """Reject UUID -> its dispositions with their signatures, oldest first.

    Read from ``source`` and, if given, from ``writer`` (the signer's own journal, whose newest
    records a central store may not hold yet); a record found in both counts once.
    """
    if not rejects:
        return {}
    rows = source.rows(queries.DISPOSITIONS_OF, values=rejects)
    own = LocalSource(writer).rows(queries.DISPOSITIONS_OF, values=rejects) if writer else []
    by_uuid = {r["uuid"]: r for r in [*rows, *own]}
    if not by_uuid:
        return {}
    sig_rows = source.rows(queries.SIGNATURES_OF, values=list(by_uuid))
    if writer:
        sig_rows += LocalSource(writer).rows(queries.SIGNATURES_OF, values=list(by_uuid))
    signatures: dict[str, dict[str, Signature]] = {}
    for s in sorted(sig_rows, key=lambda s: (s["signed_at"], s["uuid"])):
        signatures.setdefault(s["disposition"], {})[s["uuid"]] = Signature(
            s["user_id"],
            s["name"],
            s["role"],
            s["meaning"],
            s["signed_at"],
            s["station"],
            s["uuid"],
        )
    out: dict[str, list[DispositionInfo]] = {}
    for d in sorted(by_uuid.values(), key=lambda d: (d["signed_at"], d["uuid"])):
        sigs = signatures.get(d["uuid"], {})
        first = sigs.pop(d["uuid"], None)
        ordered = ([first] if first else []) + list(sigs.values())
        out.setdefault(d["reject"], []).append(
            DispositionInfo(
                uuid=d["uuid"],
                station=d["station"],
                seq=d["seq"],
                reject=d["reject"],
                disposition=Disposition(d["disposition"]),
                reason=d["reason"],
                regrade_to=d["regrade_to"],
                signed_hash=d["signed_hash"],
                signers_required=d["signers_required"],
                signatures=tuple(ordered),
            )
        )
    return out


__all__ = [
    "MEANING_APPROVAL",
    "MEANING_RESOLUTION",
    "MEANING_SECOND_APPROVAL",
    "AlreadyDisposed",
    "Disposition",
    "DispositionError",
    "DispositionInfo",
    "MeasurementLine",
    "NotPermitted",
    "Reinspection",
    "RejectDetail",
    "RejectFilter",
    "RejectSummary",
    "Resolution",
    "Review",
    "ReviewError",
    "Signature",
    "SignaturePolicy",
    "StaleReject",
    "Standing",
    "Status",
    "UnknownReject",
    "WrongPin",
    "load_dispositions",
    "load_resolutions",
    "signed_content",
    "signed_hash",
]
