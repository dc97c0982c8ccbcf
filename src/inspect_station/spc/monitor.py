"""A characteristic's live SPC state: readings in, plotted points and violations out.

``Monitor`` is built from a ``LimitVersion`` and fed the readings of one characteristic in the
order they were taken, one at a time, each with a reference (a record UUID, say). It forms
subgroups, computes moving ranges, and evaluates the Nelson rules, the range chart and the
CUSUM/EWMA detectors against the version's exact limits, in O(1) per reading.

For an X-bar chart the rules compare subgroup *sums* with n times the boundaries, so no
division is ever rounded before a comparison. ``replay`` runs a whole history through a fresh
monitor: what the chart said, or what it would have said under proposed limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from inspect_station.spc import exact
from inspect_station.spc.detectors import Cusum, Ewma
from inspect_station.spc.errors import SpcError
from inspect_station.spc.limits import LimitVersion, in_force
from inspect_station.spc.rules import RangeRule, Refs, Violation, ZoneRules


@dataclass(frozen=True)
class ChartPoint:
    """One plotted point: an individual reading or a complete subgroup."""

    index: int
    """Position on the chart, from 0."""
    refs: Refs
    """References of the readings it stands for."""
    value: Decimal
    """The individual value or the subgroup mean (the mean to 60 significant digits)."""
    spread: Decimal | None
    """The moving range (None for the first individual) or the subgroup range."""
    violations: tuple[Violation, ...]
    """What this point completed (empty when in control)."""


def detectors(limits: LimitVersion) -> tuple[Cusum | None, Ewma | None]:
    """Fresh CUSUM and EWMA detectors of a limit version (None where it has none), on the
    plotted statistic as the rules see it (subgroup sums for an X-bar chart)."""
    n = limits.subgroup_size
    ctx = exact.CONTEXT
    centre = ctx.multiply(n, limits.centre)
    sigma = ctx.multiply(n, limits.sigma)
    shown = limits.digits + 1
    cusum = (
        Cusum(centre, sigma, limits.cusum.k, limits.cusum.h, scale=n, digits=shown)
        if limits.cusum is not None
        else None
    )
    ewma = (
        Ewma(centre, sigma, limits.ewma.lam, limits.ewma.width, scale=n, digits=shown)
        if limits.ewma is not None
        else None
    )
    return cusum, ewma


class Monitor:
    """Incremental SPC evaluation of one characteristic against one limit version."""

    def __init__(self, limits: LimitVersion) -> None:
        ctx = exact.CONTEXT
        self.limits = limits
        """The version the readings are judged against."""
        self.limits_hash = limits.content_hash
        """Its content hash, recorded with every verdict."""
        n = limits.subgroup_size
        self._n = n
        centre = ctx.multiply(n, limits.centre)
        sigma = ctx.multiply(n, limits.sigma)
        self._zones = ZoneRules(centre, sigma, limits.rules)
        name = "moving range" if n == 1 else "range"
        self._range = (
            RangeRule(limits.range_ucl, limits.range_lcl, name)
            if limits.rules.range_chart
            else None
        )
        self._cusum, self._ewma = detectors(limits)
        self._pending: list[tuple[str, Decimal]] = []
        self._previous: tuple[str, Decimal] | None = None
        self._index = -1

    @property
    def pending(self) -> int:
        """Readings waiting for their subgroup to complete."""
        return len(self._pending)

    def feed(self, ref: str, value: Decimal) -> ChartPoint | None:
        """Add the next reading; the plotted point it completes (None inside a subgroup)."""
        if not isinstance(value, Decimal) or not value.is_finite():
            raise SpcError(f"Reading {ref} is not an exact finite decimal; SPC cannot judge it.")
        ctx = exact.CONTEXT
        if self._n == 1:
            refs: Refs = (ref,)
            total = value
            plotted = value
            previous = self._previous
            spread = None if previous is None else ctx.subtract(value, previous[1]).copy_abs()
            spread_refs: Refs = refs if previous is None else (previous[0], ref)
            self._previous = (ref, value)
        else:
            self._pending.append((ref, value))
            if len(self._pending) < self._n:
                return None
            group, self._pending = self._pending, []
            refs = tuple(r for r, _ in group)
            values = [v for _, v in group]
            total = values[0]
            for v in values[1:]:
                total = ctx.add(total, v)
            plotted = ctx.divide(total, self._n)
            spread = ctx.subtract(max(values), min(values))
            spread_refs = refs
        self._index += 1
        index = self._index
        violations = self._zones.feed(total, refs)
        if self._range is not None and spread is not None:
            first = index - 1 if self._n == 1 else index
            found = self._range.check(spread, index, first, spread_refs)
            if found is not None:
                violations.append(found)
        for detector in (self._cusum, self._ewma):
            if detector is not None:
                found = detector.feed(total, refs)
                if found is not None:
                    violations.append(found)
        return ChartPoint(index, refs, plotted, spread, tuple(violations))

    def verdict(self, point: ChartPoint) -> dict[str, Any]:
        """An SPC verdict as a journal body holds it: point, violations, the limits' hash."""
        return {
            "limits": self.limits_hash,
            "limits_version": self.limits.version,
            "point": point.index,
            "readings": list(point.refs),
            "value": exact.text(exact.rounded(point.value, self.limits.digits + 2)),
            "spread": None if point.spread is None else exact.text(point.spread),
            "in_control": not point.violations,
            "violations": [v.record() for v in point.violations],
        }


@dataclass(frozen=True)
class Replay:
    """A history run through a limit version: the points and what would have alarmed."""

    limits: LimitVersion
    """The version the history was judged against."""
    points: tuple[ChartPoint, ...]
    """Every plotted point, in order (empty when not kept)."""
    violations: tuple[Violation, ...]
    """Every violation, in order."""
    pending: int
    """Readings at the end that do not fill a subgroup (not plotted)."""

    @property
    def alarms(self) -> int:
        """How many points raised at least one violation."""
        return len({v.point for v in self.violations})

    def by_rule(self) -> dict[str, int]:
        """Violations per rule, keyed 'rule 1', 'rule 1 (range)', 'cusum', 'ewma'."""
        counts: dict[str, int] = {}
        for v in self.violations:
            if v.chart == "x":
                key = f"rule {v.rule}"
            elif v.chart == "range":
                key = f"rule {v.rule} (range)"
            else:
                key = v.chart
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))

    def summary(self) -> str:
        """One sentence: how many points would have alarmed, and under which rules."""
        plotted = len(self.points) if self.points else None
        of = f" of {plotted}" if plotted is not None else ""
        if not self.violations:
            return f"No point{of} would have alarmed under limits version {self.limits.version}."
        rules = ", ".join(f"{key} × {count}" for key, count in self.by_rule().items())
        noun = "point" if (plotted if plotted is not None else self.alarms) == 1 else "points"
        return (
            f"{self.alarms}{of} {noun} would have alarmed under limits version "
            f"{self.limits.version}: {rules}."
        )


def replay(
    readings: Iterable[tuple[str, Decimal]], limits: LimitVersion, *, keep_points: bool = True
) -> Replay:
    """Judge a history against ``limits`` from a fresh start: what would have alarmed."""
    monitor = Monitor(limits)
    points: list[ChartPoint] = []
    violations: list[Violation] = []
    for ref, value in readings:
        point = monitor.feed(ref, value)
        if point is None:
            continue
        if keep_points:
            points.append(point)
        violations.extend(point.violations)
    return Replay(limits, tuple(points), tuple(violations), monitor.pending)


def replay_as_it_was(
    readings: Iterable[tuple[str, str, Decimal]], versions: Sequence[LimitVersion]
) -> list[Replay]:
    """Judge ``(ref, utc_time, value)`` readings, in order, each against the version in force.

    A new version starts a fresh chart (its rules remember nothing of the old limits); readings
    taken before the first version are not judged (the chart said "limits not locked"). One
    ``Replay`` per version that judged at least one reading, in order.
    """
    out: list[Replay] = []
    monitor: Monitor | None = None
    points: list[ChartPoint] = []
    violations: list[Violation] = []

    def close() -> None:
        if monitor is not None:
            out.append(Replay(monitor.limits, tuple(points), tuple(violations), monitor.pending))

    for ref, when, value in readings:
        version = in_force(versions, when)
        if version is None:
            continue
        if monitor is None or version is not monitor.limits:
            close()
            monitor, points, violations = Monitor(version), [], []
        point = monitor.feed(ref, value)
        if point is not None:
            points.append(point)
            violations.extend(point.violations)
    close()
    return out
