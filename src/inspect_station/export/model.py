"""The complete record of one lot, read from a record source: what every export format writes.

``load_lot`` gathers everything about a lot except its measurements (which are streamed page by
page, so a lot of any size exports in flat memory): the lot and its spec revision (content
re-hashed), the ISO 2859-1 plan and the lot decision, every part inspection with its result
history, re-inspections, dispositions with their signatures, corrections, and the result of
verifying every chain the records come from. ``ExportOptions`` says how a format writes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from inspect_station import clock
from inspect_station.errors import InspectStationError
from inspect_station.records import ChainCheck, RecordSource
from inspect_station.review.queries import (
    DispositionInfo,
    Resolution,
    Standing,
    load_dispositions,
    load_resolutions,
)
from inspect_station.sampling import InspectionLevel, LotDecision, SamplingPlan, lot_decision
from inspect_station.spec.model import PartSpec
from inspect_station.store import LocalStore, queries
from inspect_station.vocabulary import PartResult


class ExportError(InspectStationError):
    """A lot cannot be exported as asked (unknown or empty lot, file exists, ...)."""


@dataclass(frozen=True)
class ExportOptions:
    """How an export is written."""

    force: bool = False
    """Overwrite an existing output file (and its manifest)."""
    verify: bool = True
    """Verify the chains the records come from (the result goes into the export)."""
    encoding: str | None = None
    """Text encoding of a .dfq file (default cp1252); the other formats are always UTF-8."""
    file_name: str | None = None
    """Name the export is written under (the certificate names its manifest after it)."""
    organisation: str | None = None
    """The inspecting organisation (``organisation`` in station.toml), where a format has it."""


@dataclass(frozen=True)
class InspectionData:
    """One part inspection of the lot: who, when, where, and its results."""

    uuid: str
    """Inspection UUID (the inspection_opened / reinspection_opened record)."""
    station: str
    """Station whose journal holds it."""
    seq: int
    """Its seq there."""
    serial: str
    """Part serial."""
    inspector: str
    """Who opened it."""
    opened_at: str
    """When (UTC)."""
    reinspection_of: str | None
    """For a re-inspection after rework or repair: the original reject's UUID."""
    sent_back_by: str | None
    """For a re-inspection: the UUID of the disposition that sent the part back."""
    results: tuple[dict[str, Any], ...]
    """Every result record of the inspection, by seq (corrections included)."""

    @property
    def current_result(self) -> dict[str, Any] | None:
        """The result in force (the last one), if the part was closed."""
        return self.results[-1] if self.results else None

    @property
    def result(self) -> str | None:
        """accept / reject, or None while open."""
        current = self.current_result
        return current["result"] if current else None


@dataclass(frozen=True)
class LotDecisionInfo:
    """What the lot's sample says (ISO 2859-1 single sampling, normal inspection)."""

    plan: dict[str, Any] | None
    """The plan recorded when the lot was opened (None if the lot size was not given)."""
    parts: int
    """Distinct parts (serials) inspected at least once, re-inspections not counted."""
    closed: int
    """Of those, parts with a result."""
    rejected: int
    """Of those, parts whose first inspection's result in force is reject."""
    in_sample: int
    """Parts counted in the sample: the first ``sample_size`` closed parts, by time."""
    nonconforming_in_sample: int
    """Rejected parts among them."""
    decision: str
    """ACCEPT, REJECT, PENDING, or NO PLAN."""

    def json(self) -> dict[str, Any]:
        """The decision as a JSON object."""
        return {
            "plan": self.plan,
            "parts": self.parts,
            "closed": self.closed,
            "rejected": self.rejected,
            "in_sample": self.in_sample,
            "nonconforming_in_sample": self.nonconforming_in_sample,
            "decision": self.decision,
        }


@dataclass
class LotData:
    """Everything about a lot except its measurements, which ``measurement_pages`` streams."""

    source: RecordSource
    """Where the records were read."""
    lot: str
    """Lot id."""
    lot_records: list[dict[str, Any]]
    """The lot_opened rows (one per station that opened the lot)."""
    spec: PartSpec
    """The spec revision, rebuilt from its recorded content."""
    spec_hash: str
    """Its content hash as recorded."""
    spec_hash_verified: bool
    """Whether the recorded content hashes to ``spec_hash``."""
    inspections: list[InspectionData]
    """Every part inspection, by serial then time."""
    dispositions: dict[str, list[DispositionInfo]]
    """Reject result UUID -> its dispositions."""
    decision: LotDecisionInfo
    """The lot decision."""
    measurement_count: int
    """Number of measurement records (corrections and superseded values included)."""
    superseded_by: dict[str, str]
    """Measurement UUID -> UUID of the correction that superseded it."""
    verification: list[ChainCheck] | None
    """Chain verification per station, or None if not verified."""
    generated_at: str = field(default_factory=clock.utc_timestamp)
    """When the export was made (UTC)."""
    resolutions: dict[str, list[Resolution]] = field(default_factory=dict)
    """Reject result UUID -> the signed resolutions between its conflicting dispositions."""

    @property
    def work_order(self) -> str | None:
        """The lot's work order, if given."""
        return next((r["work_order"] for r in self.lot_records if r["work_order"]), None)

    @property
    def lot_size(self) -> int | None:
        """The lot size, if given."""
        return next((r["lot_size"] for r in self.lot_records if r["lot_size"]), None)

    @property
    def opened_at(self) -> str:
        """When the lot was first opened (UTC)."""
        return min(r["opened_at"] for r in self.lot_records)

    @property
    def stations(self) -> list[str]:
        """Every station whose records the export holds."""
        names = {r["station"] for r in self.lot_records}
        names |= {i.station for i in self.inspections}
        for dispositions in self.dispositions.values():
            for d in dispositions:
                names.add(d.station)
                names |= {s.station for s in d.signatures}
        return sorted(names)

    @property
    def verified(self) -> bool | None:
        """True if every chain verified, False if one did not, None if not verified."""
        if self.verification is None:
            return None
        return all(c.ok for c in self.verification)

    @property
    def verification_text(self) -> str:
        """OK, BROKEN or NOT VERIFIED."""
        return {True: "OK", False: "BROKEN", None: "NOT VERIFIED"}[self.verified]

    @property
    def by_inspection(self) -> dict[str, InspectionData]:
        """Inspection UUID -> inspection."""
        return {i.uuid: i for i in self.inspections}

    def rejects(self) -> list[tuple[InspectionData, dict[str, Any]]]:
        """Every inspection whose result in force is reject, with that result, by time."""
        out = [(i, i.current_result) for i in self.inspections if i.result == PartResult.REJECT]
        return sorted(((i, r) for i, r in out if r is not None), key=lambda p: p[1]["closed_at"])

    def standing(self, reject: str) -> Standing:
        """Where the dispositions of a reject (its result UUID) stand: in force, or conflicting."""
        return Standing(
            tuple(self.dispositions.get(reject, [])), tuple(self.resolutions.get(reject, []))
        )

    def disposition_of(self, inspection: InspectionData) -> DispositionInfo | None:
        """The disposition of the inspection's reject in force (None: none, or conflicting)."""
        current = inspection.current_result
        if current is None:
            return None
        return self.standing(current["uuid"]).in_force

    def measurement_pages(self) -> Iterator[list[dict[str, Any]]]:
        """The lot's measurement rows, page by page, by station and seq."""
        return self.source.lot_measurements(self.lot)

    def measurement_rows(self) -> Iterator[list[list[Any]]]:
        """The lot's measurements as lists in ``ROW_FIELDS`` order (plus a flag), page by page."""
        return self.source.measurement_rows(self.lot)

    def part_measurements(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """(serial, its measurement rows) for every part, in serial order."""
        serials = sorted({i.serial for i in self.inspections})
        return zip(serials, self.source.part_measurements(self.lot, serials), strict=True)

    @property
    def heads(self) -> list[tuple[str, int, str]]:
        """(station, seq, hash) of each chain the export holds records of, as of its snapshot:
        printed on every format, so a paper copy anchors the chain (``verify --anchor``)."""
        return [
            (station, seq, hash_)
            for station, (seq, hash_) in sorted(self.source.heads.items())
            if station in self.stations
        ]

    def source_json(self) -> dict[str, Any]:
        """Where the records came from and which records the export covers."""
        return {
            "kind": self.source.kind,
            "description": self.source.description,
            "heads": [
                {"station": s, "seq": seq, "hash": h}
                for s, (seq, h) in sorted(self.source.heads.items())
                if s in self.stations
            ],
        }


def load_lot(
    source: RecordSource, lot: str, *, verify: bool = True, writer: LocalStore | None = None
) -> LotData:
    """Gather a lot's record from ``source``; ExportError for an unknown or empty lot."""
    lot = (lot or "").strip()
    lot_records = source.rows(queries.LOT_OPENED, [lot])
    if not lot_records:
        raise ExportError(f"There is no lot {lot!r} in the {source.description}.")
    spec_hashes = {r["spec_hash"] for r in lot_records}
    if len(spec_hashes) > 1:
        where = ", ".join(
            f"{r['station']} ({r['part_number']} rev {r['revision']})" for r in lot_records
        )
        raise ExportError(f"Lot {lot} was opened for different spec revisions at {where}.")
    (spec_hash,) = spec_hashes
    counts = source.rows(queries.LOT_MEASUREMENT_COUNT, [lot])
    if not counts[0]["n"]:
        raise ExportError(f"Lot {lot} has no measurements yet; there is nothing to export.")
    spec, verified = _spec(source, spec_hash, lot)
    inspections = _inspections(source, lot)
    reject_ids = [
        r["uuid"] for i in inspections for r in i.results if r["result"] == PartResult.REJECT
    ]
    dispositions = load_dispositions(source, reject_ids, writer)
    resolutions = load_resolutions(source, reject_ids, writer)
    corrections = source.rows(queries.LOT_CORRECTIONS, [lot])
    data = LotData(
        source=source,
        lot=lot,
        lot_records=lot_records,
        spec=spec,
        spec_hash=spec_hash,
        spec_hash_verified=verified,
        inspections=inspections,
        dispositions=dispositions,
        decision=_decision(lot_records, inspections),
        measurement_count=counts[0]["n"],
        superseded_by={r["supersedes"]: r["uuid"] for r in corrections},
        verification=None,
        resolutions=resolutions,
    )
    if verify:
        data.verification = source.verify(data.stations)
    return data


def _spec(source: RecordSource, spec_hash: str, lot: str) -> tuple[PartSpec, bool]:
    rows = source.rows(queries.SPEC_BY_HASH, [spec_hash])
    if not rows:
        raise ExportError(f"The spec record of lot {lot} ({spec_hash[:12]}…) is missing.")
    try:
        spec = PartSpec.model_validate(json.loads(rows[0]["content"]))
    except (ValidationError, ValueError) as exc:
        raise ExportError(f"The recorded spec of lot {lot} cannot be read: {exc}.") from None
    return spec, spec.content_hash == spec_hash


def _inspections(source: RecordSource, lot: str) -> list[InspectionData]:
    rows = source.rows(queries.LOT_INSPECTIONS, [lot])
    links = {r["uuid"]: r for r in source.rows(queries.LOT_REINSPECTIONS, [lot])}
    results: dict[str, list[dict[str, Any]]] = {}
    for r in source.rows(queries.LOT_RESULTS, [lot]):
        results.setdefault(r["inspection"], []).append(r)
    out = []
    for row in rows:
        link = links.get(row["uuid"])
        out.append(
            InspectionData(
                uuid=row["uuid"],
                station=row["station"],
                seq=row["seq"],
                serial=row["serial"],
                inspector=row["inspector"],
                opened_at=row["opened_at"],
                reinspection_of=link["reinspection_of"] if link else None,
                sent_back_by=link["disposition"] if link else None,
                results=tuple(results.get(row["uuid"], [])),
            )
        )
    out.sort(key=lambda i: (i.serial, i.opened_at, i.station, i.seq))
    return out


def _decision(
    lot_records: list[dict[str, Any]], inspections: list[InspectionData]
) -> LotDecisionInfo:
    """Count the first inspection of each part; decide on the first n closed parts (by time)."""
    plan = next((json.loads(r["sampling"]) for r in lot_records if r["sampling"]), None)
    first: dict[str, InspectionData] = {}
    for i in sorted(inspections, key=lambda i: (i.opened_at, i.station, i.seq)):
        if i.reinspection_of is None and i.serial not in first:
            first[i.serial] = i
    closed = [
        i
        for i in sorted(
            first.values(), key=lambda i: i.current_result["closed_at"] if i.current_result else ""
        )
        if i.result is not None
    ]
    rejected = sum(1 for i in closed if i.result == PartResult.REJECT)
    if plan is None:
        return LotDecisionInfo(None, len(first), len(closed), rejected, 0, 0, "NO PLAN")
    sample = closed[: plan["sample_size"]]
    bad = sum(1 for i in sample if i.result == PartResult.REJECT)
    plan_obj = SamplingPlan(**{**plan, "level": InspectionLevel(plan["level"])})
    decision: LotDecision = lot_decision(plan_obj, len(sample), bad)
    return LotDecisionInfo(
        plan, len(first), len(closed), rejected, len(sample), bad, decision.value
    )
