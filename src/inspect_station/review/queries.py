"""Reading rejects and their dispositions through a record source, local or central alike.

Every read is a named catalogue query of :mod:`inspect_station.store.review`, run with
``source.rows``. Where the signer's own local record is given (``own``), dispositions,
signatures and resolutions are read from it too: the central store may not hold its newest
records yet, and a record found in both counts once.

This module is the review's face to the exports: they read dispositions and resolutions here
and take the view types from here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from inspect_station.config import CalibrationStatus
from inspect_station.records import LocalSource, RecordRef, RecordSource
from inspect_station.review.model import RejectFilter, Status, UnknownReject, format_utc, parse_utc
from inspect_station.review.signing import Signature, signed_hash
from inspect_station.review.views import (
    DispositionInfo,
    MeasurementLine,
    Reinspection,
    RejectDetail,
    RejectSummary,
    Resolution,
    Standing,
)
from inspect_station.store import LocalStore
from inspect_station.store import review as named
from inspect_station.vocabulary import Disposition

_UUID_PREFIX = re.compile(r"^[0-9a-f-]{6,36}$")


class RejectReader:
    """Rejects, their detail and dispositions as of the source's snapshot (refreshed first)."""

    def __init__(
        self, source: RecordSource, own: LocalStore | None = None, *, warn_days: int = 14
    ) -> None:
        self.source = source
        """Where rejects are read."""
        self.own = own
        """The signer's own record, whose newest signatures the source may not hold yet."""
        self.warn_days = warn_days
        """Days before its due date a gauge counts as due for calibration."""

    def queue(self, flt: RejectFilter, now: dt.datetime) -> list[RejectSummary]:
        """Rejects awaiting disposition (or a second signature), oldest first."""
        rows = self.source.rows(
            named.REJECT_QUEUE,
            [
                flt.lot or None,
                flt.part_number or None,
                flt.station or None,
                None if flt.older_than is None else format_utc(now - flt.older_than),
                None if flt.newer_than is None else format_utc(now - flt.newer_than),
                1 if flt.include_disposed else 0,
            ],
        )
        rejects = [r["uuid"] for r in rows]
        dispositions = load_dispositions(self.source, rejects, self.own)
        resolutions = load_resolutions(self.source, rejects, self.own)
        origins = self._origins([r["inspection"] for r in rows])
        out = []
        for row in rows:
            summary = _summary(
                row,
                dispositions.get(row["uuid"], []),
                origins,
                now,
                resolutions.get(row["uuid"], []),
            )
            if flt.include_disposed or summary.status is not Status.DISPOSED:
                out.append(summary)
        return out

    def find(self, reject_id: str) -> dict[str, Any]:
        """The result row of a reject given by its UUID or a unique prefix (at least 6 chars)."""
        text = (reject_id or "").strip().lower()
        if not _UUID_PREFIX.match(text):
            raise UnknownReject(
                f"{reject_id!r} is not a reject id (a UUID or its first 8 characters)."
            )
        if len(text) == 36:
            rows = self.source.rows(named.REJECT_BY_UUID, [text])
        else:
            rows = self.source.rows(named.REJECTS_BY_PREFIX, [text + "%"])
        if not rows:
            raise UnknownReject(f"There is no reject {reject_id} in the {self.source.description}.")
        if len(rows) > 1:
            raise UnknownReject(
                f"Reject id {reject_id} is ambiguous ({len(rows)} rejects start with it); "
                "give more characters."
            )
        return rows[0]

    def detail(self, row: dict[str, Any], now: dt.datetime) -> RejectDetail:
        """Everything about the reject of this result row, and what a signature binds."""
        later = self.source.rows(named.LATER_RESULTS, [row["uuid"]])
        measurements = self.source.rows(
            named.INSPECTION_MEASUREMENTS, [row["lot"], row["serial"], row["inspection"]]
        )
        superseded = {m["supersedes"] for m in measurements if m["supersedes"]}
        lines = tuple(self._line(m, superseded, now) for m in measurements)
        key = (row["station"], row["seq"])
        refs = (*[line.record for line in lines], self.source.record_refs([key])[key])
        dispositions = load_dispositions(self.source, [row["uuid"]], self.own).get(row["uuid"], [])
        resolutions = load_resolutions(self.source, [row["uuid"]], self.own).get(row["uuid"], [])
        origins = self._origins([row["inspection"]])
        return RejectDetail(
            summary=_summary(row, dispositions, origins, now, resolutions),
            resolutions=tuple(resolutions),
            current=not later,
            superseded_by=later[0]["uuid"] if later else None,
            measurements=lines,
            signed_records=refs,
            signed_hash=signed_hash(refs),
            dispositions=tuple(dispositions),
            reinspections=self._reinspections(row["uuid"]),
        )

    def _line(self, m: dict[str, Any], superseded: set[str], now: dt.datetime) -> MeasurementLine:
        """A measurement row as the detail shows it, with its gauge's calibration then and now."""
        due = m["gauge_calibration_due"]
        when_measured = None
        status_now = None
        if due:
            due_date = dt.date.fromisoformat(due)
            when_measured = parse_utc(m["measured_at"]).date() <= due_date
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

    def _origins(self, inspections: list[str]) -> dict[str, str]:
        """Inspection UUID -> the reject it re-inspects, for inspections that are re-inspections."""
        rows = self.source.rows(named.REINSPECTION_ORIGINS, values=inspections)
        return {r["uuid"]: r["reinspection_of"] for r in rows}

    def _reinspections(self, reject: str) -> tuple[Reinspection, ...]:
        """The re-inspections of a reject, oldest first, each with its current result."""
        rows = self.source.rows(named.REINSPECTIONS_OF, [reject])
        results = {
            r["inspection"]: r["result"]
            for r in self.source.rows(named.CURRENT_RESULTS, values=[r["uuid"] for r in rows])
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


def _summary(
    row: dict[str, Any],
    dispositions: list[DispositionInfo],
    origins: dict[str, str],
    now: dt.datetime,
    resolutions: list[Resolution] | tuple[Resolution, ...] = (),
) -> RejectSummary:
    """The queue line of a reject's result row, with where its dispositions stand."""
    standing = Standing(tuple(dispositions), tuple(resolutions))
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
        age=now - parse_utc(row["closed_at"]),
        status=standing.status,
        disposition=standing.in_force,
        reinspection_of=origins.get(row["inspection"]),
    )


def load_resolutions(
    source: RecordSource, rejects: list[str], own: LocalStore | None = None
) -> dict[str, list[Resolution]]:
    """Reject UUID -> its signed resolutions, oldest first, from ``source`` and ``own``."""
    if not rejects:
        return {}
    rows = source.rows(named.RESOLUTIONS_OF, values=rejects)
    if own:
        rows += LocalSource(own).rows(named.RESOLUTIONS_OF, values=rejects)
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
                signature=Signature.from_row(r),
            )
        )
    return out


def load_dispositions(
    source: RecordSource, rejects: list[str], own: LocalStore | None = None
) -> dict[str, list[DispositionInfo]]:
    """Reject UUID -> its dispositions with their signatures, oldest first.

    Read from ``source`` and, if given, from ``own`` (the signer's own journal, whose newest
    records a central store may not hold yet); a record found in both counts once.
    """
    if not rejects:
        return {}
    rows = source.rows(named.DISPOSITIONS_OF, values=rejects)
    mine = LocalSource(own) if own else None
    if mine is not None:
        rows += mine.rows(named.DISPOSITIONS_OF, values=rejects)
    by_uuid = {r["uuid"]: r for r in rows}
    if not by_uuid:
        return {}
    sig_rows = source.rows(named.SIGNATURES_OF, values=list(by_uuid))
    if mine is not None:
        sig_rows += mine.rows(named.SIGNATURES_OF, values=list(by_uuid))
    signatures: dict[str, dict[str, Signature]] = {}
    for s in sorted(sig_rows, key=lambda s: (s["signed_at"], s["uuid"])):
        signatures.setdefault(s["disposition"], {})[s["uuid"]] = Signature.from_row(s)
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
    "DispositionInfo",
    "RejectReader",
    "Resolution",
    "Standing",
    "Status",
    "load_dispositions",
    "load_resolutions",
]
