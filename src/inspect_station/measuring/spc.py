# Over 500 lines: the live SPC of a part session (charts, locked and proposed limits, alarms).
"""SPC in the part session: every recorded reading feeds its characteristic's control chart.

A :class:`SpcTracker` belongs to one part session (one part number). After a reading's
measurement record is appended, and inside the same write transaction (``hook``), the value in
the spec's unit goes to a :class:`~inspect_station.spc.Monitor` of that characteristic, built
from the limit version locked and in force (the readings since it took effect replayed, silently,
when the chart starts, when limits are re-locked and when a correction supersedes a reading). A
point that breaks a rule writes, in that transaction, an ``spc_hold`` record (the alarm: the
parts measured since the last in-control reading of the characteristic, held) and one
``spc_violation`` record per rule, each with the hash of the limit version it was judged
against. Nothing alarms without locked limits: the chart says "limits not locked".

An open alarm of the part number blocks the next part: :meth:`SpcTracker.blocking` (quick, for
the session's checks) and :meth:`SpcTracker.require_clear` (I/O, re-read inside the close).
The chart data (:meth:`SpcTracker.chart`) is a plain snapshot a screen can draw from any thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from inspect_station.errors import InspectStationError
from inspect_station.spc import (
    BaselineError,
    ChartPoint,
    LimitVersion,
    Monitor,
    SpcError,
    SpcSettings,
    derive_limits,
    exact,
    in_force,
)
from inspect_station.spc.fatigue import rule_label
from inspect_station.spc.resolve import settings_for
from inspect_station.spec.model import Characteristic, Kind, PartSpec
from inspect_station.store import spc as named
from inspect_station.store.db import LocalStore, Transaction
from inspect_station.store.inspections import Reader

T = TypeVar("T")

SHOWN = 40
"""Points a live chart keeps (the newest last)."""


def rule_name(rule: str, chart: str) -> str:
    """How a violated rule is named: '2', 'cusum', or '1 (range)' for the range chart."""
    return rule_label(rule, chart)


class SpcHold(InspectStationError):
    """An SPC alarm of the part number is open: the next part waits for its answer."""


@dataclass(frozen=True)
class Alarm:
    """An SPC alarm as the station shows it: which characteristic, which rules, held parts."""

    uuid: str
    """UUID of the spc_hold record."""
    station: str
    """Station whose journal holds it."""
    part_number: str
    """Part number."""
    characteristic: str
    """Balloon id."""
    rules: tuple[str, ...]
    """Rules that fired ('1'..'8', 'cusum', 'ewma'; a range-chart rule as '1 (range)')."""
    sentences: tuple[str, ...]
    """Each violation in words."""
    parts: tuple[dict[str, str], ...]
    """Held parts: lot, serial, inspection."""
    serial: str
    """The part whose reading raised it."""
    held_at: str
    """UTC time of the hold."""

    @property
    def short_id(self) -> str:
        """The first 8 characters of the UUID, as people quote it."""
        return self.uuid[:8]

    def sentence(self) -> str:
        """One line: where, which rules, how many parts held."""
        count = len(self.parts)
        noun = "part" if count == 1 else "parts"
        return (
            f"SPC alarm {self.short_id} on {self.part_number} #{self.characteristic} "
            f"(rule {', '.join(self.rules)}): {count} {noun} held until it is answered."
        )

    @classmethod
    def of_row(cls, row: Mapping[str, Any], sentences: tuple[str, ...] = ()) -> Alarm:
        """An alarm from an spc_holds row (``rules`` and ``parts`` parsed)."""
        return cls(
            row["uuid"],
            row["station"],
            row["part_number"],
            row["characteristic"],
            tuple(row["rules"]),
            sentences,
            tuple(row["parts"]),
            row["serial"],
            row["held_at"],
        )


@dataclass(frozen=True)
class Plotted:
    """One point of a live chart."""

    value: Decimal
    """The reading (or subgroup mean) in the spec's unit."""
    spread: Decimal | None
    """Moving range or subgroup range (None for the first individual, or unjudged)."""
    alarmed: bool
    """Whether a rule fired at this point."""


@dataclass(frozen=True)
class ChartData:
    """What a live chart of one characteristic draws (a snapshot; never changes)."""

    characteristic: Characteristic
    """The characteristic."""
    unit: str
    """Unit of every value."""
    points: tuple[Plotted, ...]
    """The newest points, oldest first."""
    limits: LimitVersion | None
    """The locked version in force (None: "limits not locked")."""
    stamp: int
    """Changes whenever the data does (redraw only then)."""
    proposed: LimitVersion | None = None
    """Before a lock, for subgroups: limits computed from the first ``baseline`` subgroups,
    drawn and judged against but not locked (nothing alarms, nothing is held)."""
    subgroup_size: int = 1
    """Readings per plotted point (1: individuals; 2..10: subgroup means and ranges)."""

    @property
    def locked(self) -> bool:
        """Whether control limits are locked and in force."""
        return self.limits is not None

    @property
    def shown_limits(self) -> LimitVersion | None:
        """The limits drawn: the locked version, else the proposed one (labelled not locked)."""
        return self.limits if self.limits is not None else self.proposed

    @property
    def title(self) -> str:
        """Chart title: characteristic, chart type, the limits' state."""
        ch = self.characteristic
        n = self.limits.subgroup_size if self.limits is not None else self.subgroup_size
        kind = "I-MR" if n == 1 else f"X̄-R n={n}"
        if self.limits is None:
            if n == 1:
                return f"#{ch.id} {ch.name}: limits not locked"
            state = "proposed limits, not locked" if self.proposed else "limits not locked"
            return f"#{ch.id} {ch.name}: {kind}, {state}"
        return f"#{ch.id} {ch.name}: {kind}, limits v{self.limits.version}"


@dataclass
class _Chart:
    """One characteristic's live state (replaced whole, never half-changed, by the writer)."""

    limits: LimitVersion | None
    monitor: Monitor | None
    refs: list[str] = field(default_factory=list)
    points: list[Plotted] = field(default_factory=list)
    subgroup_size: int = 1
    proposed: LimitVersion | None = None
    """Not locked: limits from the first subgroups (the monitor judges against them)."""
    group: list[Decimal] = field(default_factory=list)
    """Not locked, no proposed limits yet: the readings of the subgroup being filled."""

    def add_reading(self, value: Decimal) -> None:
        """Not locked, no limits yet: the reading joins its subgroup; a full one is plotted."""
        if self.subgroup_size == 1:
            self.add(Plotted(value, None, False))
            return
        self.group.append(value)
        if len(self.group) == self.subgroup_size:
            ctx = exact.CONTEXT
            total = self.group[0]
            for v in self.group[1:]:
                total = ctx.add(total, v)
            spread = ctx.subtract(max(self.group), min(self.group))
            self.add(Plotted(ctx.divide(total, self.subgroup_size), spread, False))
            self.group = []

    def add(self, plotted: Plotted) -> None:
        self.points.append(plotted)
        if len(self.points) > 2 * SHOWN:
            del self.points[:SHOWN]


class SpcTracker:
    """The live SPC of one part number at a station, fed by the session's recorded readings."""

    def __init__(
        self, store: LocalStore, spec: PartSpec, defaults: SpcSettings | None = None
    ) -> None:
        self.store = store
        """The station's record."""
        self.spec = spec
        """The spec revision measured."""
        self.defaults = defaults or SpcSettings()
        """The station's default SPC settings (the spec and characteristic override them)."""
        self._charts: dict[str, _Chart] = {}
        self._stamps: dict[str, int] = {}
        self._open: list[Alarm] = []
        self._outcomes: dict[str, Alarm] = {}
        self._lock = threading.Lock()

    @property
    def part_number(self) -> str:
        """The part number charted."""
        return self.spec.part_number

    # -- alarms ---------------------------------------------------------------------------------

    def blocking(self) -> Alarm | None:
        """The oldest open alarm of the part number, as last read or raised (quick, no I/O)."""
        with self._lock:
            return self._open[0] if self._open else None

    def open_alarms(self) -> list[Alarm]:
        """The open alarms of the part number, oldest first (quick, no I/O)."""
        with self._lock:
            return list(self._open)

    def refresh(self, db: Reader | None = None) -> None:
        """I/O: read the part number's open alarms again (answers given elsewhere count)."""
        rows = named.alarms(db or self.store, open_only=True, part_number=self.part_number)
        alarms = [Alarm.of_row(row) for row in rows]
        with self._lock:
            self._open = alarms

    def require_clear(self, db: Reader | None = None) -> None:
        """I/O: SpcHold unless every alarm of the part number is answered."""
        self.refresh(db)
        alarm = self.blocking()
        if alarm is not None:
            raise SpcHold(
                f"{alarm.sentence()} Answer it (A at the bench, or inspect-station spc answer) "
                "before the next part; nothing was recorded."
            )

    def answered(self, alarm_uuid: str) -> None:
        """An alarm was answered: it no longer blocks."""
        with self._lock:
            self._open = [a for a in self._open if a.uuid != alarm_uuid]

    def forget(self) -> None:
        """Drop the charts and outcomes held in memory: after a write that was rolled back, the
        next reading rebuilds its chart from the record, and open alarms are read again."""
        with self._lock:
            self._charts.clear()
            self._outcomes.clear()
            self._open = []

    def outcome(self, measurement: str) -> Alarm | None:
        """The alarm the measurement with this UUID raised, if any (asked once)."""
        with self._lock:
            return self._outcomes.pop(measurement, None)

    # -- writing ----------------------------------------------------------------------------------

    def guarded(self, write: Callable[[Callable[[Transaction, dict[str, Any]], None]], T]) -> T:
        """Run ``write(hook)``; if it fails, charts it fed start again from the record."""
        hook, undo = self.undoable_hook()
        try:
            return write(hook)
        except BaseException:
            undo()
            raise

    def undoable_hook(
        self,
    ) -> tuple[Callable[[Transaction, dict[str, Any]], None], Callable[[], None]]:
        """A ``hook`` for one write, and what to call if that write is not committed (refused
        in a group, or its group rolled back): the charts it fed start again from the record,
        and an alarm it raised neither blocks nor is reported (it was rolled back with it)."""
        fed: list[str] = []
        written: list[str] = []

        def hook(tx: Transaction, record: dict[str, Any]) -> None:
            written.append(record["uuid"])
            char = self._hook(tx, record)
            if char is not None:
                fed.append(char)

        def undo() -> None:
            with self._lock:
                for char in fed:
                    self._charts.pop(char, None)
                for measurement in written:
                    alarm = self._outcomes.pop(measurement, None)
                    if alarm is not None:
                        self._open = [a for a in self._open if a.uuid != alarm.uuid]

        return hook, undo

    def hook(self, tx: Transaction, record: dict[str, Any]) -> None:
        """Feed a measurement record just appended in ``tx`` to its chart (see the module doc)."""
        self._hook(tx, record)

    def _hook(self, tx: Transaction, record: dict[str, Any]) -> str | None:
        body = record["body"]
        if body.get("kind") != Kind.VARIABLE.value or body.get("value_in_spec_unit") is None:
            return None
        if body.get("part_number") != self.part_number:
            return None
        char = body["characteristic"]
        chart = self._charts.get(char)
        latest = named.latest_limits_hash(tx, self.part_number, char)
        held = chart.limits.content_hash if chart and chart.limits else None
        if chart is None or held != latest or body.get("supersedes"):
            chart = self._build(tx, char, exclude=record["uuid"])
        value = Decimal(body["value_in_spec_unit"])
        if chart.limits is None:
            # Not locked: nothing alarms. Subgroups are charted as X-bar/R, against limits
            # proposed from the first subgroups once there are enough of them.
            if chart.monitor is not None:
                point = chart.monitor.feed(record["uuid"], value)
                if point is not None:
                    chart.add(Plotted(point.value, point.spread, bool(point.violations)))
            elif chart.subgroup_size > 1 and self._enough(tx, char):
                chart = self._build(tx, char)  # now with proposed limits, this reading in
            else:
                chart.add_reading(value)
            self._publish(char, chart)
            return char
        assert chart.monitor is not None  # locked limits always come with their monitor
        point = chart.monitor.feed(record["uuid"], value)
        chart.refs.append(record["uuid"])
        if point is not None:
            chart.add(Plotted(point.value, point.spread, bool(point.violations)))
            if point.violations:
                alarm = self._alarm(tx, record, chart, point)
                with self._lock:
                    self._outcomes[record["uuid"]] = alarm
                    self._open.append(alarm)
        self._publish(char, chart)
        return char

    def _publish(self, char: str, chart: _Chart) -> None:
        with self._lock:
            self._charts[char] = chart
            self._stamps[char] = self._stamps.get(char, 0) + 1

    def _build(self, db: Reader, char: str, exclude: str | None = None) -> _Chart:
        """A chart started from the record: the version in force, the readings since replayed."""
        rows = named.limit_versions(db, self.part_number, char)
        versions = [LimitVersion.from_body(r["limits"], r["limits_hash"]) for r in rows]
        now = rows[-1]["effective_from"] if rows else ""
        limits = in_force(versions, now) if versions else None
        if limits is None:
            settings = self.settings(char)
            if settings.subgroup_size > 1:
                return self._unlocked_subgroups(db, char, settings, exclude)
            history = named.recent(db, self.part_number, char, SHOWN + 1)
            chart = _Chart(None, None)
            for row in history:
                if row["uuid"] != exclude:
                    chart.add(Plotted(Decimal(row["value"]), None, False))
            return chart
        monitor = Monitor(limits)
        chart = _Chart(limits, monitor)
        for row in named.history(db, self.part_number, char, since=limits.effective_from):
            if row["uuid"] == exclude:
                continue
            point = monitor.feed(row["uuid"], Decimal(row["value"]))
            chart.refs.append(row["uuid"])
            if point is not None:
                chart.add(Plotted(point.value, point.spread, bool(point.violations)))
        return chart

    def settings(self, char: str) -> SpcSettings:
        """The SPC settings of a characteristic: station defaults, the spec's, its own."""
        ch = self.spec.get(char)
        return settings_for(self.defaults, self.spec.spc, ch.spc if ch is not None else None)

    def _enough(self, db: Reader, char: str) -> bool:
        """Whether the record holds the baseline's subgroups (limits can be proposed)."""
        settings = self.settings(char)
        need = settings.baseline * settings.subgroup_size
        return len(named.history(db, self.part_number, char)) >= need

    def _unlocked_subgroups(
        self, db: Reader, char: str, settings: SpcSettings, exclude: str | None
    ) -> _Chart:
        """An X-bar/R chart before any lock: subgroup means and ranges, judged against limits
        proposed from the first ``baseline`` subgroups once the record holds them."""
        n = settings.subgroup_size
        rows = [r for r in named.history(db, self.part_number, char) if r["uuid"] != exclude]
        readings = [(r["uuid"], Decimal(r["value"])) for r in rows]
        need = settings.baseline * n
        proposed = None
        ch = self.spec.get(char)
        if len(readings) >= need:
            try:
                proposed = derive_limits(
                    readings[:need],
                    settings,
                    part_number=self.part_number[:30],
                    characteristic=char[:20],
                    unit=(self.spec.unit_of(ch) if ch is not None else "-")[:10] or "-",
                    resolution=ch.step if ch is not None else None,
                    effective_from=rows[0]["measured_at"],
                    reason=f"proposed from the first {settings.baseline} subgroups (not locked)",
                )
            except (BaselineError, SpcError, ValueError):
                proposed = None
        chart = _Chart(
            None, Monitor(proposed) if proposed else None, subgroup_size=n, proposed=proposed
        )
        for ref, value in readings:
            if chart.monitor is None:
                chart.add_reading(value)
                continue
            point = chart.monitor.feed(ref, value)
            chart.refs.append(ref)
            if point is not None:
                chart.add(Plotted(point.value, point.spread, bool(point.violations)))
        return chart

    def _alarm(
        self, tx: Transaction, record: dict[str, Any], chart: _Chart, point: ChartPoint
    ) -> Alarm:
        """Write the hold (held parts) and one violation record per rule that fired."""
        body = record["body"]
        refs = list(dict.fromkeys(ref for v in point.violations for ref in v.refs))
        order = {ref: i for i, ref in enumerate(chart.refs)}
        first = min((order.get(ref, len(order)) for ref in refs), default=len(order))
        since = chart.refs[first - 1] if 0 < first <= len(chart.refs) else None
        held = chart.refs[first:] if first < len(chart.refs) else [record["uuid"]]
        parts: list[dict[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for row in named.measurement_records(tx, held):
            key = (row["lot"], row["serial"])
            if key not in seen:
                seen.add(key)
                parts.append(
                    {"lot": row["lot"], "serial": row["serial"], "inspection": row["inspection"]}
                )
        rules = [rule_name(v.rule, v.chart) for v in point.violations]
        identity = {k: body[k] for k in ("part_number", "revision", "spec_hash")}
        common = {
            **identity,
            "characteristic": body["characteristic"],
            "lot": body["lot"],
            "serial": body["serial"],
            "measurement": record["uuid"],
            "inspector": body["inspector"],
        }
        limits = chart.limits
        assert limits is not None
        hold = tx.append(
            "spc_hold",
            {
                **common,
                "rules": rules,
                "limits_hash": limits.content_hash,
                "limits_version": limits.version,
                "point": point.index,
                "since": since,
                "parts": parts,
            },
        )
        for violation in point.violations:
            tx.append(
                "spc_violation",
                {
                    **common,
                    "alarm": hold["uuid"],
                    **violation.record(),
                    "limits_hash": limits.content_hash,
                    "limits_version": limits.version,
                },
            )
        return Alarm(
            hold["uuid"],
            hold["station"],
            self.part_number,
            body["characteristic"],
            tuple(rules),
            tuple(v.sentence for v in point.violations),
            tuple(parts),
            body["serial"],
            hold["ts"],
        )

    # -- the charts ---------------------------------------------------------------------------

    def load(self, db: Reader | None = None) -> None:
        """I/O: start the chart of every variable characteristic not started yet."""
        for ch in self.spec.characteristic:
            if ch.kind is Kind.VARIABLE and ch.id not in self._charts:
                chart = self._build(db or self.store, ch.id)
                self._publish(ch.id, chart)

    def restart(self, char_id: str, db: Reader | None = None) -> None:
        """I/O: start the characteristic's chart again from the record (limits just locked)."""
        self._publish(char_id, self._build(db or self.store, char_id))

    def chart(self, char_id: str) -> ChartData | None:
        """A snapshot of the characteristic's live chart (None: not started, or an attribute)."""
        ch = self.spec.get(char_id)
        with self._lock:
            chart = self._charts.get(char_id)
            stamp = self._stamps.get(char_id, 0)
            if ch is None or chart is None:
                return None
            points = tuple(chart.points[-SHOWN:])
        return ChartData(
            ch,
            self.spec.unit_of(ch),
            points,
            chart.limits,
            stamp,
            proposed=chart.proposed,
            subgroup_size=chart.subgroup_size,
        )

    def stamp(self, char_id: str) -> int:
        """How often the characteristic's chart changed (quick: compare before redrawing)."""
        with self._lock:
            return self._stamps.get(char_id, 0)
