"""The Nelson rules, evaluated incrementally: a state object fed one plotted point at a time.

Each point costs O(1): a fixed number of comparisons against boundaries computed once, a few
counters, and bounded windows. The rules work on any ordered numbers: exact Decimals against a
locked limit version (the station), or floats (the ARL simulation) -- the same code either way.

Conventions, for the record and the README:

- "beyond" is strict: a point exactly on a control limit or a zone boundary is inside it; the
  limits are inclusive, as specification limits are. A point exactly on the centre line is on
  neither side: it ends a rule 2 run and counts as within 1 sigma.
- Rules 3 and 4 compare consecutive points; two equal points end a trend and an alternation.
- Rule 8 counts points beyond 1 sigma on either side (Minitab's reading of Nelson's test).
- A rule fires at the point that completes its pattern and then forgets every point up to
  that one, so one pattern raises one alarm; a pattern that goes on for another full length
  raises another. Rules are independent: one point may complete several patterns.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Any

from inspect_station.spc.config import RuleSet
from inspect_station.spc.exact import arithmetic

Refs = tuple[str, ...]
"""References of readings (record UUIDs, say), oldest first."""


@dataclass(frozen=True)
class Violation:
    """A rule that fired at a point: which rule, on which chart, the points, in words."""

    rule: str
    """'1'..'8' for the Nelson rules, 'cusum' or 'ewma' for the detectors."""
    chart: str
    """'x' (individuals or X-bar), 'range' (moving range or R), 'cusum' or 'ewma'."""
    point: int
    """Index (from 0) of the plotted point that completed the pattern."""
    first: int
    """Index of the first plotted point of the pattern."""
    refs: Refs
    """References of the readings involved, oldest first."""
    sentence: str
    """One sentence for the inspector and the record."""

    def record(self) -> dict[str, Any]:
        """The violation as written into a journal record body (strings and integers)."""
        return {
            "rule": self.rule,
            "chart": self.chart,
            "point": self.point,
            "first": self.first,
            "readings": list(self.refs),
            "sentence": self.sentence,
        }


def _span(first: int, last: int) -> str:
    """'point 7' or 'points 3 to 11', counting from 1 for people."""
    return f"point {last + 1}" if first == last else f"points {first + 1} to {last + 1}"


def zone_violation(
    rules: RuleSet, rule: int, first: int, last: int, refs: Refs, where: str = ""
) -> Violation:
    """The violation of Nelson rule ``rule`` on the x chart over points ``first``..``last``."""
    sentence = f"Nelson rule {rule}: {rules.describe(rule)} ({_span(first, last)}{where})."
    return Violation(str(rule), "x", last, first, refs, sentence)


def range_violation(name: str, above: bool, index: int, first: int, refs: Refs) -> Violation:
    """The violation of rule 1 on the (moving) range chart at point ``index``."""
    where = "above its upper limit" if above else "below its lower limit"
    sentence = f"Nelson rule 1 on the {name} chart: the {name} is {where} ({_span(first, index)})."
    return Violation("1", "range", index, first, refs, sentence)


class ZoneRules:
    """The Nelson rules on one chart's plotted statistic, fed one point at a time.

    ``centre`` and ``sigma`` are the chart's centre line and the sigma of the plotted
    statistic; the limits are ``centre ± 3·sigma``. Boundaries are computed once with the
    caller's arithmetic (exact for Decimals: sums and products of finite decimals).
    """

    __slots__ = (
        "_a1",
        "_a2",
        "_alt",
        "_alt_count",
        "_alt_dir",
        "_b1",
        "_b2",
        "_c",
        "_history",
        "_in_count",
        "_index",
        "_l1",
        "_l2",
        "_l3",
        "_out_count",
        "_outside",
        "_prev",
        "_r",
        "_rules",
        "_run_len",
        "_run_side",
        "_same",
        "_trend",
        "_trend_count",
        "_trend_dir",
        "_u1",
        "_u2",
        "_u3",
        "_w1",
        "_w1_down",
        "_w1_up",
        "_w2",
        "_w2_down",
        "_w2_up",
        "_within",
    )

    def __init__(self, centre: Any, sigma: Any, rules: RuleSet) -> None:
        self._rules = rules
        self._c = centre
        add, sub, mul = arithmetic(centre)
        two, three = mul(2, sigma), mul(3, sigma)
        self._u1, self._u2, self._u3 = add(centre, sigma), add(centre, two), add(centre, three)
        self._l1, self._l2, self._l3 = sub(centre, sigma), sub(centre, two), sub(centre, three)
        on = set(rules.enabled)
        self._r = tuple(n in on for n in range(9))
        self._same = rules.same_side
        self._trend = rules.trend
        self._alt = rules.alternating
        self._a2, self._b2 = rules.beyond_two
        self._a1, self._b1 = rules.beyond_one
        self._within = rules.within_one
        self._outside = rules.outside_one
        window = max(
            self._same, self._trend, self._alt, self._b2, self._b1, self._within, self._outside
        )
        self._history: deque[Refs] = deque(maxlen=window)
        self._index = -1
        self._run_side = 0
        self._run_len = 0
        self._prev: Any = None
        self._trend_dir = 0
        self._trend_count = 0
        self._alt_dir = 0
        self._alt_count = 0
        self._w2: deque[int] = deque()
        self._w2_up = self._w2_down = 0
        self._w1: deque[int] = deque()
        self._w1_up = self._w1_down = 0
        self._in_count = 0
        self._out_count = 0

    @property
    def index(self) -> int:
        """Index of the last point fed (-1 before the first)."""
        return self._index

    def _refs(self, count: int) -> Refs:
        """References of the last ``count`` points, oldest first."""
        history = self._history
        start = len(history) - count
        return tuple(ref for refs in islice(history, start, None) for ref in refs)

    def _fire(self, out: list[Violation], rule: int, count: int, where: str = "") -> None:
        """Record that ``rule`` fired on the last ``count`` points."""
        last = self._index
        out.append(
            zone_violation(self._rules, rule, last - count + 1, last, self._refs(count), where)
        )

    def feed(self, value: Any, refs: Refs) -> list[Violation]:
        """Add the next plotted point; the violations it completes (usually none)."""
        self._index += 1
        self._history.append(refs)
        out: list[Violation] = []
        r = self._r
        if value > self._c:
            side = 1
            band = (
                3 if value > self._u3 else 2 if value > self._u2 else 1 if value > self._u1 else 0
            )
        elif value < self._c:
            side = -1
            band = (
                3 if value < self._l3 else 2 if value < self._l2 else 1 if value < self._l1 else 0
            )
        else:
            side = band = 0

        if r[1] and band == 3:
            self._fire(
                out, 1, 1, ", above the upper limit" if side > 0 else ", below the lower limit"
            )

        if r[2]:
            if side != 0 and side == self._run_side:
                self._run_len += 1
            else:
                self._run_side, self._run_len = side, (1 if side else 0)
            if self._run_len >= self._same:
                self._fire(out, 2, self._same, ", above" if side > 0 else ", below")
                self._run_side = self._run_len = 0

        prev = self._prev
        if r[3] or r[4]:
            step = None if prev is None else 1 if value > prev else -1 if value < prev else 0
            if r[3]:
                if step is None or step == 0:
                    self._trend_dir, self._trend_count = 0, 1
                elif step == self._trend_dir:
                    self._trend_count += 1
                else:
                    self._trend_dir, self._trend_count = step, 2
                if self._trend_count >= self._trend:
                    self._fire(
                        out, 3, self._trend, ", rising" if self._trend_dir > 0 else ", falling"
                    )
                    self._trend_dir = self._trend_count = 0
            if r[4]:
                if step is None or step == 0:
                    self._alt_dir, self._alt_count = 0, 1
                elif self._alt_dir != 0 and step == -self._alt_dir:
                    self._alt_dir = step
                    self._alt_count += 1
                else:
                    self._alt_dir, self._alt_count = step, 2
                if self._alt_count >= self._alt:
                    self._fire(out, 4, self._alt)
                    self._alt_dir = self._alt_count = 0
        self._prev = value

        if r[5]:
            flag = side if band >= 2 else 0
            window = self._w2
            if len(window) == self._b2:
                old = window.popleft()
                if old > 0:
                    self._w2_up -= 1
                elif old < 0:
                    self._w2_down -= 1
            window.append(flag)
            if flag > 0:
                self._w2_up += 1
            elif flag < 0:
                self._w2_down += 1
            if (self._w2_up if flag > 0 else self._w2_down if flag < 0 else 0) >= self._a2:
                span = len(window) - next(i for i, f in enumerate(window) if f == flag)
                self._fire(out, 5, span, ", above" if flag > 0 else ", below")
                window.clear()
                self._w2_up = self._w2_down = 0

        if r[6]:
            flag = side if band >= 1 else 0
            window = self._w1
            if len(window) == self._b1:
                old = window.popleft()
                if old > 0:
                    self._w1_up -= 1
                elif old < 0:
                    self._w1_down -= 1
            window.append(flag)
            if flag > 0:
                self._w1_up += 1
            elif flag < 0:
                self._w1_down += 1
            if (self._w1_up if flag > 0 else self._w1_down if flag < 0 else 0) >= self._a1:
                span = len(window) - next(i for i, f in enumerate(window) if f == flag)
                self._fire(out, 6, span, ", above" if flag > 0 else ", below")
                window.clear()
                self._w1_up = self._w1_down = 0

        if r[7]:
            self._in_count = self._in_count + 1 if band == 0 else 0
            if self._in_count >= self._within:
                self._fire(out, 7, self._within)
                self._in_count = 0

        if r[8]:
            self._out_count = self._out_count + 1 if band >= 1 else 0
            if self._out_count >= self._outside:
                self._fire(out, 8, self._outside)
                self._out_count = 0
        return out


class RangeRule:
    """Rule 1 on the moving-range or range chart: a spread above its UCL (or below a LCL > 0)."""

    __slots__ = ("_lcl", "_name", "_ucl")

    def __init__(self, ucl: Any, lcl: Any, name: str) -> None:
        self._ucl = ucl
        self._lcl = lcl
        self._name = name

    def check(self, spread: Any, index: int, first: int, refs: Refs) -> Violation | None:
        """The violation if ``spread`` lies beyond the range chart's limits."""
        if spread > self._ucl:
            return range_violation(self._name, True, index, first, refs)
        if spread < self._lcl:
            return range_violation(self._name, False, index, first, refs)
        return None
