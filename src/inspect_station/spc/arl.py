"""Alarm fatigue made visible: the in-control average run length (ARL0) of a rule set.

ARL0 is the expected number of plotted points between false alarms of a process that is in
control and normal, with limits equal to the true centre and sigma. Two methods, chosen per
rule set and reported with the result:

- **Markov chain (exact)** when only zone rules are in force -- rules 1, 2, 5, 6, 7, 8 -- on an
  individuals or X-bar chart, plus, for X-bar/R, rule 1 on the R chart: each plotted point falls
  in one of the zones (centre ± 1, 2, 3 sigma, either side) with normal probabilities; the state
  is what each rule remembers (run lengths, the last few flags); states are enumerated from the
  fresh start and ``ARL0 = sum over t of P(no signal in the first t points)``, summed until the
  tail is geometric and then closed in form. The R chart signals independently of the subgroup
  mean (for normal data the mean and the range are independent), with a probability computed
  from the exact distribution of the range of n normals (Simpson's rule).
- **Simulation** otherwise (rules 3 and 4 compare consecutive values, the moving range overlaps
  consecutive points, CUSUM and EWMA carry continuous state): the station's own rule engine
  (``ZoneRules``, ``RangeRule``, ``Cusum``, ``Ewma``) is fed pseudo-random normal points from a
  fixed seed, restarted after every alarm, until the standard error is 2 % of the estimate or a
  point budget is spent. Deterministic: the same rule set always gives the same figure.

Both are cached per rule set. Published checks (tests/spc/test_arl.py): rule 1 alone 370.40;
Western Electric rules 91.75 (Champ & Woodall, Technometrics 29(4), 1987).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from inspect_station.spc.config import CusumSettings, EwmaSettings, RuleSet
from inspect_station.spc.constants import constants
from inspect_station.spc.detectors import Cusum, Ewma
from inspect_station.spc.limits import LimitVersion
from inspect_station.spc.rules import RangeRule, ZoneRules

ZONE_RULES = frozenset({1, 2, 5, 6, 7, 8})
"""Rules the exact Markov chain covers."""
SEED = 20_261_125
"""Seed of the simulation's pseudo-random numbers."""
TARGET_RELATIVE_ERROR = 0.02
"""The simulation stops once its standard error is this fraction of the estimate..."""
POINT_BUDGET = 3_000_000
"""...or after this many simulated points."""
MIN_RUNS = 400
"""...but not before this many alarms."""


@dataclass(frozen=True)
class Arl:
    """The expected in-control run length between false alarms, and how it was found."""

    points: float
    """ARL0 in plotted points."""
    readings: float
    """ARL0 in readings (points times the subgroup size)."""
    method: str
    """'markov-chain' (exact) or 'simulation'."""
    standard_error: float | None
    """Standard error of a simulated figure (None for the exact one)."""
    runs: int | None
    """Simulated alarms the figure averages (None for the exact one)."""
    states: int | None
    """States of the Markov chain (None for a simulation)."""

    @property
    def false_alarm_rate(self) -> float:
        """Expected false alarms per plotted point (1 / ARL0)."""
        return 1.0 / self.points

    def sentence(self) -> str:
        """One sentence for the supervisor locking limits."""
        if math.isinf(self.points):
            return "With no rule, range chart or detector in force, these settings never alarm."
        how = (
            "exact Markov chain"
            if self.method == "markov-chain"
            else f"simulation, ± {self.standard_error:.1f}"
        )
        unit = "point" if self.points == self.readings else "subgroup"
        return (
            f"With no real change, these rules raise a false alarm every {self.points:.1f} "
            f"{unit}s on average ({100 * self.false_alarm_rate:.2f} % of {unit}s; {how})."
        )

    def record(self) -> dict[str, Any]:
        """The figure as written next to a limit version (decimal strings)."""
        never = math.isinf(self.points)
        return {
            "arl0_points": None if never else f"{self.points:.2f}",
            "arl0_readings": None if never else f"{self.readings:.2f}",
            "false_alarm_rate": f"{self.false_alarm_rate:.6f}",
            "method": self.method,
            "standard_error": None if self.standard_error is None else f"{self.standard_error:.2f}",
            "runs": self.runs,
            "states": self.states,
        }


def _phi(z: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def range_false_alarm(n: int) -> float:
    """P(the range of n standard normals lies beyond D3·d2 .. D4·d2): an R chart's alpha."""
    table = constants(n)
    d2 = float(table.d2)
    upper = float(table.d4) * d2
    lower = float(table.d3) * d2
    return 1.0 - range_cdf(n, upper) + (range_cdf(n, lower) if lower > 0 else 0.0)


def range_cdf(n: int, w: float, intervals: int = 4000) -> float:
    """P(range of n standard normals <= w) = n ∫ phi(x) (Phi(x+w) - Phi(x))^(n-1) dx."""
    if w <= 0:
        return 0.0
    a, b = -9.0, 9.0
    h = (b - a) / intervals
    total = 0.0
    for i in range(intervals + 1):
        x = a + i * h
        density = math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
        value = density * (_phi(x + w) - _phi(x)) ** (n - 1)
        weight = 1 if i in (0, intervals) else (4 if i % 2 else 2)
        total += weight * value
    return n * total * h / 3


def _zones() -> list[tuple[int, int, float]]:
    """(side, band, probability) of a standard normal point; band 3 is beyond 3 sigma."""
    cuts = [0.0, 1.0, 2.0, 3.0, math.inf]
    out = []
    for side in (1, -1):
        for band in range(4):
            p = _phi(cuts[band + 1]) - _phi(cuts[band])
            out.append((side, band, p))
    return out


def _markov(rules: RuleSet, range_alpha: float) -> tuple[float, int]:
    """Exact ARL0 (points) and the number of transient states, for zone rules only."""
    on = set(rules.enabled)
    same, (a2, b2), (a1, b1) = rules.same_side, rules.beyond_two, rules.beyond_one
    within, outside = rules.within_one, rules.outside_one
    zones = _zones()

    def step(state: tuple, side: int, band: int) -> tuple | None:
        run_side, run_len, w2, w1, inside, out = state
        if 1 in on and band == 3:
            return None
        if 2 in on:
            run_len = run_len + 1 if side == run_side else 1
            run_side = side
            if run_len >= same:
                return None
        if 5 in on:
            flag = side if band >= 2 else 0
            window = (*w2, flag)
            if flag and window.count(flag) >= a2:
                return None
            w2 = window[-(b2 - 1) :] if b2 > 1 else ()
        if 6 in on:
            flag = side if band >= 1 else 0
            window = (*w1, flag)
            if flag and window.count(flag) >= a1:
                return None
            w1 = window[-(b1 - 1) :] if b1 > 1 else ()
        if 7 in on:
            inside = inside + 1 if band == 0 else 0
            if inside >= within:
                return None
        if 8 in on:
            out = out + 1 if band >= 1 else 0
            if out >= outside:
                return None
        return (run_side, run_len, w2, w1, inside, out)

    start = (0, 0, (), (), 0, 0)
    index = {start: 0}
    transitions: list[list[tuple[int, float]]] = []
    queue = [start]
    keep = 1.0 - range_alpha
    while len(transitions) < len(queue):
        state = queue[len(transitions)]
        row: dict[int, float] = {}
        for side, band, p in zones:
            nxt = step(state, side, band)
            if nxt is None:
                continue
            j = index.get(nxt)
            if j is None:
                j = index[nxt] = len(queue)
                queue.append(nxt)
            row[j] = row.get(j, 0.0) + p * keep
        transitions.append(list(row.items()))
    longest = max(same, b2, b1, within, outside)
    return _absorption_time(transitions, longest), len(transitions)


def _absorption_time(transitions: list[list[tuple[int, float]]], memory: int) -> float:
    """Expected steps to absorption from state 0: sum of survival, closed by its geometric tail.

    The tail is taken as geometric once the one-step survival ratio has stayed the same (to
    1e-14) for ``memory`` + 20 steps in a row, and not before 3·``memory`` steps: until every
    rule can have fired, the ratio is constant for the wrong reason.
    """
    size = len(transitions)
    mass = [0.0] * size
    mass[0] = 1.0
    total = 0.0
    survival = 1.0
    previous_ratio = None
    stable = 0
    for t in range(1_000_000):
        total += survival
        nxt = [0.0] * size
        for i, m in enumerate(mass):
            if m:
                for j, p in transitions[i]:
                    nxt[j] += m * p
        new_survival = math.fsum(nxt)
        if new_survival <= 0.0:
            return total
        ratio = new_survival / survival
        mass, survival = nxt, new_survival
        if previous_ratio is not None and abs(ratio - previous_ratio) < 1e-14:
            stable += 1
        else:
            stable = 0
        previous_ratio = ratio
        if stable > memory + 20 and t > 3 * memory and ratio < 1:
            return total + survival / (1.0 - ratio)
    raise ArithmeticError("the Markov chain did not settle")  # pragma: no cover


def _simulate(
    rules: RuleSet,
    n: int,
    cusum: CusumSettings | None,
    ewma: EwmaSettings | None,
    budget: int,
) -> tuple[float, float, int]:
    """(ARL0, standard error, alarms) by feeding the rule engine seeded normal points."""
    rng = random.Random(SEED)
    gauss = rng.gauss
    table = constants(2 if n == 1 else n)
    d2 = float(table.d2)
    ucl_r, lcl_r = float(table.d4) * d2, float(table.d3) * d2
    root_n = math.sqrt(n)
    lengths: list[int] = []
    spent = 0
    while True:
        zones = ZoneRules(0.0, 1.0, rules)
        spread = RangeRule(ucl_r, lcl_r, "range") if rules.range_chart else None
        cus = Cusum(0.0, 1.0, float(cusum.k), float(cusum.h)) if cusum else None
        ew = Ewma(0.0, 1.0, float(ewma.lam), float(ewma.width)) if ewma else None
        previous = gauss(0.0, 1.0) if n == 1 else 0.0
        length = 0
        while True:
            length += 1
            if n == 1:
                x = gauss(0.0, 1.0)
                r = abs(x - previous)
                previous = x
                has_range = length > 1
            else:
                group = [gauss(0.0, 1.0) for _ in range(n)]
                x = math.fsum(group) / root_n
                r = max(group) - min(group)
                has_range = True
            alarm = bool(zones.feed(x, ()))
            if spread is not None and has_range and spread.check(r, 0, 0, ()) is not None:
                alarm = True
            if cus is not None and cus.feed(x, ()) is not None:
                alarm = True
            if ew is not None and ew.feed(x, ()) is not None:
                alarm = True
            if alarm:
                break
        lengths.append(length)
        spent += length
        runs = len(lengths)
        if runs >= MIN_RUNS:
            mean = spent / runs
            var = math.fsum((v - mean) ** 2 for v in lengths) / (runs - 1)
            se = math.sqrt(var / runs)
            if se <= TARGET_RELATIVE_ERROR * mean or spent >= budget:
                return mean, se, runs


@lru_cache(maxsize=64)
def _cached(
    rules: RuleSet,
    n: int,
    cusum: CusumSettings | None,
    ewma: EwmaSettings | None,
    budget: int,
) -> Arl:
    on = set(rules.enabled)
    exact_range = n > 1 or not rules.range_chart
    if on <= ZONE_RULES and exact_range and cusum is None and ewma is None:
        alpha = range_false_alarm(n) if n > 1 and rules.range_chart else 0.0
        points, states = _markov(rules, alpha)
        return Arl(points, points * n, "markov-chain", None, None, states)
    points, se, runs = _simulate(rules, n, cusum, ewma, budget)
    return Arl(points, points * n, "simulation", se, runs, None)


def in_control_arl(
    rules: RuleSet,
    subgroup_size: int = 1,
    *,
    cusum: CusumSettings | None = None,
    ewma: EwmaSettings | None = None,
    budget: int = POINT_BUDGET,
) -> Arl:
    """ARL0 of the rules, range chart and detectors in force for this subgroup size."""
    if not 1 <= subgroup_size <= 10:
        raise ValueError(f"subgroup size {subgroup_size} is outside 1..10")
    if not rules.enabled and not rules.range_chart and cusum is None and ewma is None:
        return Arl(math.inf, math.inf, "markov-chain", None, None, 0)
    return _cached(rules, subgroup_size, cusum, ewma, budget)


def limits_arl(limits: LimitVersion, *, budget: int = POINT_BUDGET) -> Arl:
    """ARL0 of everything a limit version puts in force (rules, range chart, CUSUM, EWMA)."""
    return in_control_arl(
        limits.rules, limits.subgroup_size, cusum=limits.cusum, ewma=limits.ewma, budget=budget
    )
