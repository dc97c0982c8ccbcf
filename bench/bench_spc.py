"""SPC: rule evaluation per reading, capability in memory, and ``spc report`` end to end.

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
numpy is a runtime dependency of the report (imported by it only).

End to end: a station record holding ``--report-readings`` variable readings of part BRK-1042
revision C (characteristics 1, 2, 3 of one part after another, lots of 5,000 parts, one
correction every 1,000 parts), recorded in large transactions through
``LocalStore.transaction()`` with the bodies ``Recorder.measure`` writes (built once; kept
with ``--dir``). Timed: ``spc_report`` over the part through the real path -- the store, the
named page queries (``store.spc_reads``), the report -- once with the figures alone
(``rules=False``) and once with the Nelson rules replayed on every reading as ``spc report``
does (the report a user runs). Baseline: the same readings in force fetched with one raw
``sqlite3`` query and the same formulas in numpy per characteristic. Alternating, best of
``--rounds``; the goal is a ratio raw/report >= 0.5 with the rules. The report's profile (with
the rules) is printed after the figures. ``--report-only`` skips the first two parts.

    python bench/bench_spc.py [--readings 1000000] [--feed 20000] [--rounds 3]
        [--report-readings 1000000] [--dir PATH] [--report-only]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import pstats
import random
import sqlite3
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from inspect_station.config import GaugeAsset
from inspect_station.locations import shipped_specs_dir
from inspect_station.recording import ManualSource, Recorder, raw_text
from inspect_station.records import LocalSource
from inspect_station.reports.spc import ReportScope, spc_report
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
from inspect_station.spec import PartSpec, SpecLibrary
from inspect_station.store import LocalStore, Transaction

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


# -- end to end: spc report over a station record -------------------------------------------

PART = "BRK-1042"
CALIPER = GaugeAsset(
    asset="CAL-0042",
    profile="mitutoyo-ascii",
    port="loop://",
    unit="mm",
    serial_number="A1234567",
    certificate="CERT-2026-0042",
    calibrated_on=dt.date(2026, 3, 1),
    calibration_due=dt.date(2099, 3, 1),
)
PARTS_PER_LOT = 5_000


def _values(rng: random.Random) -> dict[str, str]:
    """One part's readings of characteristics 1, 2 and 3 (an in-control process)."""
    return {
        "1": f"{rng.gauss(120.0, 0.02):.2f}",
        "2": f"{rng.gauss(12.009, 0.002):.3f}",
        "3": f"{abs(rng.gauss(0.02, 0.006)):.3f}",
    }


def build_record(path: Path, readings: int) -> None:
    """Record ``readings`` variable readings of BRK-1042 C into a new station file."""
    spec: PartSpec = SpecLibrary.load([shipped_specs_dir()]).get("BRK-1042@C")
    rng = random.Random(5)
    with LocalStore(path, "BENCH-SPC") as store:
        recorder = Recorder(store)
        caliper = ManualSource("bench (gauge simulated)")
        evaluations: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}
        """(characteristic, value) -> its evaluation: values repeat at a gauge's resolution."""

        def measure(
            tx: Transaction,
            inspection: str,
            lot: str,
            serial: str,
            char: str,
            value: str,
            supersedes: str | None = None,
        ) -> str:
            gauge = char != "3"
            known = evaluations.get((char, value))
            if known is None:
                ch, evaluation = recorder.evaluate(spec, char, value, None, caliper)
                known = evaluations[(char, value)] = (ch, evaluation.record())
            ch, evaluated = known
            body = {
                **spec.identity(),
                "inspection": inspection,
                "lot": lot,
                "serial": serial,
                "characteristic": ch.id,
                "characteristic_name": ch.name,
                "kind": ch.kind.value,
                "class": ch.class_.value,
                **evaluated,
                "inspector": "bench",
                "source": "gauge" if gauge else "manual",
                "manual_reason": None if gauge else "bench",
                "gauge": CALIPER.trace() if gauge else None,
                "raw": raw_text(f"01A+{value}\r".encode()) if gauge else None,
                "supersedes": supersedes,
                "reason": "re-measured" if supersedes else None,
            }
            return str(tx.append("measurement", body)["uuid"])

        with store.transaction() as tx:
            recorder._ensure_spec(tx, spec)
        parts = -(-readings // 3)
        written = 0
        for start in range(0, parts, 2_000):
            with store.transaction() as tx:
                for part in range(start, min(parts, start + 2_000)):
                    lot = f"L-{part // PARTS_PER_LOT:04d}"
                    if part % PARTS_PER_LOT == 0:
                        tx.append(
                            "lot_opened", {**spec.identity(), "lot": lot, "inspector": "bench"}
                        )
                    serial = f"S{part:07d}"
                    opened = tx.append(
                        "inspection_opened",
                        {**spec.identity(), "lot": lot, "serial": serial, "inspector": "bench"},
                    )
                    for char, value in _values(rng).items():
                        if written == readings:
                            break
                        uuid = measure(tx, opened["uuid"], lot, serial, char, value)
                        written += 1
                        if part % 1_000 == 999 and char == "1":
                            measure(tx, opened["uuid"], lot, serial, "1", "120.00", uuid)


D2 = 1.128


def raw_report(path: Path) -> dict[str, tuple[float, ...]]:
    """The baseline: the readings in force by one sqlite3 query, the formulas in numpy."""
    import numpy as np

    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT characteristic, value_in_spec_unit, lower, upper FROM measurements m "
            "WHERE part_number = ? AND NOT EXISTS (SELECT 1 FROM measurements c "
            "WHERE c.supersedes = m.uuid) ORDER BY seq",
            (PART,),
        ).fetchall()
    finally:
        conn.close()
    by_char: dict[str, list[str]] = {}
    limits: dict[str, tuple[Any, Any]] = {}
    for char, value, lower, upper in rows:
        by_char.setdefault(char, []).append(value)
        limits[char] = (lower, upper)
    out = {}
    for char, values in by_char.items():
        xs = np.array(values, dtype=float)
        mean, sd = xs.mean(), xs.std(ddof=1)
        within = np.abs(np.diff(xs)).mean() / D2
        lo, hi = (None if v is None else float(v) for v in limits[char])
        ups = [(hi - mean) / (3 * s) for s in (within, sd)] if hi is not None else [None] * 2
        downs = [(mean - lo) / (3 * s) for s in (within, sd)] if lo is not None else [None] * 2
        cpk, ppk = (min(v for v in pair if v is not None) for pair in zip(ups, downs, strict=True))
        out[char] = (len(xs), mean, sd, within, cpk, ppk)
    return out


def bench_report(path: Path, readings: int, rounds: int) -> None:
    """spc_report through the store vs raw sqlite3 + numpy, best of ``rounds``."""
    if not path.exists():
        t0 = time.perf_counter()
        build_record(path, readings)
        print(f"built {path} ({readings:,} readings) in {time.perf_counter() - t0:.1f} s")
    times: dict[str, list[float]] = {"raw": [], "figures": [], "with rules": []}
    reference: dict[str, tuple[float, ...]] = {}
    results: dict[str, Any] = {}
    with LocalStore.open_readonly(path) as store:
        for _ in range(rounds):
            t0 = time.perf_counter()
            reference = raw_report(path)
            times["raw"].append(time.perf_counter() - t0)
            for name, rules in (("figures", False), ("with rules", True)):
                t0 = time.perf_counter()
                results[name] = spc_report(
                    LocalSource(store), ReportScope(part_number=PART), rules=rules
                )
                times[name].append(time.perf_counter() - t0)
        report = results["with rules"]
        total = sum(c.capability.n for c in report.characteristics)
        for c in report.characteristics:
            n, mean, sd, within, cpk, ppk = reference[c.id]
            assert c.capability.n == n, (c.id, c.capability.n, n)
            assert abs(float(c.capability.mean) - mean) < 1e-4
            assert abs(float(c.capability.sigma_overall) - sd) < 1e-4
            assert abs(float(c.capability.sigma_within) - within) < 1e-4
            assert abs(float(c.capability.cpk) - cpk) <= 0.0051
            assert abs(float(c.capability.ppk) - ppk) <= 0.0051
        raw = min(times["raw"])
        print(f"spc report end to end over {total:,} readings in force of {PART}, best of {rounds}")
        print(f"  raw sqlite3 + numpy   {raw:7.3f} s")
        for name in ("figures", "with rules"):
            best = min(times[name])
            print(f"  spc_report {name:<10} {best:7.3f} s   ratio raw/report {raw / best:.3f}")
        alarms = sum(len(c.violations) for c in report.characteristics)
        print(
            f"  ({alarms:,} violations replayed; "
            + ", ".join(
                f"{c.id}: Cpk {c.capability.cpk} Ppk {c.capability.ppk}"
                for c in report.characteristics
            )
            + ")"
        )
        profiler = cProfile.Profile()
        profiler.enable()
        spc_report(LocalSource(store), ReportScope(part_number=PART), rules=True)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(10)
        print("  where the report with the rules spends its time (tottime):")
        for line in text.getvalue().splitlines():
            if line.strip() and line.strip()[0].isdigit():
                print("   ", line.strip()[:150])


def main() -> None:
    """Run both parts and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readings", type=int, default=1_000_000, help="readings for capability")
    parser.add_argument("--feed", type=int, default=20_000, help="readings fed to the monitor")
    parser.add_argument("--blocks", type=int, default=5, help="interleaved blocks (rules)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (capability)")
    parser.add_argument(
        "--report-readings", type=int, default=1_000_000, help="readings for spc report"
    )
    parser.add_argument("--dir", type=Path, default=None, help="keep the station file here")
    parser.add_argument("--report-only", action="store_true", help="only spc report end to end")
    args = parser.parse_args()
    if not args.report_only:
        bench_rules(args.feed, args.blocks)
        bench_capability(args.readings, args.rounds)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        bench_report(args.dir / f"spc-{args.report_readings}.db", args.report_readings, args.rounds)
    else:
        with tempfile.TemporaryDirectory() as folder:
            bench_report(Path(folder) / "spc.db", args.report_readings, args.rounds)


if __name__ == "__main__":
    main()
