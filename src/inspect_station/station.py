"""The station service: what a station does for its users -- sign in, find a part, open a lot,
record and close parts, know its gauges' calibration -- without any UI.

Its methods block on the SQLite file: screens call them on the app's writer thread, and the
part session (:mod:`inspect_station.measuring`) builds on them. The service holds the
station's configuration, its local store, the spec library and the users; the gauges are read
by the hub the app (or a headless caller) owns.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inspect_station.config import CalibrationStatus, GaugeAsset, StationConfig
from inspect_station.errors import InspectStationError
from inspect_station.first_article import FirstArticle, declare_first_article
from inspect_station.recording import (
    GaugeSource,
    LotInfo,
    ManualSource,
    MeasurementAck,
    Recorder,
    RecordingError,
    Source,
)
from inspect_station.sampling import (
    InspectionLevel,
    LotDecision,
    SamplingPlan,
    lot_decision,
    sampling_plan,
)
from inspect_station.spec import Kind, PartSpec, SpecLibrary
from inspect_station.spec.diff import Change
from inspect_station.spec.model import Characteristic
from inspect_station.store import LocalStore, calibrations, inspections
from inspect_station.store.db import Transaction
from inspect_station.text import check_id
from inspect_station.users import User, UserDirectory
from inspect_station.vocabulary import PartResult


class NotQualified(InspectStationError):
    """The inspector is not qualified for the part."""


@dataclass(frozen=True)
class LotProgress:
    """Where a lot stands against its sampling plan."""

    lot: LotInfo
    """The lot as recorded."""
    plan: SamplingPlan | None
    """The ISO 2859-1 plan (None when the lot size is unknown)."""
    inspected: int
    """Parts with a result."""
    nonconforming: int
    """Parts rejected."""
    decision: LotDecision | None
    """accept / reject / pending, per Ac/Re (None without a plan)."""
    rejects: list[dict[str, Any]] = field(default_factory=list)
    """The lot's rejected parts (serial, failed characteristics, defect code, note, time)."""
    open_serials: list[str] = field(default_factory=list)
    """Parts started but not yet closed."""

    @property
    def to_go(self) -> int | None:
        """Parts still to inspect for the sample (None without a plan)."""
        return None if self.plan is None else max(0, self.plan.sample_size - self.inspected)


class StationService:
    """One station: its configuration, local record, specs and users."""

    def __init__(
        self,
        config: StationConfig,
        store: LocalStore,
        library: SpecLibrary,
        *,
        today: dt.date | None = None,
    ) -> None:
        self.config = config.model_copy(
            update={
                "gauge": [
                    asset.in_force(calibrations.latest_of_asset(store, asset.asset))
                    for asset in config.gauge
                ]
            }
        )
        """The configuration, each gauge asset as its latest recorded calibration leaves it."""
        self.store = store
        self.library = library
        self.users = UserDirectory(store)
        self.recorder = Recorder(store, today=today)
        self._today = today

    # -- people ---------------------------------------------------------------------------

    def sign_in(self, identifier: str, pin: str) -> User:
        """Sign in by user id or badge and PIN (every attempt is recorded)."""
        return self.users.authenticate(identifier, pin)

    def sign_out(self, user: User, reason: str = "signed out") -> None:
        """Record the end of a session."""
        self.users.sign_out(user.user_id, reason)

    # -- jobs -----------------------------------------------------------------------------

    def find_parts(self, query: str = "") -> list[PartSpec]:
        """Released revisions whose part number or description contains ``query``."""
        words = query.strip().lower().split()
        found = []
        for spec in self.library.released():
            text = f"{spec.part_number} {spec.description}".lower()
            if all(w in text for w in words):
                found.append(spec)
        return found

    def check_qualified(self, user: User, spec: PartSpec) -> None:
        """Raise NotQualified unless the user may inspect this part."""
        if not user.qualified_for(spec.part_number):
            raise NotQualified(
                f"{user.name} is not qualified to inspect {spec.part_number}; "
                "ask a supervisor to qualify you first."
            )

    def pending_changes(self, user: User, spec: PartSpec) -> list[Change]:
        """What changed since the previous revision, if this user has not acknowledged it."""
        return self.users.pending_changes(user, spec, self.library.previous(spec))

    def acknowledge(self, user: User, spec: PartSpec, changes: list[Change]) -> None:
        """Record the user's acknowledgement of a new revision's changes."""
        self.users.acknowledge(user, spec, self.library.previous(spec), changes)

    @staticmethod
    def preview_plan(spec: PartSpec, lot_size: int) -> SamplingPlan:
        """The ISO 2859-1 plan a lot of ``lot_size`` would get."""
        return sampling_plan(lot_size, spec.sampling.level, spec.sampling.aql)

    def declare_first_article(
        self, user: User, spec: PartSpec, lot: str, serial: str | None = None
    ) -> tuple[FirstArticle, bool]:
        """Declare the lot (or one part of it) a first article (AS9102), once; see
        ``first_article.declare_first_article``."""
        self.check_qualified(user, spec)
        return declare_first_article(self.store, spec, lot, serial, user.user_id)

    def start_lot(
        self,
        user: User,
        spec: PartSpec,
        lot: str,
        *,
        lot_size: int | None,
        work_order: str | None = None,
    ) -> LotProgress:
        """Open a lot (or resume it); checks qualification first."""
        self.check_qualified(user, spec)
        self.recorder.open_lot(lot, spec, user.user_id, lot_size=lot_size, work_order=work_order)
        return self.lot_progress(lot)

    def spec_of(self, info: LotInfo) -> PartSpec:
        """The spec revision a recorded lot was opened with (exactly, by content hash)."""
        spec = self.library.by_hash(info.spec_hash)
        if spec is None:
            raise RecordingError(
                f"Lot {info.lot} was opened with {info.part_number} revision {info.revision} "
                f"(hash {info.spec_hash[:12]}…), which is no longer in the spec library."
            )
        return spec

    def lot_progress(self, lot: str) -> LotProgress:
        """Inspected and nonconforming counts, plan, decision and rejects of a lot."""
        info = self.recorder.lot(lot)
        if info is None:
            raise RecordingError(f"There is no lot {lot}.")
        latest: dict[str, dict[str, Any]] = {}
        for row in inspections.lot_results(self.store, lot):
            latest[row["serial"]] = row
        rejects = [r for r in latest.values() if r["result"] == PartResult.REJECT]
        open_serials = [
            serial
            for serial in inspections.inspected_serials(self.store, lot)
            if serial not in latest
        ]
        plan = None
        if info.plan is not None:
            plan = SamplingPlan(**{**info.plan, "level": InspectionLevel(info.plan["level"])})
        inspected = len(latest)
        decision = None
        if plan is not None:
            decision = lot_decision(plan, min(inspected, plan.sample_size), len(rejects))
        return LotProgress(info, plan, inspected, len(rejects), decision, rejects, open_serials)

    def unfinished_lots(self) -> list[LotProgress]:
        """Lots whose sample is not complete and not yet rejected, newest first."""
        out = []
        for lot in inspections.recent_lots(self.store, 50):
            progress = self.lot_progress(lot)
            if progress.decision in (LotDecision.PENDING, None) and (
                progress.plan is None or progress.inspected < progress.plan.sample_size
            ):
                out.append(progress)
        return out

    def next_serial(self, lot: str) -> str:
        """The serial after the lot's last numbered part, with its prefix and zero padding
        (SN-100 -> SN-101, 007 -> 008); 001 for the first part; never one the lot already has."""
        return following_serial(inspections.lot_serials(self.store, lot))

    # -- parts ----------------------------------------------------------------------------

    def part_measurements(self, lot: str, serial: str) -> dict[str, dict[str, Any]]:
        """Characteristic id -> current measurement row of the part's latest inspection."""
        inspection = inspections.latest_inspection(self.store, lot, serial)
        if inspection is None:
            return {}
        return inspections.part_measurements(self.store, lot, serial, inspection)

    def measure(
        self,
        user: User,
        spec: PartSpec,
        lot: str,
        serial: str,
        characteristic: str,
        value: str,
        *,
        unit: str | None = None,
        source: Source,
        reason: str | None = None,
        after: Callable[[Transaction, dict[str, Any]], None] | None = None,
    ) -> MeasurementAck:
        """Evaluate and durably record one reading (``after`` runs in its transaction, see
        ``Recorder.measure``); returns after the commit."""
        return self.recorder.measure(
            spec=spec,
            lot=lot,
            serial=serial,
            inspector=user.user_id,
            characteristic=characteristic,
            value=value,
            unit=unit,
            source=source,
            reason=reason,
            after=after,
        )

    def close_part(
        self,
        user: User,
        spec: PartSpec,
        lot: str,
        serial: str,
        *,
        defect_code: str | None = None,
        note: str | None = None,
    ) -> str:
        """Record the part's result (a reject needs a defect code); returns accept / reject."""
        if defect_code is not None:
            defect_code = check_id(defect_code, "defect code", max_length=20)
            if defect_code not in self.config.defect_codes:
                raise RecordingError(f"Unknown defect code {defect_code}.")
        record = self.recorder.close_inspection(
            spec=spec,
            lot=lot,
            serial=serial,
            inspector=user.user_id,
            defect_code=defect_code,
            note=note,
        )
        return str(record["body"]["result"])

    # -- gauges ---------------------------------------------------------------------------

    def assets_for(self, ch: Characteristic) -> list[GaugeAsset]:
        """Gauge assets whose type matches what the characteristic needs."""
        if ch.kind is Kind.ATTRIBUTE or not ch.gauge:
            return []
        return [a for a in self.config.gauge if a.gauge_type == ch.gauge]

    def calibration(self, asset: GaugeAsset) -> CalibrationStatus:
        """Today's calibration status of an asset."""
        return asset.calibration_status(self._today, self.config.calibration_warning_days)

    @staticmethod
    def gauge_source(asset: GaugeAsset, raw: bytes | None) -> GaugeSource:
        """The source of a reading that came from ``asset``."""
        return GaugeSource(asset, raw)

    @staticmethod
    def manual_source(reason: str) -> ManualSource:
        """The source of a value typed by the inspector."""
        return ManualSource(reason)


_NUMBERED = re.compile(r"^(.*?)([0-9]+)$")


def following_serial(serials: list[str]) -> str:
    """The serial that follows the last new numbered one of ``serials`` (in the order used; a
    part inspected again does not count again), keeping its prefix and the width of its number,
    and skipping any serial already used."""
    first_use = list(dict.fromkeys(serials))
    used = set(first_use)
    last = next((m for s in reversed(first_use) if (m := _NUMBERED.match(s))), None)
    prefix, digits = (last.group(1), last.group(2)) if last else ("", "000")
    number = int(digits)
    while True:
        number += 1
        candidate = f"{prefix}{number:0{len(digits)}d}"
        if candidate not in used:
            return candidate
