"""The rules over a whole series at once (numpy): exactly what ``monitor.replay`` finds, faster.

``replay_series(texts, refs, limits)`` judges a characteristic's readings (decimal strings, in
order) against one limit version from a fresh start, as ``replay`` does reading by reading, and
gives the same violations -- rule, chart, point, first point, readings involved, sentence -- in
the same order. ``monitor.replay`` stays the reference; a hypothesis test holds the two equal.

How it stays exact while working in binary floating point: every comparison (a point against the
centre line and the zone boundaries, a point against the one before it, a range against its
limits) is made on floats, and every comparison whose two sides lie within a bound far above the
floats' rounding error is made again on the exact Decimals, as the monitor makes it. Points that
close to a boundary are rare, so almost all the work is array operations.

Each rule as arrays:

- rule 1: points with band 3; range chart: spreads beyond its limits;
- rules 2, 3, 4, 7, 8 are runs (same side; steps in one direction; alternating steps; within
  1 sigma; beyond 1 sigma): a rule fires at every full length of a run (the monitor forgets the
  pattern when it fires), i.e. where the position in the run is a multiple of the length
  (of the length - 1 for the steps of rules 3 and 4);
- rules 5 and 6 (a of b beyond 2 / 1 sigma on one side): candidate points from windowed
  counts, then the few candidates confirmed in order (a firing clears the window).

CUSUM and EWMA keep a running state that resets when they fire; where a version has them they
run as the monitor runs them (the same detector objects, fed the exact subgroup sums).

numpy is imported when ``replay_series`` runs, never when the SPC core is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from inspect_station.spc import exact
from inspect_station.spc.errors import SpcError
from inspect_station.spc.limits import LimitVersion
from inspect_station.spc.monitor import ChartPoint, Replay, detectors, replay
from inspect_station.spc.rules import Refs, Violation, range_violation, zone_violation

TOLERANCE = 1e-12
"""Relative width of the band around a boundary in which a comparison is redone exactly (the
floats' own error is below 1e-15 relative, for subgroup sums of up to 10 readings)."""


def numpy_module() -> Any:
    """numpy, or None where it is not installed (the report then replays reading by reading)."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


@dataclass(frozen=True)
class SeriesReplay:
    """A series judged against one limit version: its violations and its newest points."""

    limits: LimitVersion
    """The version the series was judged against."""
    violations: tuple[Violation, ...]
    """Every violation, in the monitor's order."""
    points: tuple[ChartPoint, ...]
    """The newest ``keep`` plotted points (each with its violations)."""
    plotted: int
    """How many points were plotted."""
    pending: int
    """Readings at the end that do not fill a subgroup."""


class _Exact:
    """The exact Decimals of a series, made only for the readings that need them."""

    def __init__(self, texts: Sequence[str], refs: Sequence[str], n: int) -> None:
        self.texts, self.refs, self.n = texts, refs, n
        self.cache: dict[int, Decimal] = {}

    def value(self, j: int) -> Decimal:
        """Reading ``j`` as an exact Decimal."""
        found = self.cache.get(j)
        if found is None:
            found = self.cache[j] = Decimal(self.texts[j])
        return found

    def total(self, i: int) -> Decimal:
        """Point ``i``'s plotted statistic as the rules see it (the subgroup sum)."""
        n = self.n
        if n == 1:
            return self.value(i)
        ctx = exact.CONTEXT
        total = self.value(i * n)
        for j in range(i * n + 1, i * n + n):
            total = ctx.add(total, self.value(j))
        return total

    def spread(self, i: int) -> Decimal | None:
        """Point ``i``'s moving range (None for the first) or subgroup range."""
        ctx = exact.CONTEXT
        if self.n == 1:
            return None if i == 0 else ctx.subtract(self.value(i), self.value(i - 1)).copy_abs()
        group = [self.value(j) for j in range(i * self.n, i * self.n + self.n)]
        return ctx.subtract(max(group), min(group))


def _positions(np: Any, valid: Any, cont: Any) -> Any:
    """Each point's position in its run (0 for the first point of a run)."""
    index = np.arange(len(valid))
    starts = np.where(valid & ~cont, index, -1)
    return index - np.maximum.accumulate(starts)


def _continues(np: Any, valid: Any, same: Any) -> Any:
    """Whether each point continues the run of the point before it."""
    cont = np.zeros(len(valid), dtype=bool)
    cont[1:] = valid[1:] & valid[:-1] & same
    return cont


def replay_series(
    texts: Sequence[str],
    refs: Sequence[str],
    limits: LimitVersion,
    *,
    floats: Any = None,
    keep: int = 0,
) -> SeriesReplay:
    """Judge readings (decimal strings, with their references) against ``limits``.

    ``floats`` may give the readings already as a float array. The result equals
    ``replay(zip(refs, map(Decimal, texts)), limits)``: same violations, same points.
    """
    np = numpy_module()
    if np is None:
        return _reference(texts, refs, limits, keep)
    n = limits.subgroup_size
    count = len(texts)
    m = count // n
    xs = np.array(texts, dtype=float) if floats is None else np.asarray(floats, dtype=float)
    if not np.isfinite(xs).all() or (m and float(np.abs(xs).max()) > 1e300):
        return _reference(texts, refs, limits, keep)
    xs = xs[: m * n]
    ex = _Exact(texts, refs, n)
    if n == 1:
        totals = xs
        spreads = np.abs(np.diff(xs)) if m > 1 else np.zeros(0)
    else:
        groups = xs.reshape(m, n)
        totals = groups.sum(axis=1)
        spreads = groups.max(axis=1) - groups.min(axis=1)
    ctx = exact.CONTEXT
    centre = ctx.multiply(n, limits.centre)
    sigma = ctx.multiply(n, limits.sigma)
    two, three = ctx.multiply(2, sigma), ctx.multiply(3, sigma)
    bounds = (
        centre,
        ctx.add(centre, sigma),
        ctx.add(centre, two),
        ctx.add(centre, three),
        ctx.subtract(centre, sigma),
        ctx.subtract(centre, two),
        ctx.subtract(centre, three),
    )
    c, u1, u2, u3, l1, l2, l3 = (float(b) for b in bounds)
    biggest = float(np.abs(xs).max()) if m else 0.0
    tol = TOLERANCE * (n * biggest + max(abs(float(b)) for b in bounds) + 1e-300)

    # Side of the centre line and zone band of every point (exactly where it is close).
    above, below = totals > c, totals < c
    side = above.astype(np.int8) - below.astype(np.int8)
    up = (totals > u1).astype(np.int8) + (totals > u2) + (totals > u3)
    down = (totals < l1).astype(np.int8) + (totals < l2) + (totals < l3)
    band = np.where(above, up, np.where(below, down, 0)).astype(np.int8)
    near = np.zeros(m, dtype=bool)
    for bound in (c, u1, u2, u3, l1, l2, l3):
        near |= np.abs(totals - bound) <= tol
    for i in np.flatnonzero(near).tolist():
        side[i], band[i] = _zone(ex.total(i), bounds)

    rules = limits.rules
    on = set(rules.enabled)
    found: list[tuple[int, int, Violation]] = []

    def point_refs(first: int, last: int) -> Refs:
        return tuple(refs[first * n : (last + 1) * n])

    def fire(rule: int, last: int, length: int, where: str = "") -> None:
        first = last - length + 1
        found.append(
            (last, rule, zone_violation(rules, rule, first, last, point_refs(first, last), where))
        )

    if 1 in on:
        for i in np.flatnonzero(band == 3).tolist():
            fire(1, i, 1, ", above the upper limit" if side[i] > 0 else ", below the lower limit")
    if 2 in on:
        valid = side != 0
        pos = _positions(np, valid, _continues(np, valid, side[1:] == side[:-1]))
        for i in np.flatnonzero(valid & ((pos + 1) % rules.same_side == 0)).tolist():
            fire(2, i, rules.same_side, ", above" if side[i] > 0 else ", below")
    if 3 in on or 4 in on:
        step = np.zeros(m, dtype=np.int8)
        if m > 1:
            diff = totals[1:] - totals[:-1]
            step[1:] = (diff > 0).astype(np.int8) - (diff < 0)
            for k in np.flatnonzero(np.abs(diff) <= tol).tolist():
                if n == 1 and texts[k + 1] == texts[k]:
                    continue  # the same text: the same number (step 0)
                later, earlier = ex.total(k + 1), ex.total(k)
                step[k + 1] = 1 if later > earlier else -1 if later < earlier else 0
        valid = step != 0
        if 3 in on:
            length = rules.trend
            pos = _positions(np, valid, _continues(np, valid, step[1:] == step[:-1]))
            for i in np.flatnonzero(valid & ((pos + 1) % (length - 1) == 0)).tolist():
                fire(3, i, length, ", rising" if step[i] > 0 else ", falling")
        if 4 in on:
            length = rules.alternating
            pos = _positions(np, valid, _continues(np, valid, step[1:] == -step[:-1]))
            for i in np.flatnonzero(valid & ((pos + 1) % (length - 1) == 0)).tolist():
                fire(4, i, length)
    for rule, least, (a, b) in ((5, 2, rules.beyond_two), (6, 1, rules.beyond_one)):
        if rule not in on:
            continue
        flag = np.where(band >= least, side, 0).astype(np.int8)
        counts: dict[int, Any] = {}
        for sign in (1, -1):
            total = np.concatenate(([0], np.cumsum(flag == sign)))
            index = np.arange(m)
            counts[sign] = total[index + 1] - total[np.maximum(index - b + 1, 0)]
        candidates = ((flag > 0) & (counts[1] >= a)) | ((flag < 0) & (counts[-1] >= a))
        cleared = -1
        for i in np.flatnonzero(candidates).tolist():
            lo = max(cleared + 1, i - b + 1)
            window = flag[lo : i + 1].tolist()
            mine = window[-1]
            if window.count(mine) >= a:
                fire(
                    rule, i, len(window) - window.index(mine), ", above" if mine > 0 else ", below"
                )
                cleared = i
    for rule, length, valid in (
        (7, rules.within_one, band == 0),
        (8, rules.outside_one, band >= 1),
    ):
        if rule in on:
            pos = _positions(np, valid, _continues(np, valid, np.ones(max(m - 1, 0), dtype=bool)))
            for i in np.flatnonzero(valid & ((pos + 1) % length == 0)).tolist():
                fire(rule, i, length)

    if rules.range_chart and m:
        _range_rule(np, limits, spreads, tol, ex, refs, found)
    cusum, ewma = detectors(limits)
    if cusum is not None or ewma is not None:
        for i in range(m):
            total_i = ex.total(i)
            mine = point_refs(i, i)
            for order, detector in ((10, cusum), (11, ewma)):
                if detector is not None:
                    hit = detector.feed(total_i, mine)
                    if hit is not None:
                        found.append((i, order, hit))

    found.sort(key=lambda item: (item[0], item[1]))
    violations = tuple(v for _, _, v in found)
    points = _points(ex, limits, m, keep, violations, point_refs)
    return SeriesReplay(limits, violations, points, m, count - m * n)


def _zone(total: Decimal, bounds: tuple[Decimal, ...]) -> tuple[int, int]:
    """(side, band) of an exact plotted statistic, as ``ZoneRules.feed`` decides them."""
    c, u1, u2, u3, l1, l2, l3 = bounds
    if total > c:
        return 1, 3 if total > u3 else 2 if total > u2 else 1 if total > u1 else 0
    if total < c:
        return -1, 3 if total < l3 else 2 if total < l2 else 1 if total < l1 else 0
    return 0, 0


def _range_rule(
    np: Any,
    limits: LimitVersion,
    spreads: Any,
    tol: float,
    ex: _Exact,
    refs: Sequence[str],
    found: list[tuple[int, int, Violation]],
) -> None:
    """Rule 1 on the (moving) range chart, as ``RangeRule.check`` decides it."""
    n = limits.subgroup_size
    ucl, lcl = limits.range_ucl, limits.range_lcl
    hi, lo = float(ucl), float(lcl)
    offset = 1 if n == 1 else 0  # a moving range belongs to the second of its two points
    beyond = (spreads > hi) | (spreads < lo)
    near = np.abs(spreads - hi) <= tol
    if lcl > 0:  # no spread is below a lower limit of 0
        near |= np.abs(spreads - lo) <= tol
    name = "moving range" if n == 1 else "range"
    for k in np.flatnonzero(beyond | near).tolist():
        index = k + offset
        spread = ex.spread(index)
        assert spread is not None
        if spread > ucl or spread < lcl:
            first = index - 1 if n == 1 else index
            mine = tuple(refs[first * n : (index + 1) * n])
            found.append((index, 9, range_violation(name, spread > ucl, index, first, mine)))


def _points(
    ex: _Exact,
    limits: LimitVersion,
    m: int,
    keep: int,
    violations: tuple[Violation, ...],
    point_refs: Any,
) -> tuple[ChartPoint, ...]:
    """The newest ``keep`` plotted points, exactly as the monitor plots them."""
    if keep <= 0 or not m:
        return ()
    start = max(0, m - keep)
    by_point: dict[int, list[Violation]] = {}
    for v in violations:
        if v.point >= start:
            by_point.setdefault(v.point, []).append(v)
    n = limits.subgroup_size
    ctx = exact.CONTEXT
    out = []
    for i in range(start, m):
        total = ex.total(i)
        value = total if n == 1 else ctx.divide(total, n)
        out.append(ChartPoint(i, point_refs(i, i), value, ex.spread(i), tuple(by_point.get(i, ()))))
    return tuple(out)


def _reference(
    texts: Sequence[str], refs: Sequence[str], limits: LimitVersion, keep: int
) -> SeriesReplay:
    """The reading-by-reading replay (readings a float cannot hold go this way)."""
    try:
        readings = [(ref, Decimal(text)) for ref, text in zip(refs, texts, strict=True)]
    except ArithmeticError:
        raise SpcError("A reading is not a number; SPC cannot judge it.") from None
    result: Replay = replay(readings, limits, keep_points=keep > 0)
    points = result.points[-keep:] if keep > 0 else ()
    plotted = len(readings) // limits.subgroup_size
    return SeriesReplay(limits, result.violations, points, plotted, result.pending)
