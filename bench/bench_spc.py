"""SPC core, first part: rule evaluation per reading, and capability over 1,000,000 readings.

Rule evaluation: ``Monitor.feed`` with every Nelson rule and the moving-range chart in force
(and again with CUSUM + EWMA), timed reading by reading with ``perf_counter_ns``; p50/p99 in µs.
Baseline: the least a station could do per reading -- two exact Decimal comparisons with the
control limits (rule 1 alone) in the same loop -- measured interleaved in the same run. The
p99 is also shown against the 50 ms verdict budget of the measure screen.

Capability: ``capability()`` (n, mean, sigma within and overall, Cp/Cpk/Pp/Ppk) over 1,000,000
readings held in memory as the decimal strings the store gives back, vs the same formulas in
numpy (``np.array(strings, dtype=float)``, mean, std(ddof=1), mean |diff| / d2, the indices) over
the same strings. Each side runs ``--rounds`` times alternately; the best time of each is
compared. The Anderson-Darling note is timed on its own (it is computed up to 100,000 readings).
numpy is a bench/test dependency only: ``pip install numpy``.

    python bench/bench_spc.py [--readings 1000000] [--feed 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import time
from decimal import Decimal

from inspect_station.spc import (
    CusumSettings,
    EwmaSettings,
    Monitor,
    RuleSet,
    SpcSettings,
    capability,
    derive_limits,
)
from inspect_station.spc.capability import NORMALITY_MAX_N

LSL, USL = Decimal("119.90"), Decimal("120.10")


def readings(count: int, seed: int = 1) -> list[str]:
    """Caliper readings of an in-control process, as decimal strings with 3 decimals."""
    rng = random.Random(seed)
    return [f"{rng.gauss(120.0, 0.02):.3f}" for _ in range(count)]


def percentile(sorted_values: list[int], q: float) -> float:
    """The q-quantile (0..1) of already sorted nanoseconds, in µs."""
    index = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return sorted_values[index] / 1000


def bench_rules(count: int, blocks: int) -> None:
    """Per-reading cost of the monitor vs two Decimal comparisons, interleaved in blocks."""
    data = [(f"r{i}", Decimal(v)) for i, v in enumerate(readings(count + 100, seed=2))]
    base = derive_limits(
        data[:100],
        SpcSettings(baseline=25),
        part_number="BRK-1042",
        characteristic="1",
        unit="mm",
        resolution=Decimal("0.001"),
        effective_from="2026-11-25T09:00:00Z",
        reason="bench",
    )
    detectors = base.model_copy(
        update={"cusum": CusumSettings(), "ewma": EwmaSettings(), "rules": RuleSet()}
    )
    stream = data[100:]
    ucl, lcl = base.ucl, base.lcl
    timings: dict[str, list[int]] = {"raw": [], "nelson": [], "nelson+cusum+ewma": []}
    clock = time.perf_counter_ns
    per_block = max(1, count // blocks)
    alarms = 0
    monitors = {"nelson": Monitor(base), "nelson+cusum+ewma": Monitor(detectors)}
    for block in range(blocks):
        chunk = stream[block * per_block : (block + 1) * per_block]
        raw = timings["raw"]
        for _, value in chunk:
            t0 = clock()
            flagged = value > ucl or value < lcl
            raw.append(clock() - t0)
            alarms += flagged
        for name, monitor in monitors.items():
            out = timings[name]
            for ref, value in chunk:
                t0 = clock()
                monitor.feed(ref, value)
                out.append(clock() - t0)
    print(f"rule evaluation per reading ({len(timings['raw']):,} readings, {blocks} blocks)")
    raw_sorted = sorted(timings["raw"])
    raw50, raw99 = percentile(raw_sorted, 0.50), percentile(raw_sorted, 0.99)
    print(f"  raw baseline (2 Decimal comparisons): p50 {raw50:7.2f} µs  p99 {raw99:7.2f} µs")
    for name in ("nelson", "nelson+cusum+ewma"):
        values = sorted(timings[name])
        p50, p99 = percentile(values, 0.50), percentile(values, 0.99)
        print(
            f"  {name:<18} p50 {p50:7.2f} µs  p99 {p99:7.2f} µs  "
            f"ratio raw/monitor p50 {raw50 / p50:.3f}  p99 = {p99 / 50_000:.5f} of the 50 ms budget"
        )


def numpy_capability(strings: list[str]) -> tuple[float, ...]:
    """The same formulas in numpy: mean, s, MR-bar/d2, Cp, Cpk, Pp, Ppk."""
    import numpy as np

    xs = np.array(strings, dtype=float)
    mean = xs.mean()
    sd = xs.std(ddof=1)
    within = np.abs(np.diff(xs)).mean() / 1.128
    lo, hi = float(LSL), float(USL)
    cp = (hi - lo) / (6 * within)
    cpk = min(hi - mean, mean - lo) / (3 * within)
    pp = (hi - lo) / (6 * sd)
    ppk = min(hi - mean, mean - lo) / (3 * sd)
    return mean, sd, within, cp, cpk, pp, ppk


def bench_capability(count: int, rounds: int) -> None:
    """capability() vs numpy over the same decimal strings, best of ``rounds``."""
    strings = readings(count)
    ours: list[float] = []
    theirs: list[float] = []
    result = reference = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = capability(strings, lower=LSL, upper=USL, digits=5, normality=False)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        reference = numpy_capability(strings)
        theirs.append(time.perf_counter() - t0)
    assert result is not None and reference is not None
    assert abs(float(result.mean) - reference[0]) < 1e-5
    assert abs(float(result.sigma_overall) - reference[1]) < 1e-5
    print(f"capability over {count:,} readings (decimal strings in memory), best of {rounds}")
    print(f"  capability()  {min(ours):7.3f} s   (Cpk {result.cpk}, Ppk {result.ppk})")
    print(
        f"  numpy         {min(theirs):7.3f} s   (Cpk {reference[4]:.2f}, Ppk {reference[6]:.2f})"
    )
    print(f"  ratio numpy/capability {min(theirs) / min(ours):.3f}")
    n = min(count, NORMALITY_MAX_N)
    t0 = time.perf_counter()
    note = capability(strings[:n], lower=LSL, upper=USL, digits=5).normality
    print(f"  with the Anderson-Darling note over {n:,}: {time.perf_counter() - t0:.3f} s ({note})")


def main() -> None:
    """Run both parts and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readings", type=int, default=1_000_000, help="readings for capability")
    parser.add_argument("--feed", type=int, default=20_000, help="readings fed to the monitor")
    parser.add_argument("--blocks", type=int, default=5, help="interleaved blocks (rules)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (capability)")
    args = parser.parse_args()
    bench_rules(args.feed, args.blocks)
    bench_capability(args.readings, args.rounds)


if __name__ == "__main__":
    main()
