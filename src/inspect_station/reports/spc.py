"""The capability report of a part or a lot: n, mean, sigmas, Cp/Cpk/Pp/Ppk, violations.

``spc_report(source, scope)`` reads the variable readings of a part number (every lot) or of
one lot through a record source -- a station's local record or a central store with every
station's records -- streaming them page by page (``store.spc_reads``), each station's in
chain order and the stations merged by time. Superseded values are left out (and counted);
manual entries are included (and counted). Values are taken in the spec's unit
(``value_in_spec_unit``).

Per characteristic the report gives the pure core's ``capability`` figures (``spc.capability``:
sigma within = MR-bar/d2 for individuals or R-bar/d2 for subgroups of the characteristic's
subgroup size, sigma overall with n - 1, only the indices the specification limits allow, an
Anderson-Darling note where n allows) against the limits of the latest reading, and the
Nelson-rule violations found by running the readings through ``spc.Monitor``:

- against the locked limit versions in force when each reading was taken, where the record
  holds any (``locked_limits``: the station's ``spc_limits`` records);
- otherwise against limits derived from the first ``baseline`` readings of the report itself
  (``SpcSettings.baseline`` points), labelled "derived from the first N readings (not
  locked)" -- never presented as the station's limits.

With ``by_station`` each station's readings are reported on their own as well, side by side.
The SPC settings of a characteristic (subgroup size, baseline, rules) are the caller's
(``settings=``), else those its recorded spec declares as ``spc`` (``spec_settings``), else
``SpcSettings()``.
"""

from __future__ import annotations

import heapq
import json
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from inspect_station import units
from inspect_station.clock import utc_timestamp
from inspect_station.records import RecordSource
from inspect_station.reports.spc_model import (
    CharacteristicReport,
    ReportScope,
    SpcReport,
    SpcReportError,
)
from inspect_station.spc import (
    BaselineError,
    ChartPoint,
    LimitsError,
    LimitVersion,
    Monitor,
    SpcError,
    SpcSettings,
    Violation,
    capability,
    derive_limits,
    in_force,
    limit_digits,
)
from inspect_station.spec.model import Kind, PartSpec
from inspect_station.store import queries, spc_reads

CHART_POINTS = 250
"""How many of the newest plotted points a report keeps for its chart."""
PAGE = 5000
"""Readings per page read from the source."""

SettingsFor = Callable[[str], SpcSettings | None]
"""Characteristic id -> its SPC settings (None: the spec's, else ``SpcSettings()``)."""


def locked_limits(
    source: RecordSource, part_number: str, characteristic: str
) -> list[LimitVersion]:
    """The locked limit versions of a characteristic in ``source`` (its ``spc_limits``
    records), oldest first; [] where none is locked (the report then charts against limits
    derived from its own first readings) or the source predates SPC records.

    A version whose stored hash does not match its content is an error (SpcReportError), never
    used silently.
    """
    if not source.has_table("spc_limits"):
        return []
    versions = []
    for row in source.rows(spc_reads.LOCKED_LIMITS, [part_number, characteristic]):
        try:
            body = json.loads(row["limits"]) if isinstance(row["limits"], str) else row["limits"]
            versions.append(LimitVersion.from_body(body, row["limits_hash"]))
        except (ValueError, LimitsError) as exc:
            raise SpcReportError(
                f"The limits locked for {part_number} #{characteristic} cannot be read: {exc}"
            ) from None
    return versions


# -- reading ----------------------------------------------------------------------------------


def _station_rows(
    source: RecordSource, scope: ReportScope, station: str, page: int
) -> Iterator[dict[str, Any]]:
    """One station's readings in scope, in chain order, a page at a time."""
    kind = "lot" if scope.lot is not None else "part"
    query = spc_reads.reading_page(
        kind, since=scope.since is not None, characteristic=scope.characteristic is not None
    )
    extra = [v for v in (scope.since, scope.characteristic) if v is not None]
    key = scope.lot if scope.lot is not None else scope.part_number
    seq = 0
    while True:
        rows = source.rows(query, [key, station, seq, *extra, page])
        yield from rows
        if len(rows) < page:
            return
        seq = rows[-1]["seq"]


def _time_key(row: dict[str, Any]) -> tuple[str, str, int]:
    return row["measured_at"], row["station"], row["seq"]


def readings(source: RecordSource, scope: ReportScope, page: int = PAGE) -> Iterator[dict]:
    """The scope's variable readings of every station, merged by time (``spc_reads`` rows)."""
    streams = [_station_rows(source, scope, s, page) for s in sorted(source.heads)]
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, key=_time_key)


def _convert(text: str, unit: str | None, target: str) -> str:
    """A value written in ``unit`` as a decimal string in ``target`` (exact where it can be)."""
    if unit is None or unit == target:
        return text
    if not units.convertible(unit, target):
        raise SpcReportError(f"A reading in {unit} cannot be reported in {target}.")
    value = units.from_base(units.to_base(Decimal(text), unit), target)
    return format(value.normalize(), "f")


# -- one characteristic's series, judged as it streams -----------------------------------------


class _Series:
    """One characteristic's readings (of one station, or all), accumulated in reading order."""

    def __init__(
        self,
        part: str,
        char: str,
        settings: SpcSettings,
        versions: list[LimitVersion],
        step: Decimal | None,
        rules: bool = True,
    ) -> None:
        self.part, self.char, self.settings, self.versions, self.step = (
            part,
            char,
            settings,
            versions,
            step,
        )
        self.values: list[float] = []
        self.head: list[tuple[str, Decimal]] = []
        """The first readings (up to the baseline): limits and digits come from them."""
        self.need = settings.baseline * settings.subgroup_size
        self.rules = rules
        """Whether the rules are replayed (False: the figures alone)."""
        self.keep = max(self.need, 100)
        """How many of the first readings are kept (for the limits and the digits)."""
        self.unit: str | None = None
        self.limits_seen: dict[tuple[Any, Any], int] = {}
        self.last_limits: tuple[Any, Any] = (None, None)
        self.manual = self.superseded = 0
        self.stations: set[str] = set()
        self.first_at = self.last_at = ""
        self.monitor: Monitor | None = None
        self.points: deque[ChartPoint] = deque(maxlen=CHART_POINTS)
        self.plotted = 0
        self.violations: list[Violation] = []
        self.notes: list[str] = []
        self.derived_from: int | None = None

    def add(self, row: dict[str, Any]) -> None:
        """Take the next reading row (a superseded one is only counted)."""
        if row["status"] != "current":
            self.superseded += 1
            return
        spec_unit = row["spec_unit"]
        text = row["value_in_spec_unit"]
        if text is None:  # a record written before values were converted: as measured
            text = row["value"]
            if spec_unit is not None:
                text = _convert(text, row["unit"], spec_unit)
        lower, upper = row["lower"], row["upper"]
        if self.unit is None:
            self.unit = spec_unit or row["unit"] or ""
            self.first_at = row["measured_at"]
        elif spec_unit != self.unit and spec_unit is not None:
            text = _convert(text, spec_unit, self.unit)
            lower = None if lower is None else _convert(lower, spec_unit, self.unit)
            upper = None if upper is None else _convert(upper, spec_unit, self.unit)
        if lower != self.last_limits[0] or upper != self.last_limits[1]:
            self.last_limits = (lower, upper)
            self.limits_seen[(lower, upper)] = self.limits_seen.get((lower, upper), 0) + 1
        when = self.last_at = row["measured_at"]
        self.stations.add(row["station"])
        if row["source"] == "manual":
            self.manual += 1
        try:
            self.values.append(float(text))
            if not self.rules and len(self.head) >= self.keep:
                return
            value = Decimal(text)
        except (ValueError, InvalidOperation):
            raise SpcReportError(
                f"Reading {row['uuid']} of characteristic {self.char} is not a number ({text!r})."
            ) from None
        ref = row["uuid"]
        if len(self.head) < self.keep:
            self.head.append((ref, value))
        if not self.rules:
            return
        if self.versions:
            version = in_force(self.versions, when)
            if version is None:
                return
            if self.monitor is None or self.monitor.limits is not version:
                self.monitor = Monitor(version)
            self._feed(ref, value)
        elif self.monitor is not None:
            self._feed(ref, value)
        elif len(self.head) == self.need:
            self._derive()

    def _feed(self, ref: str, value: Decimal) -> None:
        assert self.monitor is not None
        point = self.monitor.feed(ref, value)
        if point is not None:
            self.points.append(point)
            self.plotted += 1
            self.violations.extend(point.violations)

    def _derive(self) -> None:
        """Limits from the first readings, then those readings judged against them."""
        baseline = self.head[: self.need]
        try:
            limits = derive_limits(
                baseline,
                self.settings,
                part_number=self.part[:30],
                characteristic=self.char[:20],
                unit=(self.unit or "-")[:10],
                resolution=self.step,
                effective_from=self.first_at,
                reason=f"derived by spc report from the first {len(baseline)} readings",
            )
        except (BaselineError, SpcError, ValueError) as exc:
            self.notes.append(f"No control limits: {exc}")
            self.need = -1  # never again
            return
        self.derived_from = len(baseline)
        self.monitor = Monitor(limits)
        for ref, value in baseline:
            self._feed(ref, value)

    def finish(self, char_id: str, name: str) -> CharacteristicReport:
        """The figures of the series."""
        lower, upper = self.last_limits
        lo = None if lower is None else Decimal(lower)
        hi = None if upper is None else Decimal(upper)
        if len(self.limits_seen) > 1:
            self.notes.append(
                f"The readings were judged against {len(self.limits_seen)} sets of specification "
                "limits; the indices use the latest."
            )
        digits = limit_digits(self.step, [v for _, v in self.head])
        cap = capability(
            self.values,
            lower=lo,
            upper=hi,
            digits=digits,
            subgroup_size=self.settings.subgroup_size,
        )
        limits = self.monitor.limits if self.monitor is not None else None
        if not self.rules:
            label = "rules not evaluated (figures only)"
        elif self.versions:
            label = (
                f"locked limits version {limits.version}" if limits else "no locked limits in force"
            )
        elif limits is not None:
            label = f"limits derived from the first {self.derived_from} readings (not locked)"
        else:
            label = "no control limits"
            if self.need > 0:
                why = (
                    f"{len(self.values)} readings, the first {self.need} are needed to derive "
                    "them (spc baseline)"
                )
                label = f"no control limits: {why}"
                self.notes.append(f"Rules not evaluated: {why}.")
        return CharacteristicReport(
            id=char_id,
            name=name,
            unit=self.unit or "",
            settings=self.settings,
            capability=cap,
            manual=self.manual,
            superseded=self.superseded,
            stations=tuple(sorted(self.stations)),
            first_at=self.first_at,
            last_at=self.last_at,
            limits=limits,
            limits_label=label,
            locked=bool(self.versions) and limits is not None,
            points=tuple(self.points),
            plotted=self.plotted,
            violations=tuple(self.violations),
            notes=tuple(self.notes),
        )


# -- the report ---------------------------------------------------------------------------------


@dataclass
class _Specs:
    """The part's recorded spec revisions, by content hash."""

    by_hash: dict[str, PartSpec] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def latest(self, spec_hash: str | None) -> PartSpec | None:
        """The revision with this hash, else the last recorded."""
        if spec_hash in self.by_hash:
            return self.by_hash[spec_hash]
        return self.by_hash[self.order[-1]] if self.order else None


def _specs(source: RecordSource, part_number: str) -> _Specs:
    out = _Specs()
    for row in source.rows(spc_reads.PART_SPECS, [part_number]):
        try:
            spec = PartSpec.model_validate(json.loads(row["content"]))
        except (ValidationError, ValueError):
            continue  # a spec record that cannot be read names no characteristic
        if row["spec_hash"] not in out.by_hash:
            out.order.append(row["spec_hash"])
        out.by_hash[row["spec_hash"]] = spec
    return out


def spec_settings(ch: Any, specs: _Specs) -> SpcSettings | None:
    """The SPC settings a recorded spec declares for a characteristic (its own, else the
    spec's), where the spec model carries them as ``spc``; None otherwise."""
    for holder in (ch, specs.latest(None)):
        found = getattr(holder, "spc", None)
        if isinstance(found, SpcSettings):
            return found
    return None


def _check_scope(source: RecordSource, scope: ReportScope) -> str:
    """The part number of the scope; SpcReportError for an unknown lot or part."""
    if (scope.lot is None) == (scope.part_number is None):
        raise SpcReportError("Give a lot or a part number to report on, not both.")
    if scope.lot is not None:
        rows = source.rows(queries.LOT_OPENED, [scope.lot])
        if not rows:
            raise SpcReportError(f"There is no lot {scope.lot!r} in the {source.description}.")
        return str(rows[0]["part_number"])
    part = str(scope.part_number)
    if not source.rows(spc_reads.PART_INSPECTED, [part])[0]["n"]:
        raise SpcReportError(f"There is no part {part!r} in the {source.description}.")
    return part


def spc_report(
    source: RecordSource,
    scope: ReportScope,
    *,
    settings: SettingsFor | Mapping[str, SpcSettings] | SpcSettings | None = None,
    by_station: bool = False,
    rules: bool = True,
    page: int = PAGE,
) -> SpcReport:
    """The capability report of ``scope`` from ``source``; SpcReportError saying what is wrong.

    ``rules=False`` gives the figures alone (no control limits, no violations).
    """
    part = _check_scope(source, scope)
    specs = _specs(source, part)
    known = {ch.id: ch for h in specs.order for ch in specs.by_hash[h].characteristic}
    if scope.characteristic is not None:
        ch = known.get(scope.characteristic)
        if ch is None and known:
            raise SpcReportError(
                f"Part {part} has no characteristic {scope.characteristic!r} (its "
                f"characteristics are {', '.join(known)})."
            )
        if ch is not None and ch.kind is Kind.ATTRIBUTE:
            raise SpcReportError(
                f"Characteristic {ch.id} of part {part} is an attribute (pass/fail): it has no "
                "values to report capability on."
            )
    latest_hash: str | None = None

    def settings_of(char: str) -> SpcSettings:
        if isinstance(settings, SpcSettings):
            return settings
        if isinstance(settings, Mapping):
            found = settings.get(char)
        else:
            found = settings(char) if settings is not None else None
        return found or spec_settings(known.get(char), specs) or SpcSettings()

    series: dict[str, _Series] = {}
    per_station: dict[tuple[str, str], _Series] = {}

    def make(char: str) -> _Series:
        ch = known.get(char)
        return _Series(
            part,
            char,
            settings_of(char),
            locked_limits(source, part, char) if rules else [],
            ch.step if ch is not None else None,
            rules,
        )

    for row in readings(source, scope, page):
        char = row["characteristic"]
        entry = series.get(char)
        if entry is None:
            entry = series[char] = make(char)
        entry.add(row)
        if by_station:
            key = (row["station"], char)
            mine = per_station.get(key)
            if mine is None:
                mine = per_station[key] = make(char)
            mine.add(row)
        latest_hash = row["spec_hash"]
    if not any(s.values for s in series.values()):
        raise SpcReportError(
            f"Nothing measured: {scope.describe()} has no variable readings in force in the "
            f"{source.description}."
        )
    spec = specs.latest(latest_hash)
    order = [ch.id for ch in spec.characteristic] if spec is not None else []
    order += sorted(c for c in series if c not in order)

    def name_of(char: str) -> str:
        ch = (spec.get(char) if spec is not None else None) or known.get(char)
        return ch.name if ch is not None else ""

    chars = tuple(
        series[c].finish(c, name_of(c)) for c in order if c in series and series[c].values
    )
    stations = None
    if by_station:
        names = sorted({s for s, _ in per_station})
        stations = tuple(
            (
                station,
                tuple(
                    per_station[(station, c)].finish(c, name_of(c))
                    for c in order
                    if (station, c) in per_station and per_station[(station, c)].values
                ),
            )
            for station in names
        )
    return SpcReport(
        scope=scope,
        part_number=part,
        revision=spec.revision if spec is not None else "",
        description=spec.description if spec is not None else "",
        source=source,
        generated_at=utc_timestamp(),
        characteristics=chars,
        by_station=stations,
    )
