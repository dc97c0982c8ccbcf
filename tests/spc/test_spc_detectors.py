"""CUSUM and EWMA against Montgomery's worked examples (Introduction to SQC, ex. 9.1 / 9.2)."""

from __future__ import annotations

from decimal import Decimal

from spckit import limits

from inspect_station.spc import CusumSettings, EwmaSettings, RuleSet, replay
from inspect_station.spc.detectors import Cusum, Ewma

# Montgomery, table 9.1: 20 observations from N(10, 1), then 10 from N(11, 1).
DATA = [
    "9.45", "7.99", "9.29", "11.66", "12.16", "10.18", "8.04", "11.46", "9.20", "10.34",
    "9.03", "11.47", "10.51", "9.40", "10.08", "9.37", "10.62", "10.31", "8.52", "10.84",
    "10.90", "9.33", "12.29", "11.50", "10.60", "11.08", "10.38", "11.62", "11.31", "10.52",
]  # fmt: skip
READINGS = [(f"x{i + 1}", Decimal(v)) for i, v in enumerate(DATA)]


def test_tabular_cusum_signals_at_observation_29_with_c_plus_5_28_over_7_periods():
    cusum = Cusum(Decimal(10), Decimal(1), Decimal("0.5"), Decimal(5))
    signals = []
    uppers = []
    for ref, value in READINGS:
        found = cusum.feed(value, (ref,))
        uppers.append(cusum.values[0])
        if found:
            signals.append(found)
    assert uppers[:5] == [Decimal(0), Decimal(0), Decimal(0), Decimal("1.16"), Decimal("2.82")]
    assert uppers[27] == Decimal("4.47")
    first = signals[0]
    # C+ at 29 is 5.28 > H = 5, and it has been positive for N+ = 7 periods (23..29).
    assert (first.point, first.first) == (28, 22)
    assert first.refs == tuple(f"x{i}" for i in range(23, 30))
    # The new mean is estimated as 10 + 0.5 + 5.28/7 = 11.25.
    assert first.sentence.endswith("the mean appears to have shifted up, to about 11.2543.")


def test_ewma_matches_the_worked_example_and_signals_at_observation_29():
    ewma = Ewma(Decimal(10), Decimal(1), Decimal("0.1"), Decimal("2.7"))
    zs, signals = [], []
    for ref, value in READINGS:
        found = ewma.feed(value, (ref,))
        zs.append(ewma.value)
        if found:
            signals.append(found.point)
    assert zs[0] == Decimal("9.945") and zs[1] == Decimal("9.7495")
    # UCL at i = 1: 10 + 2.7·sqrt(0.1/1.9·(1 - 0.9²)) = 10.27 exactly.
    assert ewma.width(1) == Decimal("0.27")
    assert abs(zs[27] - Decimal("10.5731")) < Decimal("0.0001")
    assert signals[0] == 28


def test_the_monitor_runs_the_detectors_from_the_limit_version():
    lim = limits(
        rules=RuleSet(enabled=[], range_chart=False),
        cusum=CusumSettings(k=Decimal("0.5"), h=Decimal(5)),
        ewma=EwmaSettings(lam=Decimal("0.1"), width=Decimal("2.7")),
        digits=2,
        centre="10",
        sigma="1",
    )
    result = replay(READINGS, lim)
    assert [(v.rule, v.point) for v in result.violations] == [("cusum", 28), ("ewma", 28)]


def test_a_cusum_on_subgroup_means_is_exact_and_starts_afresh_after_a_signal():
    # Subgroups of 2 around 10 with sigma of the mean 1: each subgroup mean 11 adds 0.5 to C+.
    lim = limits(
        subgroup_size=2,
        rules=RuleSet(enabled=[], range_chart=False),
        cusum=CusumSettings(k=Decimal("0.5"), h=Decimal(5)),
        digits=2,
        centre="10",
        sigma="1",
    )
    readings = [(f"r{i}", Decimal("10.9") if i % 2 else Decimal("11.1")) for i in range(48)]
    result = replay(readings, lim)
    # C+ = 0.5·k after k subgroups: above 5 at the 11th, and again 11 subgroups later.
    assert [v.point for v in result.violations] == [10, 21]
